//! The TUI's pretty JSON printer on any body: never panics; refuses exactly what is not
//! one JSON value; every line's indentation stays bounded whatever the depth (memory
//! linear in the body); and the printed lines, read back as JSON, are the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::tui::json::{pretty, MAX_INDENT};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let valid = rpctap::record::redact::is_json(data);
    assert_eq!(pretty(data, &mut out, 1_000_000), valid);
    if !valid {
        assert!(out.is_empty());
        return;
    }
    let mut text = String::new();
    for line in &out {
        let indent: usize = line
            .iter()
            .take_while(|(t, _)| t.bytes().all(|b| b == b' ') || t.starts_with('↳'))
            .map(|(t, _)| t.len())
            .sum();
        assert!(indent <= 2 * MAX_INDENT + 24, "a line indented by {indent} bytes");
        for (t, _) in line {
            // Depth markers stand in for indentation; every token is its own segment.
            if !t.starts_with('↳') {
                text.push_str(t);
            }
        }
        text.push('\n');
    }
    if let Ok(want) = serde_json::from_slice::<Value>(data) {
        let got: Value = serde_json::from_str(&text).expect("the printed lines are JSON");
        assert_eq!(got, want);
    }
});
