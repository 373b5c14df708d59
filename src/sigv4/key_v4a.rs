//! SigV4A's signing key: an ECDSA P-256 key pair derived from the secret access key, and a cache
//! so that it is derived once per access key id.
//!
//! The derivation is the one AWS's SDKs share (aws-c-auth's `key_derivation.c`, documented under
//! "Signature Version 4a" in
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html>): NIST SP 800-108's KDF
//! in counter mode with HMAC-SHA256, keyed with `"AWS4A" + secret`, over the fixed input
//!
//! ```text
//! i (u32 BE, 1) || "AWS4-ECDSA-P256-SHA256" || 0x00 || access key id || c (u8) || L (u32 BE, 256)
//! ```
//!
//! for `c = 1, 2, …` until the candidate `k0` (the 32 output bytes as a big-endian integer) is at
//! most `n - 2`, `n` being the order of P-256; the private key is `k0 + 1`, so it lies in
//! `[1, n - 1]`. The public key is `(k0 + 1)·G`.
//!
//! The scalar arithmetic and the public key are p256's. Signatures are ring's (its P-256 is several
//! times faster than p256's; `bench-results/2026-12-05-sigv4a.md`), with a nonce ring draws from
//! the operating system's generator and hedges with the key and the message.

use super::entries::Entries;
use super::error::SigningError;
use super::params::{ALGORITHM_V4A, SigningParams};
use super::scope::check_params;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::VerifyingKey;
use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{NonZeroScalar, Scalar};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use sha2::Sha256;
use std::sync::Arc;

/// aws-c-auth gives up after this many candidates; each is refused with probability about
/// 2^-224, so no real secret reaches it.
const MAX_COUNTER: u8 = 254;

/// How many access keys the cache holds: a function signs with one role's credentials, which
/// rotate every few hours.
const CAPACITY: usize = 4;

/// The private scalar of `access_key`'s SigV4A key, derived from `secret`.
fn private_scalar(access_key: &str, secret: &str) -> Result<NonZeroScalar, SigningError> {
    let mut input_key = Vec::with_capacity(5 + secret.len());
    input_key.extend_from_slice(b"AWS4A");
    input_key.extend_from_slice(secret.as_bytes());
    let keyed = Hmac::<Sha256>::new_from_slice(&input_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    input_key.fill(0);
    for counter in 1..=MAX_COUNTER {
        let mut mac = keyed.clone();
        mac.update(&1u32.to_be_bytes());
        mac.update(ALGORITHM_V4A.as_bytes());
        mac.update(&[0]);
        mac.update(access_key.as_bytes());
        mac.update(&[counter]);
        mac.update(&256u32.to_be_bytes());
        if let Some(key) = key_of_candidate(mac.finalize().into_bytes().into()) {
            return Ok(key);
        }
    }
    Err(SigningError::KeyDerivation)
}

/// `k0 + 1` when the candidate `k0` (big-endian) is at most `n - 2`, else `None`: `k0 <= n - 2`
/// exactly when `k0 < n` (it is a scalar) and `k0 + 1` is not `n` (zero modulo `n`).
fn key_of_candidate(k0: [u8; 32]) -> Option<NonZeroScalar> {
    Option::<Scalar>::from(Scalar::from_repr(k0.into()))
        .and_then(|k0| Option::from(NonZeroScalar::new(k0 + Scalar::ONE)))
}

/// A SigV4A signing key: the P-256 key pair derived from an access key id and its secret.
///
/// Its `Debug` shows the public key only.
pub struct SigV4aKey {
    pair: EcdsaKeyPair,
    /// Uncompressed SEC1: `04 || X || Y`.
    public: [u8; 65],
}

impl std::fmt::Debug for SigV4aKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4aKey")
            .field("public", &hex::encode(self.public))
            .finish()
    }
}

