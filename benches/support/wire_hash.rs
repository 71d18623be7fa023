//! A fingerprint of a byte stream, computed while the bytes cross (the load generator's
//! pipes) and again over `rpctap cat --wire`'s output, so that gigabytes are compared
//! without holding them in memory.
//!
//! Not a cryptographic hash: it only has to notice bytes that were lost, added, changed or
//! reordered by accident, and cost next to nothing beside what it measures (four
//! independent multiply lanes over 32-byte blocks, several GB/s). The digest depends on
//! the bytes alone, never on how they were split into reads or writes.

use std::io::{self, Read, Write};

const K: [u64; 4] = [
    0x9e37_79b9_7f4a_7c15,
    0xc2b2_ae3d_27d4_eb4f,
    0x1656_67b1_9e37_79f9,
    0x85eb_ca77_c2b2_ae63,
];
const BLOCK: usize = 32;

/// The running fingerprint of one stream.
#[derive(Clone)]
pub struct WireHash {
    lanes: [u64; 4],
    pending: [u8; BLOCK],
    npending: usize,
    len: u64,
}

/// A finished fingerprint: the stream's length and digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Digest {
    pub len: u64,
    pub hash: u64,
}

impl Default for WireHash {
    fn default() -> Self {
        WireHash {
            lanes: K,
            pending: [0; BLOCK],
            npending: 0,
            len: 0,
        }
    }
}

impl WireHash {
    /// Each step is a bijection of the lane for a fixed word, and of the word for a fixed
    /// lane: one changed word always changes the digest.
    #[inline]
    fn block(&mut self, b: &[u8]) {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
            *lane = (*lane ^ w).wrapping_mul(K[i]).rotate_left(29);
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.npending > 0 {
            let take = (BLOCK - self.npending).min(data.len());
            self.pending[self.npending..self.npending + take].copy_from_slice(&data[..take]);
            self.npending += take;
            data = &data[take..];
            if self.npending < BLOCK {
                return;
            }
            let block = self.pending;
            self.block(&block);
            self.npending = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for b in &mut blocks {
            self.block(b);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.npending = rest.len();
    }

    pub fn finish(&self) -> Digest {
        let mut h = self.clone();
        let mut last = [0u8; BLOCK];
        last[..h.npending].copy_from_slice(&h.pending[..h.npending]);
        h.block(&last);
        let mut out = h.len.wrapping_mul(K[0]);
        for (i, lane) in h.lanes.iter().enumerate() {
            out = (out ^ lane.rotate_left(17 * u32::try_from(i).unwrap())).wrapping_mul(K[3 - i]);
            out ^= out >> 31;
        }
        Digest {
            len: self.len,
            hash: out,
        }
    }
}

/// A reader that fingerprints every byte it hands out.
pub struct HashingReader<R> {
    inner: R,
    pub hash: WireHash,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hash: WireHash::default(),
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that fingerprints every byte it accepted.
pub struct HashingWriter<W> {
    inner: W,
    pub hash: WireHash,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: WireHash::default(),
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads `r` to its end and fingerprints it.
pub fn digest_of(r: impl Read) -> io::Result<Digest> {
    let mut r = HashingReader::new(r);
    io::copy(&mut r, &mut io::sink())?;
    Ok(r.hash.finish())
}

/// The checks the smoke run makes of the fingerprint itself: the same bytes split
/// differently give the same digest, and one changed, dropped or moved byte does not.
pub fn self_check() -> Result<(), String> {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let whole = {
        let mut h = WireHash::default();
        h.update(&data);
        h.finish()
    };
    for step in [1, 3, 31, 32, 33, 4096] {
        let mut h = WireHash::default();
        data.chunks(step).for_each(|c| h.update(c));
        if h.finish() != whole {
            return Err(format!(
                "wire hash depends on the split ({step}-byte pieces)"
            ));
        }
    }
    let of = |d: &[u8]| {
        let mut h = WireHash::default();
        h.update(d);
        h.finish()
    };
    let mut changed = data.clone();
    changed[5000] ^= 1;
    let mut swapped = data.clone();
    swapped.swap(100, 101);
    let dropped = &data[..data.len() - 1];
    for (what, d) in [
        ("changed", &changed[..]),
        ("swapped", &swapped),
        ("dropped", dropped),
    ] {
        if of(d) == whole {
            return Err(format!("wire hash misses a {what} byte"));
        }
    }
    Ok(())
}
