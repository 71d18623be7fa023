//! The operating-system specific and `unsafe` parts of rpctap, kept in one small module:
//! parent-death signals, process groups, signals to children, closing a shared pipe.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The current parent process id.
pub fn parent_pid() -> i32 {
    // SAFETY: getppid has no preconditions and cannot fail.
    unsafe { libc::getppid() }
}

/// Asks the kernel to send `sig` to this process when its parent dies (Linux). Note that
/// the kernel fires this when the parent *thread* that forked us exits, so a receiver must
/// confirm with `parent_pid()` that the parent process is really gone.
pub fn set_parent_death_signal(sig: i32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and touches no memory.
        let r = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let _ = sig;
    Ok(())
}

/// Makes a command's child die with us: it gets its own process group (so that the whole
/// group can be killed on exit) and, on Linux, SIGKILL when the spawning thread dies. The
/// caller must spawn from a thread that lives as long as rpctap (the main thread).
pub fn configure_child(cmd: &mut Command) {
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as i32;
        // SAFETY: runs in the forked child before exec; it calls only async-signal-safe
        // functions (prctl, getppid, _exit) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl: then nobody would
                // ever deliver the signal, so leave now.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
}

/// Sends `sig` to process `pid`. Errors (the process is gone) are ignored.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill takes plain integers; a stale pid at worst yields ESRCH.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Sends `sig` to every process of the group `pgid`.
pub fn signal_group(pgid: u32, sig: i32) {
    // SAFETY: as for `signal`; a negative pid addresses the process group.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), sig);
    }
}

/// Closes the pipe behind `file` for its reader, without freeing the descriptor number:
/// `/dev/null` is atomically put in its place, so a writer still holding the descriptor
/// writes into the void instead of into whatever file would reuse the number.
pub fn close_pipe_in_place(file: &File) -> io::Result<()> {
    let null = File::options().write(true).open("/dev/null")?;
    // SAFETY: both descriptors are open and owned by live `File`s; dup2 replaces the
    // target atomically and the target stays owned by `file`.
    let r = unsafe { libc::dup2(null.as_raw_fd(), file.as_raw_fd()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Does a process with this pid exist (possibly owned by someone else)?
pub fn process_exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission; nothing is delivered.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