impl SigV4aKey {
    /// Derives the key of `access_key` from `secret` (see the module's documentation).
    ///
    /// ```
    /// // The AWS signing test suite's credentials: their public key is in every v4a case's
    /// // public-key.json.
    /// use edge_signer::sigv4::SigV4aKey;
    /// let key = SigV4aKey::derive("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
    /// let (x, _y) = key.public_key_xy();
    /// assert_eq!(hex::encode(x), "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1");
    /// ```
    ///
    /// # Errors
    /// [`SigningError::KeyDerivation`] when no candidate was in range (never seen) or the key pair
    /// was refused.
    pub fn derive(access_key: &str, secret: &str) -> Result<Self, SigningError> {
        let scalar = private_scalar(access_key, secret)?;
        let point = p256::PublicKey::from_secret_scalar(&scalar).to_sec1_point(false);
        let public: [u8; 65] = point
            .as_bytes()
            .try_into()
            .map_err(|_| SigningError::KeyDerivation)?;
        let private = scalar.to_repr();
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &private,
            &public,
            &SystemRandom::new(),
        )
        .map_err(|_| SigningError::KeyDerivation)?;
        Ok(Self { pair, public })
    }

    /// The public key's coordinates, big-endian (as the suite's `public-key.json` has them).
    pub fn public_key_xy(&self) -> ([u8; 32], [u8; 32]) {
        let mut x = [0; 32];
        let mut y = [0; 32];
        x.copy_from_slice(&self.public[1..33]);
        y.copy_from_slice(&self.public[33..]);
        (x, y)
    }

    /// The public key, to verify signatures with (see [`verify_v4a`]).
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::from_sec1_bytes(&self.public).unwrap_or_else(|_| unreachable!("a point p256 computed"))
    }

    /// The DER-encoded ECDSA signature of `message` (hashed with SHA-256), at most 72 bytes.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<ring::signature::Signature, SigningError> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| SigningError::Random)
    }
}

/// Whether `signature_hex` (a DER-encoded ECDSA signature in hex, as SigV4A sends it) is
/// `public`'s signature of `string_to_sign`. Checked by p256, independently of the signer.
///
/// ```
/// use edge_signer::sigv4::{SigV4aKey, verify_v4a};
/// let key = SigV4aKey::derive("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
/// // The suite's v4a get-vanilla, header mode (the signature was made by the CRT).
/// let sts = "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
///            cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02";
/// let signature = "3045022018b4e277d0281864beb51d3600e23f88510ea5031d68ddfbb68614b82a5eb7d2\
///                  022100effb9c5f22ed9ef3ae0ab243d21f06bce82365bbb79529a07b6888c343ae5f8c";
/// assert!(verify_v4a(&key.verifying_key(), sts, signature));
/// assert!(!verify_v4a(&key.verifying_key(), &sts.replace("service", "s3"), signature));
/// ```
pub fn verify_v4a(public: &VerifyingKey, string_to_sign: &str, signature_hex: &str) -> bool {
    use p256::ecdsa::signature::Verifier;
    let Ok(der) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(signature) = p256::ecdsa::DerSignature::try_from(der.as_slice()) else {
        return false;
    };
    public.verify(string_to_sign.as_bytes(), &signature).is_ok()
}

struct Entry {
    access_key: String,
    secret: String,
    key: Arc<SigV4aKey>,
}

/// SigV4A keys by access key id (and secret), so that a key is derived once per access key: the
/// derivation does not depend on the date or the scope.
///
/// Safe to share between threads; the lock is held only for a lookup.
///
/// ```
/// use edge_signer::sigv4::SigV4aKeyCache;
/// let cache = SigV4aKeyCache::new();
/// assert!(cache.is_empty());
/// ```
pub struct SigV4aKeyCache {
    entries: Entries<Entry, CAPACITY>,
}

impl Default for SigV4aKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SigV4aKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets or keys.
        f.debug_struct("SigV4aKeyCache")
            .field("len", &self.len())
            .finish()
    }
}

impl SigV4aKeyCache {
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

    fn cached(&self, access_key: &str, secret: &str) -> Option<Arc<SigV4aKey>> {
        self.entries
            .lock()
            .iter()
            .find(|e| e.access_key == access_key && e.secret == secret)
            .map(|e| Arc::clone(&e.key))
    }

