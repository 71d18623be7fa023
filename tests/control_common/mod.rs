//! A shim in front of `tests/fixtures/control/echo_server.py` for the control tests: the
//! test plays the client on the shim's stdin and stdout (answering the requests the shim
//! sends it with `"answered"`), and finds the control socket the shim publishes.
#![allow(dead_code)]

use crate::common::{rpctap, wait_bounded, HANG};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/control/echo_server.py"
);

pub struct Shim {
    child: Child,
    /// The session speaks newline-delimited JSON, not Content-Length frames.
    pub ndjson: bool,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    out: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    home: PathBuf,
    pub rec: PathBuf,
    pub log: PathBuf,
    pub control: PathBuf,
}

/// The Content-Length frames of `bytes`, parsed.
pub fn frames_of(mut bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(end) = find(bytes, b"\r\n\r\n") {
        let head = std::str::from_utf8(&bytes[..end]).unwrap();
        let n: usize = head.trim_start_matches("Content-Length: ").parse().unwrap();
        let body = &bytes[end + 4..end + 4 + n];
        out.push(serde_json::from_slice(body).unwrap());
        bytes = &bytes[end + 4 + n..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The complete lines of `bytes`, parsed.
pub fn lines_of(bytes: &[u8]) -> Vec<Value> {
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes[..end]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn parse(bytes: &[u8], ndjson: bool) -> Vec<Value> {
    if ndjson {
        lines_of(bytes)
    } else {
        frames_of(bytes)
    }
}

fn encode(v: &Value, ndjson: bool) -> Vec<u8> {
    if ndjson {
        let mut line = serde_json::to_vec(v).unwrap();
        line.push(b'\n');
        line
    } else {
        frame(v)
    }
}

pub fn frame(v: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(v).unwrap();
    let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    f.extend_from_slice(&body);
    f
}

impl Shim {
    pub fn start(home: &Path) -> Shim {
        Shim::start_framed(home, false)
    }

    /// A shim whose server speaks newline-delimited JSON (`ndjson`) or Content-Length.
    pub fn start_framed(home: &Path, ndjson: bool) -> Shim {
        let rec = home.join("rec.jsonl");
        let log = home.join("server-read.bin");
        let mut child = rpctap(home)
            .arg("--record")
            .arg(&rec)
            .args(["--", "python3", SERVER])
            .arg(&log)
            .args(ndjson.then_some("ndjson"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the shim");
        let stdin = Arc::new(Mutex::new(child.stdin.take()));
        let out = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let (stdin, out) = (stdin.clone(), out.clone());
            let mut stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut answered = 0;
                while let Ok(n) = stdout.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut all = out.lock().unwrap();
                    all.extend_from_slice(&buf[..n]);
                    let asks: Vec<Value> = parse(&all, ndjson)
                        .into_iter()
                        .filter(|f| f["method"] == "client/ask")
                        .collect();
                    drop(all);
                    for ask in &asks[answered..] {
                        let answer = json!({"jsonrpc":"2.0","id":ask["id"],"result":"answered"});
                        if let Some(w) = stdin.lock().unwrap().as_mut() {
                            let _ = w.write_all(&encode(&answer, ndjson));
                        }
                    }
                    answered = asks.len();
                }
            })
        };
        let run = home.join("run");
        let start = Instant::now();
        let control = loop {
            let found = std::fs::read_dir(&run).ok().and_then(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "ctl"))
            });
            // The socket is bound before the discovery file is written: wait for both,
            // as a client finding the session through the file does.
            let published = |c: &PathBuf| {
                std::fs::read(c.with_extension("json"))
                    .ok()
                    .is_some_and(|b| serde_json::from_slice::<Value>(&b).is_ok())
            };
            if let Some(c) = found.filter(published) {
                break c;
            }
            assert!(
                start.elapsed() < HANG,
                "no control socket and discovery file in {}",
                run.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        Shim {
            child,
            ndjson,
            stdin,
            out,
            reader: Some(reader),
            home: home.to_owned(),
            rec,
            log,
            control,
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Writes bytes on the shim's stdin, as the client.
    pub fn write(&self, bytes: &[u8]) {
        let mut w = self.stdin.lock().unwrap();
        let w = w.as_mut().expect("stdin open");
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    /// What the client has received so far.
    pub fn received(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }

    /// Waits until the client has received `n` frames; returns them.
    pub fn wait_frames(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = parse(&self.received(), self.ndjson);
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < HANG,
                "only {} of {n} frames: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A client thread writing `messages`, each in two pieces split inside the frame.
    pub fn spawn_client(&self, messages: impl Iterator<Item = Value>) -> JoinHandle<()> {
        let stdin = self.stdin.clone();
        let ndjson = self.ndjson;
        let frames: Vec<Vec<u8>> = messages.map(|m| encode(&m, ndjson)).collect();
        std::thread::spawn(move || {
            for f in frames {
                let (a, b) = f.split_at(f.len() / 2);
                for piece in [a, b] {
                    {
                        let mut w = stdin.lock().unwrap();
                        let w = w.as_mut().unwrap();
                        w.write_all(piece).unwrap();
                        w.flush().unwrap();
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
    }

    /// The messages the client received so far.
    pub fn messages(&self) -> Vec<Value> {
        parse(&self.received(), self.ndjson)
    }

    /// Closes the client's side and waits for the shim: (what the client received, what
    /// the server read, the recording).
    pub fn finish(mut self) -> (Vec<u8>, Vec<u8>, PathBuf) {
        self.stdin.lock().unwrap().take();
        let status = wait_bounded(&mut self.child, HANG);
        assert!(status.success(), "shim exited with {status}");
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = std::fs::read(&self.log).unwrap();
        (self.received(), log, self.rec.clone())
    }
}
