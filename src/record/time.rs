//! Timestamps: microseconds since the Unix epoch, written as RFC 3339 UTC with µs.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time with microsecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

impl Micros {
    pub fn now() -> Micros {
        Micros(Utc::now().timestamp_micros())
    }

    pub fn to_rfc3339(self) -> String {
        self.datetime().to_rfc3339_opts(SecondsFormat::Micros, true)
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
    }
}
