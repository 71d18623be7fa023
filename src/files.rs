//! Creating every file rpctap writes: recordings (`--record`, the default location,
//! `replay --record`), the TUI's saved views, live-feed discovery files and the index of
//! recordings kept elsewhere.
//!
//! One rule for all of them (PRODUCT §4, issues 12.1 and 14.2): a file is created with
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, so nothing that exists is ever truncated, no
//! planted symlink is followed, and no other user can have opened it first. rpctap never
//! chmods a path (that would follow links). A path the user names is expanded
//! (`{name}`, `{pid}`, `{time}`); a directory means a new file inside it; a path that is
//! taken gives a new name next to it (`x.jsonl` → `x-1.jsonl`), which the caller reports.
//!
//! Not responsible for: directories (see `paths::ensure_private_dir`), what goes in a file.

use crate::record::Micros;
use anyhow::Context;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How many numbered alternatives are tried next to a taken path before giving up.
const MAX_ALTERNATIVES: u32 = 10_000;

/// What the placeholders of a path stand for.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    /// The session name (`{name}`), made safe for a file name.
    pub name: &'a str,
    /// The shim's pid (`{pid}`).
    pub pid: u32,
    /// The session's start (`{time}`, as `YYYYMMDD-HHMMSS`, UTC).
    pub time: Micros,
}

impl Vars<'_> {
    /// The file name used in the state directory and inside a directory given as the path:
    /// `<YYYYMMDD-HHMMSS>-<name>-<pid>.jsonl`.
    pub fn default_file_name(&self) -> String {
        format!(
            "{}-{}-{}.jsonl",
            self.stamp(),
            safe_name(self.name),
            self.pid
        )
    }

    fn stamp(&self) -> String {
        self.time.datetime().format("%Y%m%d-%H%M%S").to_string()
    }
}

/// A file created by [`create`].
#[derive(Debug)]
pub struct Created {
    pub file: File,
    pub path: PathBuf,
    /// The path that was asked for, when it was taken and `path` is the one next to it.
    pub instead_of: Option<PathBuf>,
}

impl Created {
    /// The line to tell the user when the file is not where they asked (`None` if it is).
    pub fn notice(&self) -> Option<String> {
        let asked = self.instead_of.as_ref()?;
        Some(format!(
            "'{}' exists; writing '{}' instead",
            asked.display(),
            self.path.display()
        ))
    }
}

/// Creates a new file at exactly `path`, read-write, mode 0600: fails with
/// `AlreadyExists` if anything (a file, a symlink, a FIFO) is there already.
pub fn create_exclusive(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Creates the file a user's path names: placeholders expanded, a directory means a new
/// file (`Vars::default_file_name`) inside it, a taken path gives a new name next to it.
pub fn create(requested: &Path, vars: &Vars) -> anyhow::Result<Created> {
    let mut path = expand(requested, vars);
    // A directory (or a link to one) is where to create, not what to open: what is
    // created inside it is still exclusive.
    if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
        path.push(vars.default_file_name());
    }
    create_near(&path)
}

