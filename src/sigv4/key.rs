//! Step 3 of SigV4: the signing key, derived from the secret for one day, region and service, and
//! a small cache so that the hot path derives it once a day instead of on every request.

use super::entries::Entries;
use super::error::SigningError;
use super::params::SigningParams;
use super::scope::{check_credentials, check_params};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// HMAC-SHA256 keyed with a signing key: the state after the key's inner and outer pads, so that
/// a cached key costs a copy, not the two blocks of keying, per signature.
pub(crate) type SigningMac = Hmac<Sha256>;

/// How many (secret, date, region, service) keys the cache holds. A function signs for one or two
/// scopes; around midnight it briefly needs the keys of two days.
const CAPACITY: usize = 8;

fn keyed(key: &[u8]) -> SigningMac {
    SigningMac::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Derives the signing key, as the specification names the steps:
///
/// ```text
/// kDate    = HMAC("AWS4" + secret, date)       date = YYYYMMDD
/// kRegion  = HMAC(kDate, region)
/// kService = HMAC(kRegion, service)
/// kSigning = HMAC(kService, "aws4_request")
/// ```
///
/// ```
/// // The key of the S3 documentation's examples (20130524, us-east-1, s3).
/// let key = edge_signer::sigv4::key::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3");
/// assert_eq!(hex::encode(key), "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
/// ```
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

struct Entry {
    secret: String,
    date: String,
    region: String,
    service: String,
    /// The signing key, keyed.
    mac: SigningMac,
    /// The access key id and session token last checked with this key (see
    /// [`SigningKeyCache::checked_key`]).
    access_key: String,
    token: Option<String>,
}

impl Entry {
    /// Whether this is the key of `secret` for `day` (`YYYYMMDD`), `region` and `service`.
    fn is_for(&self, secret: &str, day: &[u8], region: &str, service: &str) -> bool {
        self.date.as_bytes() == day
            && self.region == region
            && self.service == service
            && self.secret == secret
    }
}

/// Signing keys by (secret, date, region, service), so a key is derived once per day and scope.
///
/// The date is part of the lookup, so a request signed at 00:00:00 never uses the previous day's
/// key. Safe to share between threads; the lock is held only for a lookup.
///
/// ```
/// use edge_signer::sigv4::SigningKeyCache;
/// let cache = SigningKeyCache::new();
/// assert_eq!(cache.len(), 0);
/// ```
pub struct SigningKeyCache {
    entries: Entries<Entry, CAPACITY>,
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets or keys.
        f.debug_struct("SigningKeyCache")
            .field("len", &self.len())
            .finish()
    }
}

