//! Traffic first: background work of the shim (the live checker, the recorder with small
//! messages) that stands aside while the pumps move a burst. It watches a byte count that
//! grows with the traffic (the recording's committed length, the bytes offered to the tap)
//! and waits while that count grows as in a burst, so that the work does not compete with
//! the pumps for cores, memory bandwidth and caches; it catches up when the burst is over.
//!
//! Not responsible for: where the waiting work's input goes meanwhile (the recording file,
//! the tap's spill file), or deciding whether standing aside pays (the caller).

use std::time::{Duration, Instant};

/// How often the count is looked at.
pub const LOOK: Duration = Duration::from_millis(20);
/// Growth per `LOOK` from which the work waits (about 13 MB/s: a burst, not a session's
/// usual traffic).
pub const BURST: u64 = 256 * 1024;

/// Looks at the count every `LOOK`, and waits while it grew by `BURST` or more since the
/// last look.
#[derive(Debug, Default)]
pub struct Pace {
    /// When to look next, and the count seen at the last look.
    next: Option<Instant>,
    count: u64,
}

impl Pace {
    /// How long to wait before looking again, or `None` to work on. `done`: the traffic
    /// has ended, nothing to stand aside for.
    pub fn wait(&mut self, now: Instant, count: u64, done: bool) -> Option<Duration> {
        if done {
            return None;
        }
        if self.next.is_some_and(|next| now < next) {
            return None;
        }
        let grew = count.saturating_sub(self.count);
        (self.next, self.count) = (Some(now + LOOK), count);
        (grew >= BURST).then_some(LOOK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_waits_while_the_count_grows_as_in_a_burst() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut pace = Pace::default();
        // The first look: a megabyte already there counts as a burst.
        assert_eq!(pace.wait(at(0), 1 << 20, false), Some(LOOK));
        // Between looks, the work is not held up.
        assert_eq!(pace.wait(at(5), 2 << 20, false), None);
        // Still growing fast at the next look: wait again.
        assert_eq!(pace.wait(at(20), 2 << 20, false), Some(LOOK));
        // Slow growth (a session's usual traffic): work on.
        assert_eq!(pace.wait(at(40), (2 << 20) + 1000, false), None);
        // A burst again, then the traffic ends: work on at once.
        assert_eq!(pace.wait(at(60), 3 << 20, false), Some(LOOK));
        assert_eq!(pace.wait(at(80), 4 << 20, true), None);
    }
}