/// Creates `path`, or if it is taken, the first free `stem-N.ext` next to it.
pub fn create_near(path: &Path) -> anyhow::Result<Created> {
    match create_exclusive(path) {
        Ok(file) => {
            return Ok(Created {
                file,
                path: path.to_path_buf(),
                instead_of: None,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // The caller names the path asked for.
        Err(e) => return Err(e.into()),
    }
    let fail = |at: &Path, e: std::io::Error| {
        anyhow::Error::new(e).context(format!("cannot create '{}'", at.display()))
    };
    for n in 1..=MAX_ALTERNATIVES {
        let candidate = numbered(path, n);
        match create_exclusive(&candidate) {
            Ok(file) => {
                return Ok(Created {
                    file,
                    path: candidate,
                    instead_of: Some(path.to_path_buf()),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(fail(&candidate, e)),
        }
    }
    anyhow::bail!("it exists, and so do the {MAX_ALTERNATIVES} names tried next to it")
}

/// `dir/x.jsonl` → `dir/x-N.jsonl`; `dir/x` → `dir/x-N`; `dir/.x` → `dir/.x-N`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let name = path.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
    let dot = name.iter().rposition(|&b| b == b'.').filter(|&i| i > 0);
    let (stem, ext) = name.split_at(dot.unwrap_or(name.len()));
    let mut new = stem.to_vec();
    new.extend_from_slice(format!("-{n}").as_bytes());
    new.extend_from_slice(ext);
    path.with_file_name(OsString::from_vec(new))
}

/// Replaces `{name}`, `{pid}` and `{time}` in `path`; other braces are kept as written.
pub fn expand(path: &Path, vars: &Vars) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    if !bytes.contains(&b'{') {
        return path.to_path_buf();
    }
    let values = [
        (&b"{name}"[..], safe_name(vars.name)),
        (&b"{pid}"[..], vars.pid.to_string()),
        (&b"{time}"[..], vars.stamp()),
    ];
    let mut out = Vec::with_capacity(bytes.len() + 32);
    let mut rest = bytes;
    'scan: while let Some((&b, tail)) = rest.split_first() {
        if b == b'{' {
            for (key, value) in &values {
                if rest.starts_with(key) {
                    out.extend_from_slice(value.as_bytes());
                    rest = &rest[key.len()..];
                    continue 'scan;
                }
            }
        }
        out.push(b);
        rest = tail;
    }
    PathBuf::from(OsString::from_vec(out))
}

/// A session name as a file-name part: letters, digits, `.`, `_` and `-` kept, the rest
/// `_`, so a name can never add a directory level or a hidden prefix.
pub fn safe_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.trim_start_matches('.') {
        "" => "session".into(),
        s if s.len() < safe.len() => format!("_{s}"),
        _ => safe,
    }
}

/// The default recording: a new file in the state directory's `sessions/`, created
/// private (directories 0700).
pub fn create_default_recording(vars: &Vars) -> anyhow::Result<Created> {
    crate::paths::ensure_private_dir(&crate::paths::state_dir())?;
    let dir = crate::paths::sessions_dir();
    crate::paths::ensure_private_dir(&dir)?;
    let path = dir.join(vars.default_file_name());
    create_near(&path).with_context(|| format!("cannot record to '{}'", path.display()))
}

/// A recording at a user's path (or the default location with `None`); one outside the
/// state directory is added to the index so that the hub and `ls` keep listing it.
pub fn create_recording(requested: Option<&Path>, vars: &Vars) -> anyhow::Result<Created> {
    let created = match requested {
        None => create_default_recording(vars)?,
        Some(p) => {
            create(p, vars).with_context(|| format!("cannot record to '{}'", p.display()))?
        }
    };
    if requested.is_some() {
        if let Err(e) = crate::index::add(&created.path, &created.file) {
            eprintln!("rpctap: warning: the hub will not list this recording: {e:#}");
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            name: "py lsp",
            pid: 42,
            time: Micros::parse("2026-01-02T03:04:05.000000Z").unwrap(),
        }
    }

    #[test]
    fn placeholders_are_expanded_and_other_braces_kept() {
        let p = expand(Path::new("/r/{name}-{pid}-{time}-{x}.jsonl"), &vars());
        assert_eq!(p, Path::new("/r/py_lsp-42-20260102-030405-{x}.jsonl"));
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(
            numbered(Path::new("/a/x.jsonl"), 3),
            Path::new("/a/x-3.jsonl")
        );
        assert_eq!(numbered(Path::new("/a/x"), 1), Path::new("/a/x-1"));
        assert_eq!(numbered(Path::new("/a/.x"), 1), Path::new("/a/.x-1"));
    }

    #[test]
    fn names_never_climb_or_hide() {
        assert_eq!(safe_name("../etc"), "__etc");
        assert_eq!(safe_name(".."), "session");
        assert_eq!(safe_name("a/b"), "a_b");
    }

    #[test]
    fn taken_paths_and_symlinks_get_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("rec.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let c = create(&link, &vars()).unwrap();
        assert_eq!(c.path, dir.path().join("rec-1.jsonl"));
        assert_eq!(c.instead_of.as_deref(), Some(link.as_path()));
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        let again = create(&link, &vars()).unwrap();
        assert_eq!(again.path, dir.path().join("rec-2.jsonl"));
    }

    #[test]
    fn a_directory_gets_a_new_file_inside() {
        let dir = tempfile::tempdir().unwrap();
        let c = create(dir.path(), &vars()).unwrap();
        assert_eq!(c.path, dir.path().join("20260102-030405-py_lsp-42.jsonl"));
        assert!(c.instead_of.is_none());
    }
}
