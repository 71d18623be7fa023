//! The recording reader's line parser on any line: never panics; and whatever it accepts,
//! the writer encodes as a line the parser accepts again and that encodes identically (the
//! recorded form is a fixed point, so open → save → open loses nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::record::{encode_event, parse_line};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = parse_line(data) else {
        return;
    };
    let mut line = Vec::new();
    encode_event(&mut line, &event);
    assert_eq!(
        line.last(),
        Some(&b'\n'),
        "an encoded line ends with its newline"
    );
    let body = &line[..line.len() - 1];
    assert!(!body.contains(&b'\n'), "an encoded event spans lines");
    let again = match parse_line(body) {
        Ok(e) => e,
        Err(e) => panic!(
            "the writer's own line does not parse: {e}\n{}",
            String::from_utf8_lossy(body)
        ),
    };
    let mut line2 = Vec::new();
    encode_event(&mut line2, &again);
    assert!(
        line2 == line,
        "encoding is not stable:\n{}\n{}",
        String::from_utf8_lossy(&line),
        String::from_utf8_lossy(&line2)
    );
});
