//! The server under replay as a stream of events: spawned through `child`, its stdout read
//! by the shim's own pump into the shim's decoder, its stderr pumped through, its exit
//! watched — all arriving in one bounded inbox, so the replay loop blocks on a single
//! receive and a flooding server is slowed down instead of growing rpctap's memory.
//! With `--record`, the same `Tap` and `Recorder` as the shim's write a normal recording.
//!
//! Not responsible for: what to send or when (see `engine`).

use super::ReplayError;
use crate::child::{self, Child};
use crate::proxy::{pump, FileSink, Lane, Recorder, RecorderConfig, Tap, TapMsg};
use crate::record::{Micros, SessionInfo};
use crate::session::Store;
use crate::wire::{DecodeError, Decoder, FrameKind, Framing, Limits};
use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io::Write;
use std::process::ExitStatus;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

/// Decoded messages that may wait for the replay loop before the reader stops reading
/// (and so, through the full pipe, the server stops writing).
const INBOX: usize = 1024;

/// What the server did.
#[derive(Debug)]
pub enum Incoming {
    /// A whole message on stdout, stamped when its last bytes were read.
    Message(Instant, Bytes),
    /// Stdout ended; `truncated` when it ended in the middle of a message.
    Eof {
        truncated: Option<DecodeError>,
    },
    Exited(ExitStatus),
}

/// A running server: its process, its stdin and the inbox of what it does.
pub struct Server {
    pub child: Child,
    pub stdin: Arc<File>,
    pub inbox: Receiver<Incoming>,
    pub tap: Tap,
    recorder_done: Option<Receiver<()>>,
}

/// Spawns `command` and starts its readers. `quiet` sends the server's stderr only to the
/// recording (a TUI owns the terminal).
pub fn start(
    store: &Store,
    command: &[String],
    record: Option<&crate::files::Created>,
    quiet: bool,
) -> Result<Server, ReplayError> {
    let (tx, inbox) = mpsc::sync_channel(INBOX);
    let exited = tx.clone();
    let (child, pipes) = child::spawn(
        command,
        (child::Output::Piped, child::Output::Piped),
        move |s| {
            let _ = exited.send(Incoming::Exited(s));
        },
    )?;
    let (tap, recorder_done) = start_recorder(store, command, record)?;
    if let Some(stderr) = pipes.stderr {
        let tap = tap.clone();
        std::thread::spawn(move || {
            let out: Box<dyn Write + Send> = if quiet {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::stderr())
            };
            pump(stderr, out, Lane::Stderr, &tap, || {})
        });
    }
    if let Some(stdout) = pipes.stdout {
        let tap = tap.clone();
        std::thread::spawn(move || {
            let mut frames = Frames::new(tx);
            pump(stdout, &mut frames, Lane::S2c, &tap, || {});
            frames.finish();
        });
    }
    Ok(Server {
        child,
        stdin: pipes.stdin,
        inbox,
        tap,
        recorder_done,
    })
}

impl Server {
    /// Records the server's exit and waits (bounded) for the recording to be complete.
    pub fn finish_recording(self, exit: crate::record::Exit) {
        self.tap.send(TapMsg::Exit(exit));
        drop(self.tap);
        if let Some(done) = self.recorder_done {
            let _ = done.recv_timeout(std::time::Duration::from_secs(5));
        }
    }
}

/// The pump's destination for the server's stdout: decodes what it is given into the
/// inbox. A write fails once the replay loop is gone, and the pump then only drains.
struct Frames {
    decoder: Decoder,
    buf: BytesMut,
    tx: SyncSender<Incoming>,
}

impl Frames {
    fn new(tx: SyncSender<Incoming>) -> Frames {
        Frames {
            decoder: Decoder::new(None, Limits::default()),
            buf: BytesMut::new(),
            tx,
        }
    }

    fn deliver(&self, at: Instant, frame: crate::wire::Frame) -> std::io::Result<()> {
        if frame.kind != FrameKind::Message {
            return Ok(());
        }
        self.tx
            .send(Incoming::Message(at, frame.body))
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }

    fn finish(mut self) {
        let (frames, truncated) = self.decoder.finish(&mut self.buf);
        let now = Instant::now();
        for f in frames {
            let _ = self.deliver(now, f);
        }
        let _ = self.tx.send(Incoming::Eof { truncated });
    }
}

impl Write for Frames {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let now = Instant::now();
        self.buf.extend_from_slice(bytes);
        while let Some(f) = self.decoder.decode(&mut self.buf) {
            self.deliver(now, f)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the replayed client's messages to the server, recording them first.
pub struct Writer<'a> {
    pub file: &'a File,
    pub tap: &'a Tap,
    pub framing: Framing,
    pub broken: bool,
}

impl Writer<'_> {
    pub fn send(&mut self, body: &[u8]) {
        if self.broken {
            return;
        }
        let bytes = Bytes::from(crate::wire::framed(self.framing, body));
        // Recorded before the write, as in the shim, so answers never precede requests.
        self.tap.offer(Lane::C2s, Micros::now(), bytes.clone());
        let mut file = self.file;
        if file.write_all(&bytes).is_err() {
            self.broken = true;
        }
    }
}

fn start_recorder(
    store: &Store,
    command: &[String],
    created: Option<&crate::files::Created>,
) -> Result<(Tap, Option<Receiver<()>>), ReplayError> {
    // Without a recording the receiver is dropped at once and the tap discards.
    let (tap, rx) = crate::proxy::tap(
        8 * 1024 * 1024,
        created.and_then(|c| c.path.parent()).map(Into::into),
    );
    let Some(created) = created else {
        return Ok((tap, None));
    };
    let path = &created.path;
    let file = created
        .file
        .try_clone()
        .map_err(|e| ReplayError::Record(e.into()))?;
    let name = store
        .info
        .as_ref()
        .map_or("replay".to_owned(), |i| format!("replay of {}", i.name));
    let started = Micros::now();
    let info = SessionInfo {
        id: format!(
            "{}-{}",
            started.datetime().format("%Y%m%d-%H%M%S"),
            std::process::id()
        ),
        name,
        command: command.to_vec(),
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        pid: std::process::id(),
        started: started.to_rfc3339(),
        protocol: store.protocol.map(|p| p.as_str().to_owned()),
    };
    let recorder = Recorder::new(
        RecorderConfig {
            framing: None,
            limits: Limits::default(),
            redact: crate::record::redact::Redactor::default(),
            observers: Vec::new(),
        },
        Some(FileSink::new(Some(path.to_owned()), file)),
        None,
    );
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        recorder.run(info, rx);
        let _ = done_tx.send(());
    });
    Ok((tap, Some(done_rx)))
}