    /// After the checks of what signing copies from `params` into the request (region set,
    /// service, access key id, `token`), the cached key of `params`' credentials, or `None` when it
    /// is not cached yet ([`SigV4aKeyCache::derive_key`] makes it once the rest of the request has
    /// been checked, so that a request that fails adds no entry).
    pub(crate) fn checked_key(
        &self,
        params: &SigningParams<'_>,
        token: Option<&str>,
    ) -> Result<Option<Arc<SigV4aKey>>, SigningError> {
        check_params(params, token)?;
        let credentials = params.credentials;
        Ok(self.cached(credentials.access_key_id(), credentials.secret_access_key()))
    }

    /// Derives the key of `access_key` and `secret` and caches it.
    pub(crate) fn derive_key(&self, access_key: &str, secret: &str) -> Result<Arc<SigV4aKey>, SigningError> {
        let key = Arc::new(SigV4aKey::derive(access_key, secret)?);
        let entry = Entry {
            access_key: access_key.to_owned(),
            secret: secret.to_owned(),
            key: Arc::clone(&key),
        };
        self.entries
            .insert(entry, |e| e.access_key == access_key && e.secret == secret);
        Ok(key)
    }

    /// The key of `access_key` and `secret`, derived on first use: for tests and tools that need
    /// the public key.
    ///
    /// # Errors
    /// As [`SigV4aKey::derive`].
    pub fn key(&self, access_key: &str, secret: &str) -> Result<Arc<SigV4aKey>, SigningError> {
        match self.cached(access_key, secret) {
            Some(key) => Ok(key),
            None => self.derive_key(access_key, secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn the_suite_public_key_is_derived() {
        let key = SigV4aKey::derive("AKIDEXAMPLE", SECRET).unwrap();
        let (x, y) = key.public_key_xy();
        assert_eq!(
            hex::encode(x),
            "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
        );
        assert_eq!(
            hex::encode(y),
            "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
        );
    }

    #[test]
    fn candidates_above_n_minus_2_are_refused_and_the_key_is_the_candidate_plus_one() {
        let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
        let minus = |k: u8| -> [u8; 32] {
            let mut v: [u8; 32] = n.as_slice().try_into().unwrap();
            v[31] -= k; // n ends in 0x51: no borrow for small k
            v
        };
        let key = |k0: [u8; 32]| key_of_candidate(k0).map(|k| hex::encode(k.to_repr()));
        assert_eq!(
            key(minus(2)),
            Some(hex::encode(minus(1))),
            "n - 2 is the largest accepted"
        );
        assert_eq!(key(minus(1)), None);
        assert_eq!(key(minus(0)), None);
        assert_eq!(key([0xff; 32]), None);
        let mut one = [0; 32];
        one[31] = 1;
        assert_eq!(key([0; 32]), Some(hex::encode(one)), "0 gives the key 1");
    }

    #[test]
    fn our_signature_verifies_and_debug_shows_no_secret() {
        let key = SigV4aKey::derive("AKIDEXAMPLE", SECRET).unwrap();
        let signature = hex::encode(key.sign(b"message").unwrap());
        assert!(verify_v4a(&key.verifying_key(), "message", &signature));
        assert!(!verify_v4a(&key.verifying_key(), "messagf", &signature));
        assert!(!verify_v4a(&key.verifying_key(), "message", "zz"));
        let private = hex::encode(private_scalar("AKIDEXAMPLE", SECRET).unwrap().to_repr());
        let debug = format!("{key:?}");
        assert!(!debug.contains(&private) && !debug.contains(SECRET), "{debug}");
    }

    #[test]
    fn the_cache_keeps_one_key_per_access_key_and_stays_bounded() {
        let cache = SigV4aKeyCache::new();
        let a = cache.key("AKIDA", "secret").unwrap();
        let again = cache.key("AKIDA", "secret").unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let other_secret = cache.key("AKIDA", "secret2").unwrap();
        assert_ne!(a.public, other_secret.public);
        for i in 0..10 {
            cache.key(&format!("AKID{i}"), "s").unwrap();
        }
        assert_eq!(cache.len(), CAPACITY);
        assert!(!format!("{cache:?}").contains("secret"));
    }
}
