//! The sessions on this machine, for the hub and `rpctap ls`: the recordings in the state
//! directory and the running shims (their discovery files), merged into one list, newest
//! first.
//!
//! Recordings written elsewhere (`--record PATH`) are listed too, from the index the shim
//! adds them to (`crate::index`). Every recording is one entry, named by its file's
//! identity (device and inode), so a path that now holds another session never shows the
//! old one. A live session whose recording is in the list is that entry, marked live. A
//! live session not recording (`--no-record`), or whose recording is not listed (yet), is
//! an entry of its own, and stays listed after its shim exits for as long as the catalog
//! lives, so that a hub watching it sees it end rather than vanish — unless its recording
//! becomes another file, which makes the entry stale and it goes.
//!
//! Not responsible for: reading a recording's contents (see `session::Summaries`), serving
//! or attaching to live feeds (see `live`).

use crate::live::LiveSession;
use crate::record::{Exit, Micros, SessionInfo};
use crate::session::{Summaries, Summary};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Recordings listed at most: the most recently written ones.
pub const RECORDINGS_LIMIT: usize = 200;

/// How a listed session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The shim runs: it publishes a live feed, or its recording has no exit line yet and
    /// the shim's process is still there.
    Live,
    /// The shim wrote its exit line.
    Exited(Exit),
    /// The recording ends without an exit line: the shim was killed (SIGKILL) or the
    /// machine went down.
    NoExit,
    /// A shim that recorded nothing has gone; how it ended is unknown.
    Gone,
}

impl State {
    /// `● live`, `ended · exit 0`, `killed by signal 9`, …
    pub fn text(&self) -> String {
        match self {
            State::Live => "● live".into(),
            State::Exited(e) => match (e.code, e.signal) {
                (_, Some(sig)) => format!("killed by signal {sig}"),
                (Some(code), None) => format!("ended · exit {code}"),
                (None, None) => "ended".into(),
            },
            State::NoExit => "ended · no exit line".into(),
            State::Gone => "ended · not recorded".into(),
        }
    }

    /// Ended badly: a non-zero exit code, a signal, or no exit line.
    pub fn failed(&self) -> bool {
        match self {
            State::Exited(e) => e.signal.is_some() || e.code.unwrap_or(0) != 0,
            State::NoExit => true,
            State::Live | State::Gone => false,
        }
    }
}

/// One listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub info: SessionInfo,
    pub recording: Option<PathBuf>,
    /// The shim's live-feed socket (it exists while the state is `Live`).
    pub socket: Option<PathBuf>,
    /// Counts, protocol and exit, from the recording; `None` without one.
    pub summary: Option<Summary>,
    pub state: State,
}

impl Entry {
    /// What names the entry across refreshes: its recording, else its socket.
    pub fn key(&self) -> &Path {
        self.recording
            .as_deref()
            .or(self.socket.as_deref())
            .unwrap_or(Path::new(""))
    }
}

/// Lists sessions, keeping what it needs between listings (scans, live sessions seen).
/// One listing: the sessions, and why a directory was not read (`Catalog::refused`).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub refused: Vec<String>,
}

pub struct Catalog {
    pub sessions_dir: PathBuf,
    pub runtime_dir: PathBuf,
    /// The index of recordings outside `sessions_dir` (see `crate::index`).
    pub index_dir: PathBuf,
    pub limit: usize,
    summaries: Summaries,
    /// Live sessions seen whose recording is not listed, with the identity their recording
    /// had when first seen.
    elsewhere: Vec<(LiveSession, Option<FileId>)>,
    /// Why a directory was not read at the last listing (a symbolic link, another
    /// user's, writable by others), one line each.
    pub refused: Vec<String>,
}

