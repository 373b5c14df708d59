//! Step 3 of SigV4: the signing key, derived from the secret for one day, region and service, and
//! a small cache so that the hot path derives it once a day instead of on every request.

use super::sha::HmacKey;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Mutex;

type HmacSha256 = Hmac<Sha256>;

/// How many (secret, date, region, service) keys the cache holds. A function signs for one or two
/// scopes; around midnight it briefly needs the keys of two days.
const CAPACITY: usize = 8;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
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
    /// The signing key as HMAC states: copying them skips the key's two blocks too.
    mac: HmacKey,
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
    entries: Mutex<Vec<Entry>>,
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
            entries: Mutex::new(Vec::new()),
        }
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        // A panic elsewhere cannot leave an entry half-written: entries are pushed whole.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An HMAC keyed with the signing key of this scope, derived on first use.
    pub(crate) fn keyed_mac(&self, secret: &str, date: &str, region: &str, service: &str) -> HmacKey {
        let mut entries = self.lock();
        let hit = entries
            .iter()
            .find(|e| e.date == date && e.region == region && e.service == service && e.secret == secret);
        if let Some(entry) = hit {
            return entry.mac;
        }
        let mac = HmacKey::new(&signing_key(secret, date, region, service));
        if entries.len() == CAPACITY {
            entries.remove(0);
        }
        entries.push(Entry {
            secret: secret.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            mac,
        });
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(mac: HmacKey) -> String {
        let mut inner = mac.start();
        inner.update(b"x");
        hex::encode(mac.finish(&mut inner))
    }

    #[test]
    fn cached_key_equals_fresh_derivation_and_changes_at_midnight() {
        let cache = SigningKeyCache::new();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let before = tag(cache.keyed_mac(secret, "20150830", "us-east-1", "s3"));
        let again = tag(cache.keyed_mac(secret, "20150830", "us-east-1", "s3"));
        let after = tag(cache.keyed_mac(secret, "20150831", "us-east-1", "s3"));
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
        let a = tag(cache.keyed_mac("secret-a", "20150830", "us-east-1", "s3"));
        let b = tag(cache.keyed_mac("secret-b", "20150830", "us-east-1", "s3"));
        assert_ne!(a, b);
        for i in 0..20 {
            cache.keyed_mac(&format!("s{i}"), "20150830", "us-east-1", "s3");
        }
        assert_eq!(cache.len(), CAPACITY);
    }
}
