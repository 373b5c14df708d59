//! Byte search for the signing path, without run-time CPU detection.
//!
//! `memchr::memchr` picks AVX2 or SSE2 at its first call by asking the CPU (`cpuid`, through the
//! standard library's feature detection). In a virtual machine each `cpuid` traps to the
//! hypervisor, and that first detection was the largest single cost our code added to a cold start
//! (`cargo bench --bench cold_start`; the README's cold-start section). The strings searched here
//! are header values and paths (at most a few KB), where SSE2 (part of every x86-64
//! CPU, so known at compile time) is as good as AVX2. Elsewhere, memchr's portable searchers.

#[cfg(not(target_arch = "x86_64"))]
use memchr::arch::all::memchr::One;
#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::sse2::memchr::One;

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

#[cfg(target_arch = "x86_64")]
#[inline]
fn one(needle: u8) -> One {
    // SSE2 is in the x86-64 baseline: `new` checks `cfg!(target_feature = "sse2")` only.
    One::new(needle).unwrap_or_else(|| unreachable!("SSE2 is part of x86-64"))
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn one(needle: u8) -> One {
    One::new(needle)
}

/// Whether `test` holds for any byte of `bytes`. `test` must be pure comparisons (no table
/// lookups), so that the loop compiles to vector compares: over the whole 16-byte blocks (a vector
/// loop with no byte-at-a-time rest), then over the last 16 bytes again, overlapping. An iterator's
/// `fold` over the whole slice left a byte-at-a-time loop for the rest of every string, and most
/// strings here (header values, paths) are a few blocks long. Shorter than a block, the bytes are
/// tested one by one. (Blocks as fixed-size arrays compiled to byte-by-byte vector assembly, 12 KB
/// for one call site: `nm` on the bootstrap.)
///
/// ```
/// let control = |b: u8| b < 0x20;
/// assert!(edge_signer::scan::any_byte(b"a\tb", control));
/// assert!(!edge_signer::scan::any_byte(b"host.example.com", control));
/// ```
#[inline(always)]
pub fn any_byte(bytes: &[u8], test: impl Fn(u8) -> bool + Copy) -> bool {
    let fold = |bytes: &[u8]| bytes.iter().fold(false, |any, &b| any | test(b));
    match bytes.last_chunk::<16>() {
        Some(last) => fold(bytes.as_chunks::<16>().0.as_flattened()) | fold(last),
        None => fold(bytes),
    }
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
