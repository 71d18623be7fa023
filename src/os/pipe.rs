//! Pipe calls for the pumps (Linux): large pipes, waiting for data, and moving pipe
//! contents without copying them through this process (`tee`, `splice`).
#![allow(unsafe_code)]
#![allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// A pipe pair for the zero-copy pumps to tee into (Linux: the recorder's, a pump's side
/// pipe): close-on-exec, and as large as the system lets an unprivileged process make it,
/// so that the recorder may fall a little behind before chunks take the side path.
pub fn recorder_pipe() -> io::Result<(File, File)> {
    #[cfg(target_os = "linux")]
    {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two descriptors into the array it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (r, w) = unsafe {
            use std::os::fd::FromRawFd;
            (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1]))
        };
        // SAFETY: F_SETPIPE_SZ takes an int and touches no memory; failure is harmless.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
        Ok((r, w))
    }
    #[cfg(not(target_os = "linux"))]
    Err(io::ErrorKind::Unsupported.into())
}

/// The capacity of pipe `f`, in bytes.
pub fn pipe_size(f: &File) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: F_GETPIPE_SZ takes no argument and touches no memory.
        let n = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETPIPE_SZ) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = f;
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Sets the capacity of pipe `f` (either end). It fails when `f` is not a pipe, when the
/// system does not let this process make a pipe that large, or, shrinking, when the pipe
/// holds more than `n` bytes.
pub fn set_pipe_size(f: &File, n: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let n = libc::c_int::try_from(n).map_err(io::Error::other)?;
        // SAFETY: F_SETPIPE_SZ takes an int and touches no memory.
        if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETPIPE_SZ, n) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (f, n);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Blocks until `fd` has data to read or its writers are gone.
pub fn wait_readable(fd: &File) -> io::Result<()> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: poll reads and writes the one pollfd it is given.
        let r = unsafe { libc::poll(&raw mut p, 1, -1) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Blocks until `fd` has data to read (or its writers are gone) or `wake` is readable.
/// Returns whether `wake` was readable, so a pump can be woken for control work.
pub fn wait_readable_or(fd: &File, wake: std::os::fd::BorrowedFd<'_>) -> io::Result<bool> {
    let mut p = [
        libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&wake),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: poll reads and writes exactly the two pollfds of the array it is given.
        let r = unsafe { libc::poll(p.as_mut_ptr(), 2, -1) };
        if r >= 0 {
            return Ok(p[1].revents != 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Duplicates up to `len` bytes at the head of pipe `src` into pipe `dst` without
/// consuming them and without copying them (Linux `tee`); never waits for room in `dst`
/// (`WouldBlock` when it is full).
pub fn tee(src: &File, dst: &File, len: usize) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: tee takes two descriptors and a length and touches no memory of ours.
        let n = unsafe {
            libc::tee(
                src.as_raw_fd(),
                dst.as_raw_fd(),
                len,
                libc::SPLICE_F_NONBLOCK,
            )
        };
        length(n)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (src, dst, len);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Moves up to `len` bytes from pipe `src` to `dst` without copying them through user
/// space (Linux `splice`); waits for room in `dst` as a write would.
pub fn splice(src: &File, dst: &File, len: usize) -> io::Result<usize> {
    splice_at(src, dst, None, len)
}

/// Moves up to `len` bytes from pipe `src` into the regular file `dst` at `offset`
/// (Linux `splice`): the kernel copies them into the page cache, and they never pass
/// through this process's memory.
pub fn splice_to_file(src: &File, dst: &File, offset: u64, len: usize) -> io::Result<usize> {
    splice_at(src, dst, Some(offset), len)
}

fn splice_at(src: &File, dst: &File, offset: Option<u64>, len: usize) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut off = offset
            .map(libc::loff_t::try_from)
            .transpose()
            .map_err(io::Error::other)?;
        let off_out = off
            .as_mut()
            .map_or(std::ptr::null_mut(), std::ptr::from_mut);
        // SAFETY: splice takes two descriptors and a length, and reads and writes at most
        // the one offset it is given (none for `src`; `off`, alive here, or none for `dst`).
        let n = unsafe {
            libc::splice(
                src.as_raw_fd(),
                std::ptr::null_mut(),
                dst.as_raw_fd(),
                off_out,
                len,
                libc::SPLICE_F_MOVE,
            )
        };
        length(n)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (src, dst, offset, len);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Reads exactly `n` bytes out of `src` into a new buffer.
pub fn read_exactly(src: &File, n: usize) -> io::Result<bytes::Bytes> {
    let mut buf = bytes::BytesMut::new();
    read_append(src, n, &mut buf)?;
    Ok(buf.freeze())
}

/// Appends exactly `n` bytes read out of `src` to `buf`, read straight into its spare
/// room (no pass to zero what is overwritten at once, no buffer of their own).
pub fn read_append(src: &File, n: usize, buf: &mut bytes::BytesMut) -> io::Result<()> {
    buf.reserve(n);
    let mut left = n;
    while left > 0 {
        let spare = buf.spare_capacity_mut();
        let want = left.min(spare.len());
        // SAFETY: read writes at most `want` bytes into the spare room, which has as many.
        let r = unsafe { libc::read(src.as_raw_fd(), spare.as_mut_ptr().cast(), want) };
        match usize::try_from(r) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(r) => {
                // SAFETY: the kernel wrote the first `r` bytes of the spare room.
                unsafe { buf.set_len(buf.len() + r) };
                left -= r;
            }
            Err(_) => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Reads and drops `n` bytes of `src`.
pub fn discard(mut src: &File, n: usize) -> io::Result<()> {
    let moved = io::copy(
        &mut std::io::Read::take(&mut src, n as u64),
        &mut io::sink(),
    )?;
    if moved < n as u64 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// A splice call's result: the bytes moved, or the error it set.
#[cfg(target_os = "linux")]
fn length(n: isize) -> io::Result<usize> {
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}
