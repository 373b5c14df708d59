//! Test support: an environment given as a list, for the `from_lookup` constructors of settings.

/// Looks `name` up in `vars`, as `std::env::var(name).ok()` would in an environment holding them.
pub(crate) fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}
