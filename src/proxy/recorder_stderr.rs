//! The child's stderr in the recording: cut into lines (a line longer than
//! `MAX_STDERR_LINE`, or what is left at the end of the stream, is cut there), one
//! `stderr` event each.

use super::{Recorder, STDERR};
use crate::record::{Event, Micros, StderrEvent};
use bytes::Bytes;

/// A stderr line longer than this is recorded in pieces.
const MAX_STDERR_LINE: usize = 64 * 1024;

impl Recorder {
    pub(super) fn stderr_lines(&mut self, t: Micros, at_eof: bool) {
        loop {
            let end = match memchr::memchr(b'\n', &self.stderr) {
                Some(i) => i + 1,
                None if self.stderr.len() > MAX_STDERR_LINE => self.stderr.len(),
                None if at_eof && !self.stderr.is_empty() => self.stderr.len(),
                None => return,
            };
            let line = self.stderr.split_to(end).freeze();
            let text = trim_eol(&line);
            let seq = self.next_seq();
            self.emit(
                &Event::Stderr(StderrEvent { seq, t, text }),
                STDERR,
                end as u64,
            );
        }
    }
}

fn trim_eol(line: &Bytes) -> Bytes {
    let mut end = line.len();
    if line[..end].ends_with(b"\n") {
        end -= 1;
    }
    if line[..end].ends_with(b"\r") {
        end -= 1;
    }
    line.slice(..end)
}
