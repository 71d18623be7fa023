//! Human-readable formatting shared by the command line and the TUI.

use crate::record::Micros;

/// `850µs`, `12.3ms`, `1.25s`.
pub fn latency(us: i64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// `512B`, `1.5kB`, `20.0MB`.
pub fn size(bytes: u64) -> String {
    if bytes < 1_000 {
        format!("{bytes}B")
    } else if bytes < 1_000_000 {
        format!("{:.1}kB", bytes as f64 / 1e3)
    } else {
        format!("{:.1}MB", bytes as f64 / 1e6)
    }
}

/// Time of day in local time with microseconds.
pub fn clock(t: Micros) -> String {
    t.datetime()
        .with_timezone(&chrono::Local)
        .format("%H:%M:%S%.6f")
        .to_string()
}

/// An RFC 3339 time (a session's start) as local `YYYY-MM-DD HH:MM:SS`; empty if unreadable.
pub fn date_time(rfc3339: &str) -> String {
    Micros::parse(rfc3339)
        .map(|t| {
            t.datetime()
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// Seconds since `start`, e.g. `+12.345678`.
pub fn relative(t: Micros, start: Micros) -> String {
    let d = t.0 - start.0;
    let sign = if d < 0 { "-" } else { "+" };
    let d = d.abs();
    format!("{sign}{}.{:06}", d / 1_000_000, d % 1_000_000)
}

/// Text from a recording, with control characters shown as escapes (`\u{1b}`): a hostile
/// method name or key must not drive the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("héllo"), "héllo");
    }

    #[test]
    fn units() {
        assert_eq!(latency(850), "850µs");
        assert_eq!(latency(12_345), "12.3ms");
        assert_eq!(latency(1_250_000), "1.25s");
        assert_eq!(size(20_000_000), "20.0MB");
        assert_eq!(relative(Micros(2_500_000), Micros(1_000_000)), "+1.500000");
    }
}
