//! Byte search for the CloudFront event reader and writer, without run-time CPU detection.
//!
//! `memchr::memchr` picks AVX2 or SSE2 at its first call by asking the CPU (`cpuid`, through the
//! standard library's feature detection). In a virtual machine each `cpuid` traps to the
//! hypervisor, and that first detection was the largest single cost our code added to a cold start
//! (`cargo bench --bench cold_start`; the README's cold-start section). The strings searched here
//! are header values, paths and JSON strings (at most a few KB), where SSE2 (part of every x86-64
//! CPU, so known at compile time) is as good as AVX2. Elsewhere, memchr's portable searchers.

#[cfg(not(target_arch = "x86_64"))]
use memchr::arch::all::memchr::Two;
#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::sse2::memchr::Two;

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
fn two(a: u8, b: u8) -> Two {
    // SSE2 is in the x86-64 baseline: `new` checks `cfg!(target_feature = "sse2")` only.
    Two::new(a, b).unwrap_or_else(|| unreachable!("SSE2 is part of x86-64"))
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn two(a: u8, b: u8) -> Two {
    Two::new(a, b)
}

/// The bytes a JSON string cannot hold as they are: `"`, `\\` and the C0 controls.
#[inline(always)]
pub(crate) fn is_json_special(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// Bit `i` is set when byte `i` of `block` is a JSON special byte ([`is_json_special`]).
///
/// With SSE2 (part of every x86-64 CPU, so known at compile time), five vector instructions and
/// one `pmovmskb`: a bit mask whose lowest set bit is the first special byte, without a branch per
/// byte. An iterator over the block compiled to byte shuffles and no mask.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn json_special_mask(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: the intrinsics need SSE2, which this function's `cfg` requires of the build; the
    // load reads the 16 bytes of `block`, which it borrows, and has no alignment requirement.
    let mask = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // `b <= 0x1f` as unsigned bytes: the smaller of `b` and 0x1f is `b` itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    // `pmovmskb` sets the low 16 bits only: the value is never negative.
    mask as u32
}

/// Bit `i` is set when byte `i` of `block` is a JSON special byte ([`is_json_special`]).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn json_special_mask(block: &[u8; 16]) -> u32 {
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &b)| mask | u32::from(is_json_special(b)) << i)
}

#[cfg(test)]
mod tests {
    use super::{is_json_special, json_special_mask};

    #[test]
    fn the_json_special_mask_flags_exactly_the_special_bytes() {
        for b in 0..=255u8 {
            for at in 0..16 {
                // The other bytes vary too, so that no byte's bit depends on its neighbours.
                let mut block = [0u8; 16];
                for (i, x) in block.iter_mut().enumerate() {
                    *x = if i == at { b } else { b'a' + (i as u8) };
                }
                let expected = u32::from(is_json_special(b)) << at;
                assert_eq!(json_special_mask(&block), expected, "{b:#04x} at {at}");
            }
        }
        let all: [u8; 16] = *b"\"\\\x00\x1f\x20\x7f\x80\xff!#[]{}09";
        assert_eq!(json_special_mask(&all), 0b1111);
    }
}
