//! Timestamps: microseconds since the Unix epoch, written as RFC 3339 UTC with µs.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time with microsecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

impl Micros {
    /// A time that a foreign format writes as a float count of units (seconds:
    /// `micros_per_unit` 1e6; milliseconds: 1e3). A float-to-integer `as` saturates and
    /// maps NaN to 0, which is what a garbage timestamp should become.
    #[allow(clippy::cast_possible_truncation)]
    pub fn from_units(units: f64, micros_per_unit: f64) -> Micros {
        Micros((units * micros_per_unit) as i64)
    }

    pub fn now() -> Micros {
        Micros(Utc::now().timestamp_micros())
    }

    pub fn to_rfc3339(self) -> String {
        self.datetime().to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Appends `to_rfc3339()` to `out`. The recorder writes one per event, so the date
    /// and time of day are formatted once per second and reused.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        thread_local! {
            static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
        }
        let (secs, micros) = (self.0.div_euclid(1_000_000), self.0.rem_euclid(1_000_000));
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if last.0 != secs {
                let whole = Micros(secs * 1_000_000).datetime();
                *last = (secs, whole.format("%Y-%m-%dT%H:%M:%S.").to_string());
            }
            out.extend_from_slice(last.1.as_bytes());
        });
        let mut digits = [b'0'; 6];
        let mut m = micros;
        for d in digits.iter_mut().rev() {
            *d = b'0' + u8::try_from(m % 10).unwrap_or(0);
            m /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }

    pub fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    pub fn parse(s: &str) -> Option<Micros> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| Micros(d.timestamp_micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Micros(1_763_700_000_123_456);
        assert_eq!(t.to_rfc3339(), "2025-11-21T04:40:00.123456Z");
        assert_eq!(Micros::parse(&t.to_rfc3339()), Some(t));
        assert_eq!(Micros::parse("yesterday"), None);
        for t in [
            t,
            Micros(0),
            Micros(-1),
            Micros(1_763_700_000_000_001),
            Micros(1_763_700_000_999_999),
        ] {
            let mut out = Vec::new();
            t.write_rfc3339(&mut out);
            t.write_rfc3339(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), t.to_rfc3339().repeat(2));
        }
    }
}
