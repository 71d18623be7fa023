//! Progress on stderr while a replay runs: a bar on a terminal, a line now and then in logs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Progress on stderr for long replays: a bar redrawn at most ten times a second on a
/// terminal; elsewhere (CI logs) a line every ten seconds once the replay has run that long.
pub struct Progress {
    enabled: bool,
    tty: bool,
    total: usize,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool, total: usize) -> Progress {
        Progress {
            enabled,
            tty: std::io::stderr().is_terminal(),
            total,
            started: Instant::now(),
            last: None,
        }
    }

    fn every(&self) -> Duration {
        if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(10)
        }
    }

    pub fn update(&mut self, sent: usize, answered: usize) {
        let since = self.last.unwrap_or(self.started).elapsed();
        if !self.enabled || since < self.every() {
            return;
        }
        self.last = Some(Instant::now());
        eprint!("{}", self.line(sent, answered));
    }

    fn line(&self, sent: usize, answered: usize) -> String {
        const WIDTH: usize = 30;
        let text = format!(
            "rpctap replay: {sent}/{} messages sent, {answered} answered",
            self.total
        );
        if !self.tty {
            return format!("{text}\n");
        }
        let done = (sent * WIDTH)
            .checked_div(self.total)
            .unwrap_or(WIDTH)
            .min(WIDTH);
        format!(
            "\r[{}{}] {text}",
            "#".repeat(done),
            "-".repeat(WIDTH - done)
        )
    }

    pub fn finish(&mut self, sent: usize, answered: usize) {
        // A bar that was drawn is completed and ended with a newline.
        if self.enabled && self.tty && self.last.is_some() {
            eprintln!("{}", self.line(sent, answered));
        }
    }
}
