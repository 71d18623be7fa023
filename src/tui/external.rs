//! The compose view's `$EDITOR` (Ctrl-O): the text goes to a new private file
//! (`files::create_exclusive`, 0600, never an existing path), the user's `$VISUAL` or
//! `$EDITOR` (else `vi`) edits it on the terminal, and the file is read back and removed.
//!
//! Not responsible for: giving the terminal up and back (the loop's `Screen` does).

use std::io::Write;
use std::path::PathBuf;

/// Text read back from the editor at most.
const MAX_EDITED: u64 = super::editor::MAX_TEXT as u64;

/// The editor command: `$VISUAL`, `$EDITOR` (run by `sh`, so it may carry arguments, as git
/// runs it), else `vi`.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Edits `text` in the user's editor; the edited text, or a one-line reason.
pub fn edit(text: &str) -> Result<String, String> {
    let file = TempFile::new(text).map_err(|e| format!("cannot create the file to edit: {e}"))?;
    let cmd = format!("{} \"$1\"", editor());
    let argv = ["sh", "-c", &cmd, "sh"]
        .iter()
        .map(|s| s.to_string())
        .chain([file.0.to_string_lossy().into_owned()])
        .collect::<Vec<_>>();
    let status = crate::child::run_in_terminal(&argv).map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "the editor ({}) failed: {status}; the text is unchanged",
            editor()
        ));
    }
    let f = crate::record::open_regular(&file.0)
        .map_err(|e| format!("cannot read the edited file: {e}"))?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(f, MAX_EDITED), &mut out)
        .map_err(|e| format!("cannot read the edited file: {e}"))?;
    Ok(out)
}

/// A new file holding the text, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(text: &str) -> std::io::Result<TempFile> {
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..100u32 {
            let path = dir.join(format!("rpctap-compose-{pid}-{n}.json"));
            match crate::files::create_exclusive(&path) {
                Ok(mut f) => {
                    let t = TempFile(path);
                    f.write_all(text.as_bytes())?;
                    f.write_all(b"\n")?;
                    return Ok(t);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other(
            "no free name in the temporary directory",
        ))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
