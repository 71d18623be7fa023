//! Opening a recording to read it: regular files only. A FIFO with no writer would block
//! the open forever, and a FIFO, a character device or a socket may never end, so `cat`,
//! `stats`, `replay`, `mock`, `open` and the hub refuse them with a clear error instead
//! of reading them as streams (issue 12). Symlinks to regular files are fine: reading
//! follows them, only writing must not.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading if it is a regular file. The open itself never blocks: it is
/// non-blocking, which for a regular file changes nothing about the reads that follow.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    check(&file.metadata()?)?;
    Ok(file)
}

/// `open_regular` for async readers (the TUI's file source).
pub async fn open_regular_async(path: &Path) -> io::Result<tokio::fs::File> {
    let file = tokio::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .await?;
    check(&file.metadata().await?)?;
    Ok(file)
}

fn check(meta: &std::fs::Metadata) -> io::Result<()> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what}, not a regular file (rpctap reads recordings from regular files only)"),
    ))
}
