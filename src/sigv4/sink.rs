//! Where the signer's texts go: a `String` (to keep them) or the hash or HMAC that consumes them.
//! One writer serves both, so the text hashed is always the text kept.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A destination for text written in pieces.
pub(crate) trait Sink {
    /// Appends `text`.
    fn put(&mut self, text: &str);
}

impl Sink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, text: &str) {
        self.update(text.as_bytes());
    }
}

impl Sink for Hmac<Sha256> {
    fn put(&mut self, text: &str) {
        self.update(text.as_bytes());
    }
}

/// Lower-case hex of a SHA-256 output, as SigV4 writes hashes and signatures.
pub(crate) fn hex(digest: [u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    hex::encode_to_slice(digest, &mut out).unwrap_or_else(|_| unreachable!("32 bytes are 64 hex digits"));
    out
}

/// Hex digits as text (they are ASCII).
pub(crate) fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}
