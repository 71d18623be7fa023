//! Checks a file: its events streamed through a `Checker`, each violation placed at the
//! line of the file that holds its message.

use super::report::{FileReport, Finding};
use super::{Checker, Selection};
use crate::record::{open, Event, Format, ReadError};
use std::path::Path;

/// Checks one file of any supported format.
pub fn check_file(path: &Path, select: &Selection) -> Result<FileReport, ReadError> {
    let name = path.display().to_string();
    let mut report = FileReport {
        file: name.clone(),
        messages: 0,
        findings: Vec::new(),
    };
    let mut checker = Checker::new();
    let mut add = |event: &Event, line: usize, report: &mut FileReport| {
        if matches!(event, Event::Message(_)) {
            report.messages += 1;
        }
        for v in checker.event(event) {
            if select.accepts(v.rule) {
                report.findings.push(Finding {
                    file: name.clone(),
                    line,
                    violation: v.clone(),
                });
            }
        }
    };
    let (format, events) = open(path)?;
    if format == Format::Rpctap {
        // Streamed, so a recording of any size checks in bounded memory.
        drop(events);
        let mut reader = crate::record::read_file(path)?;
        while let Some(event) = reader.next() {
            let event = event?;
            let line = reader.line();
            add(&event, line, &mut report);
        }
    } else {
        let (events, lines) = crate::record::import::open_with_lines(path)?;
        for (event, line) in events.iter().zip(lines) {
            add(event, line, &mut report);
        }
    }
    Ok(report)
}
