//! Message and byte rates per direction, per second of recorded time, for the header's
//! sparklines while a session is live.
//!
//! Rows are counted once each, as they arrive (`sync` resumes where it stopped), into a
//! ring of the last `SECONDS` seconds: a frame reads the ring and never walks the rows.
//! Seconds are the rows' recorded times, so a viewer that attaches late still sees the
//! backlog's recent rates.

use crate::record::Dir;
use crate::rpc::Kind;
use crate::tui::view::Session;

/// Seconds of history kept.
pub const SECONDS: usize = 64;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    msgs: u64,
    bytes: u64,
}

pub struct Rates {
    /// Rows counted, per session.
    seen: Vec<usize>,
    /// The latest second any row fell in.
    latest: Option<i64>,
    /// [c2s, s2c] × second modulo `SECONDS`.
    ring: [[Bucket; SECONDS]; 2],
    /// The wall clock at the last frame tick, µs; `None` until the clock runs.
    pub now: Option<i64>,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            seen: Vec::new(),
            latest: None,
            ring: [[Bucket::default(); SECONDS]; 2],
            now: None,
        }
    }
}

impl Rates {
    /// Counts the rows the sessions gained since the last call.
    pub fn sync(&mut self, sessions: &[Session]) {
        if self.seen.len() != sessions.len() {
            *self = Rates {
                now: self.now,
                ..Rates::default()
            };
            self.seen = vec![0; sessions.len()];
        }
        for (s, seen) in sessions.iter().zip(self.seen.iter_mut()) {
            let rows = s.store.rows();
            // The first time (or for a store replaced by a smaller one, a reattach) only the
            // seconds the ring keeps are counted: a backlog of a million rows costs a binary
            // search, not a walk.
            let from = if *seen == 0 || *seen > rows.len() {
                let last = rows.last().map_or(0, |r| r.t.0);
                let keep = (SECONDS as i64 + 1) * 1_000_000;
                rows.partition_point(|r| r.t.0 < last.saturating_sub(keep))
            } else {
                *seen
            };
            for r in &rows[from..] {
                if !matches!(r.kind, Kind::Noise | Kind::Stderr) {
                    add(&mut self.ring, &mut self.latest, r.dir, r.t.0, r.len);
                }
            }
            *seen = rows.len();
        }
    }

    /// The second the sparklines end at (the last whole second): by the wall clock while
    /// it runs, else the latest second with traffic.
    pub fn end_second(&self) -> Option<i64> {
        match self.now {
            Some(now) => Some(now.div_euclid(1_000_000) - 1),
            None => self.latest,
        }
    }

    /// Messages (or bytes) per second in direction `dir` for the `n` seconds up to `end`.
    pub fn series(&self, dir: Dir, end: i64, n: usize, bytes: bool) -> Vec<u64> {
        let n = n.min(SECONDS);
        (0..n as i64)
            .rev()
            .map(|back| {
                let sec = end - back;
                match self.latest {
                    Some(l) if sec <= l && sec > l - SECONDS as i64 => {
                        let b = self.ring[dir as usize][sec.rem_euclid(SECONDS as i64) as usize];
                        if bytes {
                            b.bytes
                        } else {
                            b.msgs
                        }
                    }
                    _ => 0,
                }
            })
            .collect()
    }
}

fn add(ring: &mut [[Bucket; SECONDS]; 2], latest: &mut Option<i64>, dir: Dir, t: i64, len: u32) {
    let sec = t.div_euclid(1_000_000);
    let l = match *latest {
        None => {
            *latest = Some(sec);
            sec
        }
        Some(l) if sec > l => {
            // Seconds that passed without traffic (at most the whole ring) start empty.
            let gap = (sec - l).min(SECONDS as i64);
            for back in 0..gap {
                let slot = (sec - back).rem_euclid(SECONDS as i64) as usize;
                ring[0][slot] = Bucket::default();
                ring[1][slot] = Bucket::default();
            }
            *latest = Some(sec);
            sec
        }
        Some(l) => l,
    };
    if sec <= l - SECONDS as i64 {
        return;
    }
    let b = &mut ring[dir as usize][sec.rem_euclid(SECONDS as i64) as usize];
    b.msgs += 1;
    b.bytes += u64::from(len);
}

/// A sparkline of `values` in block characters, scaled to their maximum.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| match v {
            0 => ' ',
            v => BARS[((v * 8).div_ceil(max.max(1)) as usize).clamp(1, 8) - 1],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_counted_per_direction_and_old_ones_forgotten() {
        let mut ring = [[Bucket::default(); SECONDS]; 2];
        let mut latest = None;
        for t in [0, 100, 1_000_000, 1_500_000] {
            add(&mut ring, &mut latest, Dir::C2s, t, 10);
        }
        add(&mut ring, &mut latest, Dir::S2c, 1_200_000, 300);
        let r = Rates {
            seen: Vec::new(),
            latest,
            ring,
            now: None,
        };
        assert_eq!(r.series(Dir::C2s, 1, 3, false), [0, 2, 2]);
        assert_eq!(r.series(Dir::S2c, 1, 2, true), [0, 300]);
        let mut r = r;
        add(&mut r.ring, &mut r.latest, Dir::C2s, 100_000_000, 1);
        assert_eq!(r.series(Dir::C2s, 100, 3, false), [0, 0, 1]);
        assert_eq!(r.series(Dir::C2s, 1, 2, false), [0, 0], "past the ring");
    }

    #[test]
    fn a_backlog_is_counted_from_the_seconds_the_ring_keeps() {
        // 300 seconds of one message a second: only the last ~65 are looked at.
        let mut session = Session::new("", None, 0);
        let events = (0..300i64)
            .map(|s| {
                let t = crate::record::Micros(1_000_000_000_000 + s * 1_000_000).to_rfc3339();
                let line = format!(
                    r#"{{"seq":{s},"t":"{t}","dir":"c2s","framing":"ndjson","msg":{{"jsonrpc":"2.0","method":"m"}}}}"#
                );
                crate::record::parse_line(line.as_bytes()).unwrap()
            })
            .collect();
        session.ingest(events, &mut Vec::new());
        let sessions = [session];
        let mut r = Rates::default();
        r.sync(&sessions);
        let end = 1_000_000 + 299;
        assert_eq!(r.series(Dir::C2s, end, 10, false), [1; 10]);
        let counted: u64 = r.ring[0].iter().map(|b| b.msgs).sum();
        assert_eq!(counted, SECONDS as u64, "the ring's seconds, not all 300");
        assert_eq!(r.seen, [300]);
    }

    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(sparkline(&[0, 1, 4, 8]), " ▁▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
    }
}
