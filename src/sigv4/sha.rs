//! SHA-256 and HMAC-SHA256 as the signer feeds them: text in many small pieces, written straight
//! into a buffer of whole blocks for sha2's compression function (SHA-NI where the CPU has it).
//!
//! sha2 does the cryptography. This file only gathers the blocks and pads the last one (FIPS 180-4
//! §5.1.1), and keeps an HMAC key (RFC 2104) as the two states its pads leave, so that a cached
//! key is 64 bytes to copy. Going through sha2's `Digest` and hmac's `Mac` instead cost a second
//! buffer, a copy of each piece into each, and a copy of hmac's ~300-byte state per signature:
//! together a third of the signer's time outside SHA-256 itself (callgrind, `hot_loop sign`).
//! The tests compare both types with sha2 and hmac on every length around the block boundaries
//! and on random pieces.

use super::canonical::Sink;
use sha2::block_api::compress256;

/// The initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// How many bytes [`Sha256`] gathers before it compresses them: four blocks, since each call of
/// the compression function costs a setup (with SHA-NI, about a fifth of a block) besides its
/// blocks. A canonical request of 1.3 KB then takes three calls instead of twenty. Two or eight
/// blocks measured slower (more calls; more zeroing and copying when the session token arrives).
const BUFFER: usize = 256;

/// A SHA-256 computation in progress.
#[derive(Clone)]
pub(crate) struct Sha256 {
    state: [u32; 8],
    /// `buffer[..filled]` is input not yet compressed.
    buffer: [u8; BUFFER],
    /// Always below `BUFFER`: a full buffer is compressed at once.
    filled: usize,
    /// How many blocks have been compressed, for the length that ends the input.
    compressed: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::resume(IV, 0)
    }
}

impl Sha256 {
    /// Goes on from `state`, reached after `compressed` whole blocks.
    fn resume(state: [u32; 8], compressed: u64) -> Self {
        Self {
            state,
            buffer: [0; BUFFER],
            filled: 0,
            compressed,
        }
    }

    /// SHA-256 of `bytes`.
    pub fn digest(bytes: &[u8]) -> [u8; 32] {
        let mut hash = Self::default();
        hash.update(bytes);
        hash.finish()
    }

    /// Compresses `blocks` into `state`, if there are any, and counts them.
    fn compress(state: &mut [u32; 8], compressed: &mut u64, blocks: &[[u8; 64]]) {
        if !blocks.is_empty() {
            compress256(state, blocks);
            *compressed += blocks.len() as u64;
        }
    }

    /// Hashes `bytes` after what came before.
    #[inline]
    pub fn update(&mut self, bytes: &[u8]) {
        let end = self.filled + bytes.len();
        match self.buffer.get_mut(self.filled..end).filter(|_| end < BUFFER) {
            Some(free) => {
                copy(free, bytes);
                self.filled = end;
            }
            None => self.update_slow(bytes),
        }
    }

    /// The part of [`Sha256::update`] that fills the buffer: compresses it, then the whole blocks
    /// of `bytes` where they are, and keeps the rest.
    #[inline(never)]
    fn update_slow(&mut self, bytes: &[u8]) {
        let Self {
            state,
            buffer,
            filled,
            compressed,
        } = self;
        let (head, rest) = bytes.split_at(bytes.len().min(BUFFER - *filled));
        if let Some(free) = buffer.get_mut(*filled..) {
            free.copy_from_slice(head);
        }
        Self::compress(state, compressed, buffer.as_chunks::<64>().0);
        let (blocks, tail) = rest.as_chunks::<64>();
        Self::compress(state, compressed, blocks);
        if let Some(start) = buffer.get_mut(..tail.len()) {
            start.copy_from_slice(tail);
        }
        *filled = tail.len();
    }

    /// The digest: pads the input with `0x80`, zeros and its length in bits.
    pub fn finish(&mut self) -> [u8; 32] {
        let bits = (self.compressed * 64 + self.filled as u64) * 8;
        if self.filled + 9 > BUFFER {
            // The padding does not fit after the input: the whole blocks go first.
            let whole = self.filled / 64 * 64;
            let Self {
                state,
                buffer,
                compressed,
                ..
            } = self;
            let blocks = buffer.get(..whole).unwrap_or_default().as_chunks::<64>().0;
            Self::compress(state, compressed, blocks);
            buffer.copy_within(whole..self.filled, 0);
            self.filled -= whole;
        }
        // The input, `0x80`, zeros and the length fill one or two whole blocks: one call.
        let end = (self.filled + 9).div_ceil(64) * 64;
        let padding = self.buffer.get_mut(self.filled..end).unwrap_or_default();
        if let Some((first, zeros)) = padding.split_first_mut() {
            *first = 0x80;
            zeros.fill(0);
        }
        if let Some(length) = padding.last_chunk_mut::<8>() {
            *length = bits.to_be_bytes();
        }
        let blocks = self.buffer.get(..end).unwrap_or_default().as_chunks::<64>().0;
        compress256(&mut self.state, blocks);
        big_endian(&self.state)
    }
}