impl Catalog {
    pub fn new(sessions_dir: PathBuf, runtime_dir: PathBuf) -> Catalog {
        let index_dir = sessions_dir.parent().unwrap_or(Path::new("")).join("index");
        Catalog {
            sessions_dir,
            runtime_dir,
            index_dir,
            limit: RECORDINGS_LIMIT,
            summaries: Summaries::new(),
            elsewhere: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// The state directory's sessions and the runtime directory's shims (§3).
    pub fn from_env() -> Catalog {
        Catalog::new(crate::paths::sessions_dir(), crate::live::runtime_dir())
    }

    /// `list` with the reasons any directory was refused, for the hub to show them as
    /// `rpctap ls` prints them.
    pub fn listing(&mut self) -> Listing {
        let entries = self.list();
        Listing {
            entries,
            refused: self.refused.clone(),
        }
    }

    /// The sessions as they are now, newest first. Removes stale discovery files (see
    /// `live::live_sessions`).
    pub fn list(&mut self) -> Vec<Entry> {
        self.refused.clear();
        let live = crate::live::live_sessions_checked(&self.runtime_dir).unwrap_or_else(|e| {
            self.refused.push(e.to_string());
            Vec::new()
        });
        let files = self.recent_recordings();
        // Files are matched by device and inode: a shim may spell the path differently.
        let listed: HashSet<FileId> = files.iter().map(|(_, m)| id(m)).collect();
        let live_ids: Vec<Option<FileId>> = live.iter().map(recording_id).collect();
        let mut out = Vec::new();
        for (path, meta) in &files {
            let live_here = live
                .iter()
                .zip(&live_ids)
                .find(|(_, r)| **r == Some(id(meta)))
                .map(|(l, _)| l);
            let summary = self.summaries.get(path, meta);
            let info = match (&summary, live_here) {
                (Some(s), _) => s.info.clone(),
                // The shim has created its recording but not written the header yet.
                (None, Some(l)) => l.info.clone(),
                (None, None) => continue,
            };
            let socket = live_here.map(|l| l.socket.clone());
            let published = socket.is_some();
            out.push(entry(info, Some(path.clone()), socket, published, summary));
        }
        for (l, r) in live.iter().zip(&live_ids) {
            let here = r.is_some_and(|r| listed.contains(&r));
            if !here && !self.elsewhere.iter().any(|(e, _)| e.socket == l.socket) {
                self.elsewhere.push((l.clone(), *r));
            }
        }
        self.elsewhere.retain(|(l, first)| {
            let now = recording_id(l);
            // Its recording is listed (it is that entry), or is now another file (stale).
            now.is_none_or(|r| !listed.contains(&r)) && (first.is_none() || now == *first)
        });
        for (l, first) in &mut self.elsewhere {
            // A recording that appeared after the session was first seen.
            *first = first.or_else(|| recording_id(l));
            let published = live.iter().any(|x| x.socket == l.socket);
            let summary = l.recording.as_deref().and_then(|r| {
                let meta = std::fs::metadata(r).ok()?;
                self.summaries.get(r, &meta)
            });
            let (info, recording) = (l.info.clone(), l.recording.clone());
            let socket = Some(l.socket.clone());
            out.push(entry(info, recording, socket, published, summary));
        }
        let keep: HashSet<&Path> = out.iter().filter_map(|e| e.recording.as_deref()).collect();
        self.summaries.retain(|p| keep.contains(p));
        out.sort_by_cached_key(|e| {
            let t = Micros::parse(&e.info.started).unwrap_or_default();
            (std::cmp::Reverse(t), e.key().to_path_buf())
        });
        out
    }

    /// The `*.jsonl` files of the sessions directory and the indexed ones elsewhere, the
    /// `limit` most recently written, each file once. The sessions directory (and the state
    /// directory above it) is read only if it is this user's and nobody else may write to
    /// it, as the shim requires when it records there; its files only if they are regular
    /// files, never through a symbolic link.
    fn recent_recordings(&mut self) -> Vec<(PathBuf, std::fs::Metadata)> {
        let state = crate::paths::state_dir();
        if self.sessions_dir == crate::paths::sessions_dir() && !self.private(&state) {
            return Vec::new();
        }
        let listed = self.private(&self.sessions_dir.clone());
        let mut files: Vec<(PathBuf, std::fs::Metadata)> = std::fs::read_dir(&self.sessions_dir)
            .into_iter()
            .filter(|_| listed)
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .filter_map(|p| {
                let meta = std::fs::symlink_metadata(&p).ok()?;
                meta.is_file().then_some((p, meta))
            })
            .collect();
        let mut seen: HashSet<FileId> = files.iter().map(|(_, m)| id(m)).collect();
        for (p, meta) in crate::index::list(&self.index_dir) {
            if seen.insert(id(&meta)) {
                files.push((p, meta));
            }
        }
        files.sort_by_key(|(_, m)| std::cmp::Reverse((m.mtime(), m.mtime_nsec())));
        files.truncate(self.limit);
        files
    }

    /// Whether `dir` passes `paths::check_private_dir`; a refusal is noted in `refused`, a
    /// missing directory is silently empty.
    fn private(&mut self, dir: &Path) -> bool {
        match crate::paths::check_private_dir(dir) {
            Ok(()) => true,
            Err(e) if e.is_missing() => false,
            Err(e) => {
                self.refused.push(e.to_string());
                false
            }
        }
    }
}

/// An entry whose state follows from its recording and whether its shim publishes now.
fn entry(
    info: SessionInfo,
    recording: Option<PathBuf>,
    socket: Option<PathBuf>,
    published: bool,
    summary: Option<Summary>,
) -> Entry {
    // The exit line is the last word, even while the discovery files are still there.
    let state = match summary.as_ref().map(|s| s.exit) {
        Some(Some(exit)) => State::Exited(exit),
        _ if published || shim_running(info.pid) => State::Live,
        Some(None) => State::NoExit,
        None => State::Gone,
    };
    Entry {
        info,
        recording,
        socket,
        summary,
        state,
    }
}

/// A file's device and inode.
type FileId = (u64, u64);

fn id(meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// The file a live shim records to, if it exists.
fn recording_id(l: &LiveSession) -> Option<FileId> {
    std::fs::metadata(l.recording.as_deref()?)
        .ok()
        .map(|m| id(&m))
}

/// Whether `path` is being written by a running shim: its last line is not an exit line
/// and the pid of its header is a running rpctap. Reads only the first and last lines, so
/// it costs nothing on a large file. (The hub's `State::Live`, for a file opened directly.)
pub fn recording_is_live(path: &Path) -> bool {
    use std::io::{BufRead, Read, Seek, SeekFrom};
    // Opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    let mut reader = std::io::BufReader::new(&mut f).take(64 * 1024);
    if reader.read_until(b'\n', &mut head).is_err() {
        return false;
    }
    let Ok(crate::record::Event::Session(info)) = crate::record::parse_line(head.trim_ascii())
    else {
        return false;
    };
    let mut tail = Vec::new();
    let len = f.metadata().map_or(0, |m| m.len());
    if f.seek(SeekFrom::Start(len.saturating_sub(4096))).is_err()
        || f.read_to_end(&mut tail).is_err()
    {
        return false;
    }
    let last = tail
        .trim_ascii_end()
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    !last.starts_with(b"{\"type\":\"exit\"") && shim_running(info.pid)
}

/// Whether the shim that wrote a recording header with this pid still runs (a shim started
/// with `--no-live`, or one that has not published yet). The pid may have been reused since,
/// so on Linux the process must also be an rpctap.
pub fn shim_running(pid: u32) -> bool {
    if pid == 0 || pid == std::process::id() || !crate::os::process_exists(pid) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => cmdline
            .split(|&b| b == 0)
            .next()
            .is_some_and(|argv0| memchr::memmem::find(argv0, b"rpctap").is_some()),
        // No procfs: the pid is all there is to go by.
        Err(_) => !Path::new("/proc/self").exists(),
    }
}
