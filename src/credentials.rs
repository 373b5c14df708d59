//! The execution role's credentials, read once at start from the variables Lambda defines.

use aws_credential_types::Credentials;

/// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional `AWS_SESSION_TOKEN` through
/// `var` (the process environment in the shells, a map in tests). The error names what is missing.
///
/// ```
/// use edge_signer::credentials::from_lookup;
/// let creds = from_lookup(|name| match name {
///     "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".to_string()),
///     "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
///     _ => None,
/// }).unwrap();
/// assert_eq!(creds.session_token(), None);
/// assert!(from_lookup(|_| None).unwrap_err().contains("AWS_ACCESS_KEY_ID"));
/// ```
pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Credentials, String> {
    let present = |name: &str| var(name).filter(|v| !v.is_empty());
    match (present("AWS_ACCESS_KEY_ID"), present("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key), Some(secret)) => Ok(Credentials::new(
            access_key,
            secret,
            present("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        (access_key, secret) => {
            let missing = [
                ("AWS_ACCESS_KEY_ID", access_key),
                ("AWS_SECRET_ACCESS_KEY", secret),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.is_none().then_some(name))
            .collect::<Vec<_>>();
            Err(format!(
                "missing credentials: {} not set (the execution role's credentials are expected there)",
                missing.join(" and ")
            ))
        }
    }
}

/// [`from_lookup`] over the process environment.
pub fn from_env() -> Result<Credentials, String> {
    from_lookup(|name| std::env::var(name).ok())
}