impl SigningKeyCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            entries: Entries::new(),
        }
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached signing key of `params`' scope on `day`, after the checks of what signing puts
    /// into the request from `params`: the region, the service and the access key id (the
    /// credential scope), and `token` (a header value). `Ok(None)` when the key is not cached yet:
    /// everything was checked, and [`SigningKeyCache::derive_key`] makes the key once the rest of
    /// the request has been checked too, so that a request that fails later adds no entry (and
    /// pushes out none).
    ///
    /// An entry remembers the access key id and token it was last checked with, so a function
    /// that signs with the same credentials all day checks a kilobyte of session token once, not
    /// on every signature: comparing it costs half as much as checking it again.
    pub(crate) fn checked_key(
        &self,
        params: &SigningParams<'_>,
        day: &[u8],
        token: Option<&str>,
    ) -> Result<Option<SigningMac>, SigningError> {
        let (region, service) = (params.region, params.service);
        let secret = params.credentials.secret_access_key();
        let access_key = params.credentials.access_key_id();
        let mut entries = self.entries.lock();
        let hit = entries
            .iter_mut()
            .find(|e| e.is_for(secret, day, region, service));
        if let Some(entry) = hit {
            // Its region and service were checked when it was made.
            if entry.access_key != access_key || entry.token.as_deref() != token {
                check_credentials(access_key, token)?;
                entry.access_key = access_key.to_owned();
                entry.token = token.map(str::to_owned);
            }
            return Ok(Some(entry.mac.clone()));
        }
        check_params(params, token)?;
        Ok(None)
    }

    /// Derives the signing key of `params`' scope on `day` and caches it, with the access key id
    /// and `token`, which [`SigningKeyCache::checked_key`] has checked (it returned `Ok(None)`).
    pub(crate) fn derive_key(
        &self,
        params: &SigningParams<'_>,
        day: &str,
        token: Option<&str>,
    ) -> SigningMac {
        let (region, service) = (params.region, params.service);
        let secret = params.credentials.secret_access_key();
        let mac = keyed(&signing_key(secret, day, region, service));
        let entry = Entry {
            secret: secret.to_owned(),
            date: day.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            mac: mac.clone(),
            access_key: params.credentials.access_key_id().to_owned(),
            token: token.map(str::to_owned),
        };
        self.entries
            .insert(entry, |e| e.is_for(secret, day.as_bytes(), region, service));
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_credential_types::Credentials;
    use std::time::UNIX_EPOCH;

    fn tag(mut mac: SigningMac) -> String {
        mac.update(b"x");
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key of `secret` for us-east-1 and s3 on `day`, through `cache`.
    fn key(cache: &SigningKeyCache, secret: &str, day: &str) -> Result<SigningMac, SigningError> {
        key_with(
            cache,
            &Credentials::new("AKIDEXAMPLE", secret, None, None, "test"),
            "us-east-1",
            day,
            None,
        )
    }

    fn key_with(
        cache: &SigningKeyCache,
        credentials: &Credentials,
        region: &str,
        day: &str,
        token: Option<&str>,
    ) -> Result<SigningMac, SigningError> {
        let settings = crate::sigv4::SigningSettings::default();
        let params = SigningParams {
            credentials,
            region,
            service: "s3",
            time: UNIX_EPOCH,
            settings: &settings,
        };
        match cache.checked_key(&params, day.as_bytes(), token)? {
            Some(key) => Ok(key),
            None => Ok(cache.derive_key(&params, day, token)),
        }
    }

    #[test]
    fn cached_key_equals_fresh_derivation_and_changes_at_midnight() {
        let cache = SigningKeyCache::new();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let before = tag(key(&cache, secret, "20150830").unwrap());
        let again = tag(key(&cache, secret, "20150830").unwrap());
        let after = tag(key(&cache, secret, "20150831").unwrap());
        assert_eq!(before, again);
        assert_eq!(cache.len(), 2);
        assert_eq!(
            after,
            hex::encode(hmac(&signing_key(secret, "20150831", "us-east-1", "s3"), b"x"))
        );
        assert_ne!(before, after);
    }

    #[test]
    fn a_new_secret_is_a_new_key_and_the_cache_stays_bounded() {
        let cache = SigningKeyCache::new();
        let a = tag(key(&cache, "secret-a", "20150830").unwrap());
        let b = tag(key(&cache, "secret-b", "20150830").unwrap());
        assert_ne!(a, b);
        for i in 0..20 {
            key(&cache, &format!("s{i}"), "20150830").unwrap();
        }
        assert_eq!(cache.len(), CAPACITY);
    }

    #[test]
    fn a_cached_key_still_refuses_a_bad_token_or_access_key_and_never_caches_a_bad_scope() {
        let cache = SigningKeyCache::new();
        let good = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        key_with(&cache, &good, "us-east-1", "20150830", Some("token")).unwrap();
        // The same key, now with a token or an access key id that must not be signed.
        let bad_token = key_with(&cache, &good, "us-east-1", "20150830", Some("tok\nen"));
        assert_eq!(
            bad_token.err(),
            Some(SigningError::InvalidHeaderValue("x-amz-security-token".into()))
        );
        let slash = Credentials::new("AKID/EXAMPLE", "secret", None, None, "test");
        let bad_key = key_with(&cache, &slash, "us-east-1", "20150830", Some("token"));
        assert!(matches!(
            bad_key,
            Err(SigningError::InvalidScope {
                what: "access key id",
                ..
            })
        ));
        // And again after a good one was remembered in between.
        key_with(&cache, &good, "us-east-1", "20150830", Some("token")).unwrap();
        assert!(key_with(&cache, &good, "us-east-1", "20150830", Some("tok\u{7f}")).is_err());
        // A bad region is refused every time and never becomes an entry.
        for _ in 0..2 {
            let bad_region = key_with(&cache, &good, "us/east", "20150830", None);
            assert!(matches!(
                bad_region,
                Err(SigningError::InvalidScope { what: "region", .. })
            ));
        }
        assert_eq!(cache.len(), 1);
    }
}
