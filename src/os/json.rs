//! The JSON validator's byte classes (`record::validate`): which bytes of a 64-byte block
//! are quotes, backslashes, control characters, escapable, `u`, or not ASCII, one bit per
//! byte. The recorder classifies every byte of every body it records, so this is the
//! validator's inner loop: SSE2 on `x86_64` (its baseline), a plain loop on other CPUs.
//! A long string's blocks are classified many at a time (`json_blocks`), with AVX2 where
//! the CPU has it (chosen at run time): one call per batch, so that the call costs nothing
//! per block (called per block, AVX2 was slower than the inlined SSE2: 5.4 against
//! 7.3 GB/s), and one nibble lookup finds the escapable bytes where SSE2 compares nine times.

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

/// Classifies the consecutive 64-byte blocks of `text`, one per element of `out` (`text`
/// holds at least that many whole blocks).
pub fn json_blocks(text: &[u8], out: &mut [JsonBytes]) {
    assert!(
        text.len() >= 64 * out.len(),
        "fewer blocks than classes asked for"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { avx2_blocks(text, out) };
        return;
    }
    one_by_one(text, out);
}

/// `json_blocks` by `json_bytes`, block after block.
fn one_by_one(text: &[u8], out: &mut [JsonBytes]) {
    for (o, block) in out.iter_mut().zip(text.chunks_exact(64)) {
        *o = json_bytes(block.try_into().expect("a whole block"));
    }
}

/// `json_blocks` with AVX2: 32 bytes per compare, and the escapable bytes by a lookup of
/// each byte's two nibbles (the bit of its high nibble's row, if its low nibble has it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2_blocks(text: &[u8], out: &mut [JsonBytes]) {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setr_epi8, _mm256_setzero_si256,
        _mm256_shuffle_epi8, _mm256_srli_epi16,
    };
    // Rows by high nibble: 2 (`"` `/`), 5 (`\`), 6 (`b` `f` `n`), 7 (`r` `t` `u`); each
    // low nibble has the bits of the rows in which it makes an escapable byte.
    #[rustfmt::skip]
    let (rows, lows) = (
        _mm256_setr_epi8(
            0, 0, 1, 0, 0, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 1, 0, 0, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0,
        ),
        _mm256_setr_epi8(
            0, 0, 13, 0, 8, 8, 4, 0, 0, 0, 0, 0, 2, 0, 4, 1,
            0, 0, 13, 0, 8, 8, 4, 0, 0, 0, 0, 0, 2, 0, 4, 1,
        ),
    );
    let splat = |c: u8| _mm256_set1_epi8(c as i8);
    let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
    let nibble = splat(0x0f);
    for (o, block) in out.iter_mut().zip(text.chunks_exact(64)) {
        let mut m = JsonBytes::default();
        for k in 0..2 {
            // SAFETY: an unaligned 32-byte load within the 64 bytes of `block`.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k).cast()) };
            let shift = 32 * k;
            let eq = |c: u8| _mm256_cmpeq_epi8(v, splat(c));
            let row = _mm256_shuffle_epi8(rows, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
            let low = _mm256_shuffle_epi8(lows, _mm256_and_si256(v, nibble));
            let none = _mm256_cmpeq_epi8(_mm256_and_si256(row, low), _mm256_setzero_si256());
            // v <= 0x1f, unsigned: min(v, 0x1f) == v.
            let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, splat(0x1f)), v);
            m.quote |= bits(eq(b'"')) << shift;
            m.backslash |= bits(eq(b'\\')) << shift;
            m.u |= bits(eq(b'u')) << shift;
            m.escapable |= (!bits(none) & 0xffff_ffff) << shift;
            m.control |= bits(control) << shift;
            m.high |= bits(v) << shift;
        }
        *o = m;
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
                let (text, want) = (
                    [block, [b'a'; 64]].concat(),
                    [plain(&block), plain(&[b'a'; 64])],
                );
                let mut batch = [JsonBytes::default(); 2];
                one_by_one(&text, &mut batch);
                assert_eq!(batch, want, "one by one: {c:#x} at {i}");
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 (checked just above).
                    unsafe { avx2_blocks(&text, &mut batch) };
                    assert_eq!(batch, want, "AVX2: {c:#x} at {i}");
                }
            }
        }
    }
}
