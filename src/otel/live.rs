//! The shim's live export: a recorder `Observer` that queues events for an exporter
//! thread, which pairs them into spans, batches and sends.
//!
//! It never slows forwarding. The recorder (never a pump) pushes each event onto a queue
//! bounded in events and in body bytes, under a lock it holds for a push, with no wake-up
//! per event: the exporter thread takes the whole queue every `POLL`. When the queue is
//! full the event is dropped and counted, with one warning. The exporter thread runs at the
//! lowest priority, so on a busy machine it falls behind (and drops) rather than take CPU
//! from the pumps; a failing backend costs spans, never forwarding.

use super::sender::{Exporter, BATCH};
use super::spans::{SpanMaker, SpanOptions};
use crate::proxy::Observer;
use crate::record::{Event, Micros};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A partial batch (and the notifications gathered so far) is sent this often.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often the exporter thread takes what the recorder queued.
const POLL: Duration = Duration::from_millis(20);
/// Events waiting for the exporter thread at most, and their body bytes at most.
const QUEUE_EVENTS: usize = 8192;
const QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// When the session ends, the last spans get this long to leave before the shim exits.
/// Short: the supervisor gives the recorder (and so its observers, then live viewers)
/// about two seconds without progress before it exits anyway.
const FINISH_WAIT: Duration = Duration::from_millis(800);

#[derive(Default)]
struct Queue {
    events: Vec<Event>,
    bytes: usize,
    closed: bool,
}

type Shared = Arc<(Mutex<Queue>, Condvar)>;

/// The shim's observer: queues events for the exporter thread.
pub struct LiveExport {
    queue: Shared,
    dropped: u64,
    done: Option<mpsc::Receiver<Exporter>>,
}

impl LiveExport {
    /// Starts the exporter thread.
    pub fn start(exporter: Exporter, options: SpanOptions) -> std::io::Result<LiveExport> {
        let queue: Shared = Arc::default();
        let (done_tx, done) = mpsc::channel();
        let q = queue.clone();
        std::thread::Builder::new()
            .name("rpctap-otlp".into())
            .spawn(move || {
                // Pairing and encoding cost CPU the pumps may need: on a busy machine the
                // exporter falls behind (and drops, counted) rather than slow forwarding.
                crate::os::nice_this_thread();
                let exporter = run(exporter, SpanMaker::new(options), &q);
                let _ = done_tx.send(exporter);
            })?;
        Ok(LiveExport {
            queue,
            dropped: 0,
            done: Some(done),
        })
    }
}

fn size(event: &Event) -> usize {
    match event {
        Event::Message(m) => m.body.len(),
        _ => 64,
    }
}

fn lock(q: &Shared) -> std::sync::MutexGuard<'_, Queue> {
    // A panic elsewhere while holding the lock leaves a queue that is still sound.
    q.0.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Observer for LiveExport {
    fn event(&mut self, event: &Event) {
        if matches!(event, Event::Noise(_) | Event::Stderr(_) | Event::Gap(_)) {
            return;
        }
        let n = size(event);
        let mut q = lock(&self.queue);
        if q.events.len() >= QUEUE_EVENTS || q.bytes + n > QUEUE_BYTES {
            drop(q);
            if self.dropped == 0 {
                eprintln!(
                    "rpctap: warning: OpenTelemetry export is behind; dropping events (forwarding is not affected)"
                );
            }
            self.dropped += 1;
            return;
        }
        q.bytes += n;
        q.events.push(event.clone());
    }

    fn finish(&mut self) {
        lock(&self.queue).closed = true;
        self.queue.1.notify_one();
        // Said first: the shim may exit while the last spans are being sent.
        if self.dropped > 0 {
            eprintln!(
                "rpctap: warning: OpenTelemetry export dropped {} events it could not keep up with",
                self.dropped
            );
        }
        let Some(done) = self.done.take() else { return };
        match done.recv_timeout(FINISH_WAIT) {
            Ok(exporter) => {
                if let Some(e) = &exporter.first_error {
                    eprintln!(
                        "rpctap: warning: OpenTelemetry: {} of {} spans not delivered ({e})",
                        exporter.failed,
                        exporter.sent + exporter.failed
                    );
                }
            }
            Err(_) => eprintln!(
                "rpctap: warning: OpenTelemetry: the last spans were still being sent at exit"
            ),
        }
    }
}

/// Takes everything queued, waiting up to `POLL`; `None` once closed and empty.
fn take(q: &Shared, into: &mut Vec<Event>) -> Option<()> {
    let mut guard = lock(q);
    if guard.events.is_empty() && !guard.closed {
        guard =
            q.1.wait_timeout(guard, POLL)
                .map_or_else(|e| e.into_inner().0, |r| r.0);
    }
    if guard.events.is_empty() && guard.closed {
        return None;
    }
    std::mem::swap(&mut guard.events, into);
    guard.bytes = 0;
    Some(())
}

/// The exporter thread: until the queue closes, pair and batch; then close what is open.
fn run(mut exporter: Exporter, mut maker: SpanMaker, queue: &Shared) -> Exporter {
    let mut batch = Vec::new();
    let mut events = Vec::new();
    let mut exit: Option<Micros> = None;
    let mut next_flush = Instant::now() + FLUSH_EVERY;
    while take(queue, &mut events).is_some() {
        for event in events.drain(..) {
            match &event {
                Event::Exit(e) => exit = Some(e.t),
                Event::Session(info) => exporter.set_service(&info.name),
                _ => {}
            }
            maker.event(&event, &mut batch);
            if batch.len() >= BATCH {
                exporter.send_or_warn(&mut batch);
            }
        }
        if Instant::now() >= next_flush {
            maker.flush_notifications(&mut batch);
            exporter.send_or_warn(&mut batch);
            next_flush = Instant::now() + FLUSH_EVERY;
        }
    }
    maker.finish(exit, &mut batch);
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(BATCH));
        exporter.send_or_warn(&mut batch);
        batch = rest;
    }
    exporter
}
