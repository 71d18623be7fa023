//! The JSON validator's byte classes (`record::validate`): which bytes of a 64-byte block
//! are quotes, backslashes, control characters, escapable, `u`, or not ASCII, one bit per
//! byte. The recorder classifies every byte of every body it records, so this is the
//! validator's inner loop: SSE2 on `x86_64` (its baseline), a plain loop on other CPUs.
//! An AVX2 version chosen at run time was slower (5.4 against 7.3 GB/s on a 1 MiB
//! escape-dense body): it cannot be inlined into the validator's loop, which is not
//! compiled for AVX2, and the call per block cost more than the wider compares saved.

/// The bytes of a 64-byte block of JSON text that matter inside a string, one bit per byte
/// (bit `j` for `block[j]`): what `record::validate` needs to find a string's end and check
/// its escapes without a step per escape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonBytes {
    pub quote: u64,
    pub backslash: u64,
    /// Below 0x20: not allowed raw in a string.
    pub control: u64,
    /// What may follow a backslash: `" \ / b f n r t u`.
    pub escapable: u64,
    pub u: u64,
    /// 0x80 and above: part of a UTF-8 sequence, to be checked as such.
    pub high: u64,
}

/// Classifies `block` (`JsonBytes`).
#[inline]
pub fn json_bytes(block: &[u8; 64]) -> JsonBytes {
    #[cfg(target_arch = "x86_64")]
    {
        sse2(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        plain(block)
    }
}

/// The reference: one byte at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn plain(block: &[u8; 64]) -> JsonBytes {
    let mut out = JsonBytes::default();
    for (j, &c) in block.iter().enumerate() {
        out.quote |= u64::from(c == b'"') << j;
        out.backslash |= u64::from(c == b'\\') << j;
        out.control |= u64::from(c < 0x20) << j;
        out.escapable |= u64::from(b"\"\\/bfnrtu".contains(&c)) << j;
        out.u |= u64::from(c == b'u') << j;
        out.high |= u64::from(c >= 0x80) << j;
    }
    out
}

/// 16 bytes at a time, one compare per escapable byte.
#[cfg(target_arch = "x86_64")]
#[inline]
fn sse2(block: &[u8; 64]) -> JsonBytes {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
    // available; the four unaligned 16-byte loads read within `block`'s 64 bytes.
    unsafe {
        let splat = |c: u8| _mm_set1_epi8(c as i8);
        let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16);
        let mut out = JsonBytes::default();
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let shift = 16 * k;
            let eq = |c: u8| _mm_cmpeq_epi8(v, splat(c));
            let (quote, backslash, u) = (eq(b'"'), eq(b'\\'), eq(b'u'));
            let mut escapable = _mm_or_si128(_mm_or_si128(quote, backslash), u);
            for c in *b"/bfnrt" {
                escapable = _mm_or_si128(escapable, eq(c));
            }
            // v <= 0x1f, unsigned: min(v, 0x1f) == v.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, splat(0x1f)), v);
            out.quote |= bits(quote) << shift;
            out.backslash |= bits(backslash) << shift;
            out.u |= bits(u) << shift;
            out.escapable |= bits(escapable) << shift;
            out.control |= bits(control) << shift;
            out.high |= bits(v) << shift;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_agree_with_the_reference_on_every_byte_at_every_position() {
        for c in 0..=255u8 {
            for i in 0..64 {
                let mut block = [b'a'; 64];
                block[i] = c;
                // A second byte elsewhere, so that the 16-byte lanes are told apart.
                block[(i + 37) % 64] = c ^ 0x80;
                assert_eq!(json_bytes(&block), plain(&block), "{c:#x} at {i}");
            }
        }
    }
}