/// The digest a state stands for: its words, big-endian.
fn big_endian(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

impl Sink for Sha256 {
    #[inline]
    fn put(&mut self, text: &str) {
        self.update(text.as_bytes());
    }

    fn put_hex(&mut self, hex: &[u8; 64]) {
        self.update(hex);
    }
}

/// Copies `src` into `dst`, of the same length. Most pieces of a canonical request are a few
/// bytes: those are copied with two overlapping loads and stores each, not a call to `memcpy`.
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    fn ends<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    match src.len() {
        0 => {}
        1..4 => {
            // First, middle (or first again) and last byte.
            for i in [0, src.len() / 2, src.len() - 1] {
                if let (Some(d), Some(s)) = (dst.get_mut(i), src.get(i)) {
                    *d = *s;
                }
            }
        }
        4..8 => ends::<4>(dst, src),
        8..=16 => ends::<8>(dst, src),
        17..=32 => ends::<16>(dst, src),
        33..=64 => ends::<32>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// An HMAC-SHA256 key, kept as the states that hashing the inner and the outer pad leaves.
#[derive(Clone, Copy)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// The key; SigV4's keys are 32 bytes (a key over 64 bytes would first be hashed, which no
    /// caller needs).
    pub fn new(key: &[u8; 32]) -> Self {
        let pad = |byte: u8| {
            let mut block = [byte; 64];
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut state = IV;
            compress256(&mut state, &[block]);
            state
        };
        Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// The inner hash, ready for the message.
    pub fn start(&self) -> Sha256 {
        Sha256::resume(self.inner, 1)
    }

    /// Makes `hash` the inner hash, ready for the message, reusing its buffer (which need not be
    /// cleared again).
    pub fn restart(&self, hash: &mut Sha256) {
        hash.state = self.inner;
        hash.filled = 0;
        hash.compressed = 1;
    }

    /// The MAC of the message hashed into `inner` (from [`HmacKey::start`]).
    pub fn finish(&self, inner: &mut Sha256) -> [u8; 32] {
        // The outer hash's message is the inner digest: with the pad before it and the padding
        // after it, exactly one block (64 + 32 bytes, 768 bits).
        let mut block = [0u8; 64];
        let (digest, padding) = block.split_at_mut(32);
        digest.copy_from_slice(&inner.finish());
        if let Some(first) = padding.first_mut() {
            *first = 0x80;
        }
        if let Some(length) = padding.last_chunk_mut::<8>() {
            *length = 768u64.to_be_bytes();
        }
        let mut state = self.outer;
        compress256(&mut state, &[block]);
        big_endian(&state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::prelude::*;
    use sha2::Digest;

    fn theirs(bytes: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(bytes).into()
    }

    fn their_mac(key: &[u8; 32], bytes: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn every_length_around_the_block_boundaries_hashes_as_sha2_does() {
        // The padding changes at 55/56 bytes in a block, the block at 64.
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..=bytes.len() {
            assert_eq!(
                Sha256::digest(&bytes[..len]),
                theirs(&bytes[..len]),
                "{len} bytes"
            );
        }
        // FIPS 180-4's own example, "abc".
        assert_eq!(
            hex::encode(Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn one_byte_at_a_time_is_the_same_hash() {
        let bytes: Vec<u8> = (0..200u8).collect();
        let mut hash = Sha256::default();
        for b in &bytes {
            hash.update(std::slice::from_ref(b));
        }
        assert_eq!(hash.finish(), theirs(&bytes));
    }

    #[test]
    fn the_hmac_of_rfc_4231_case_2_shape_and_every_length_matches_hmac() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 13 + 1) as u8);
        let message: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
        for len in 0..=message.len() {
            let mac = HmacKey::new(&key);
            let mut inner = mac.start();
            inner.update(&message[..len]);
            assert_eq!(
                mac.finish(&mut inner),
                their_mac(&key, &message[..len]),
                "{len} bytes"
            );
        }
    }

    proptest! {
        #[test]
        fn any_pieces_hash_as_their_concatenation(
            pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..150), 0..40),
            key in any::<[u8; 32]>(),
        ) {
            let whole = pieces.concat();
            let mut hash = Sha256::default();
            let mac = HmacKey::new(&key);
            let mut inner = mac.start();
            for piece in &pieces {
                hash.update(piece);
                inner.update(piece);
            }
            prop_assert_eq!(hash.finish(), theirs(&whole));
            prop_assert_eq!(mac.finish(&mut inner), their_mac(&key, &whole));
        }
    }
}
