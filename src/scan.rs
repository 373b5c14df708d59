//! Byte search for the signing path, without run-time CPU detection.
//!
//! `memchr::memchr` picks AVX2 or SSE2 at its first call by asking the CPU (`cpuid`, through the
//! standard library's feature detection). In a virtual machine each `cpuid` traps to the
//! hypervisor, and that first detection was the largest single cost our code added to a cold start
//! (`cargo bench --bench cold_start`; the README's cold-start section). The strings searched here
//! are header values, paths and JSON strings (at most a few KB), where SSE2 (part of every x86-64
//! CPU, so known at compile time) is as good as AVX2. Elsewhere, memchr's portable searchers.

#[cfg(not(target_arch = "x86_64"))]
use memchr::arch::all::memchr::{One, Two};
#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::sse2::memchr::{One, Two};

/// The index of the first `needle` in `haystack`.
///
/// ```
/// assert_eq!(edge_signer::scan::find(b'%', b"a%20b"), Some(1));
/// assert_eq!(edge_signer::scan::find(b'%', b"ab"), None);
/// ```
#[inline]
pub fn find(needle: u8, haystack: &[u8]) -> Option<usize> {
    one(needle).find(haystack)
}

/// The index of the first `a` or `b` in `haystack`.
///
/// ```
/// assert_eq!(edge_signer::scan::find2(b'"', b'\\', br#"ab\"c""#), Some(2));
/// assert_eq!(edge_signer::scan::find2(b'\r', b'\n', b"image/jpeg"), None);
/// ```
#[inline]
pub fn find2(a: u8, b: u8, haystack: &[u8]) -> Option<usize> {
    two(a, b).find(haystack)
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn one(needle: u8) -> One {
    // SSE2 is in the x86-64 baseline: `new` checks `cfg!(target_feature = "sse2")` only.
    One::new(needle).unwrap_or_else(|| unreachable!("SSE2 is part of x86-64"))
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn two(a: u8, b: u8) -> Two {
    Two::new(a, b).unwrap_or_else(|| unreachable!("SSE2 is part of x86-64"))
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn one(needle: u8) -> One {
    One::new(needle)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn two(a: u8, b: u8) -> Two {
    Two::new(a, b)
}
/// Whether `test` holds for any byte of `bytes`. `test` must be pure comparisons (no table
/// lookups), so that the blocks compile to vector compares: 16 bytes at a time, then the last 16
/// again (overlapping) for the rest, or two overlapping words of 8 for fewer than 16 bytes. An
/// iterator's `fold` over the slice left a byte-at-a-time loop for the rest of every string, and
/// most strings here (header values, paths, query strings) are shorter than a few blocks.
///
/// ```
/// let control = |b: u8| b < 0x20;
/// assert!(edge_signer::scan::any_byte(b"a\tb", control));
/// assert!(!edge_signer::scan::any_byte(b"host.example.com", control));
/// ```
#[inline(always)]
pub fn any_byte(bytes: &[u8], test: impl Fn(u8) -> bool + Copy) -> bool {
    fn block<const N: usize>(block: &[u8; N], test: impl Fn(u8) -> bool) -> bool {
        block.iter().fold(false, |any, &b| any | test(b))
    }
    let (blocks, rest) = bytes.as_chunks::<16>();
    let mut any = blocks.iter().fold(false, |any, b| any | block(b, test));
    if !rest.is_empty() {
        any |= if let Some(last) = bytes.last_chunk::<16>() {
            block(last, test)
        } else if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            block(first, test) | block(last, test)
        } else {
            rest.iter().fold(false, |any, &b| any | test(b))
        };
    }
    any
}

#[cfg(test)]
mod tests {
    use super::any_byte;

    #[test]
    fn any_byte_finds_a_byte_at_every_position_of_every_length() {
        let test = |b: u8| b == b'%' || b < 0x20;
        for len in 0..70 {
            assert!(!any_byte(&vec![b'a'; len], test), "{len} clean bytes");
            for at in 0..len {
                for needle in [b'%', 0, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = needle;
                    assert!(any_byte(&bytes, test), "{needle:#04x} at {at} of {len}");
                }
            }
        }
    }
}
