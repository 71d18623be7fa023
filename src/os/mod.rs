//! The operating-system and CPU specific, `unsafe` parts of rpctap, kept in one small
//! module: parent-death signals, process groups, signals to children, closing a shared
//! pipe, zero-copy pipe calls, reserving disk, and the vector compares of the JSON validator.
#![allow(unsafe_code)]
// libc speaks pid_t, c_ulong, c_int and ssize_t where rpctap has u32, i32 and usize: the
// casts between them are the FFI's, on values the kernel gave or will check.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation
)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

mod json;
mod pipe;
pub use json::{json_blocks, json_bytes, JsonBytes};
pub use pipe::*;

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

/// Waits for the child `pid` (not yet reaped) to end; returns its raw wait status and its
/// peak resident memory in KiB (`ru_maxrss`). For tests and benchmarks that measure memory
/// through the real binary rather than time.
pub fn wait_peak_rss(pid: u32) -> io::Result<(i32, i64)> {
    wait_usage(pid).map(|w| (w.status, w.peak_rss_kib))
}

/// What `wait_usage` reports of a child that ended.
#[derive(Debug, Clone, Copy)]
pub struct Waited {
    /// The raw wait status (`WIFEXITED`, `WEXITSTATUS`, ...).
    pub status: i32,
    /// User plus system CPU time of all its threads, exact (not sampled).
    pub cpu: std::time::Duration,
    /// Peak resident memory in KiB (`ru_maxrss`).
    pub peak_rss_kib: i64,
}

/// Waits for the child `pid` (not yet reaped) to end and returns what `wait4` reports of
/// it: for tests that bound a process's CPU time or memory rather than the wall clock.
pub fn wait_usage(pid: u32) -> io::Result<Waited> {
    let mut status = 0;
    // SAFETY: rusage is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 fills in the two locals it is given pointers to.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &raw mut status, 0, &raw mut usage) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let time = |t: libc::timeval| {
        let micros = u64::try_from(t.tv_usec).unwrap_or(0);
        std::time::Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + std::time::Duration::from_micros(micros)
    };
    Ok(Waited {
        status,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss,
    })
}

/// Gives the calling thread the lowest scheduling priority (nice 19), so that background
/// work (the OpenTelemetry exporter) never takes CPU from the forwarding threads. On Linux
/// a nice value belongs to a thread, not the whole process. Best effort: a failure leaves
/// the priority as it was.
pub fn nice_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers and touches no memory; with who = 0 it
        // changes only the calling thread's nice value.
        let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    }
}

/// The user id of the process at the other end of a connected Unix socket
/// (`SO_PEERCRED`; `UnixStream::peer_cred` is not stable yet).
pub fn peer_uid(stream: &std::os::unix::net::UnixStream) -> io::Result<u32> {
    #[cfg(target_os = "linux")]
    {
        let mut cred = libc::ucred {
            pid: 0,
            uid: u32::MAX,
            gid: u32::MAX,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `cred` is a valid, writable ucred and `len` holds its size, which is
        // what SO_PEERCRED writes; the fd is a socket borrowed for the call.
        let r = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&raw mut cred).cast(),
                &raw mut len,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        if len as usize != std::mem::size_of::<libc::ucred>() {
            return Err(io::ErrorKind::InvalidData.into());
        }
        Ok(cred.uid)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = stream;
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Sets the process's file mode creation mask, returning the previous one: a socket bound
/// under 0o177 is created 0600, with no moment at which others could connect.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask only swaps the process's mask; it cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Gives the calling thread the lowest CPU priority there is (Linux: the `SCHED_IDLE`
/// policy, or nice 19 where that is refused), so that work it does in the background
/// (live conformance checking) takes only CPU time nothing else wants. Nice 19 alone is
/// not enough: a nice-19 thread keeps its core until its slice ends, while a `SCHED_IDLE`
/// thread is preempted as soon as any other thread of the machine wakes up (a pump with
/// bytes to forward). There is no way back without privileges. Best effort: elsewhere,
/// or on failure, nothing changes.
pub fn idle_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; sched_setscheduler reads the param struct
        // we own for the duration of the call, and with a thread id changes that thread
        // only; setpriority takes plain integers, PRIO_PROCESS with a thread id likewise.
        unsafe {
            let tid = libc::gettid();
            let param = libc::sched_param { sched_priority: 0 };
            if libc::sched_setscheduler(tid, libc::SCHED_IDLE, &raw const param) != 0 {
                let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
            }
        }
    }
}

/// Tunes glibc's allocator for the shim, whose memory must stay small and bounded
/// (PRODUCT §10: 20 MB in steady state).
///
/// Every allocation of 1 MiB or more becomes its own mapping: growing a large buffer is
/// then an `mremap` rather than a copy into a new block while the old one is still
/// resident, and freeing it returns the memory at once. glibc otherwise raises this
/// threshold as large blocks are freed, up to 32 MiB, after which a message-sized buffer
/// comes from the heap and doubles by copying: the shim's peak memory would be several
/// times its largest message.
///
/// And all threads share one arena. glibc gives each thread that allocates an arena of its
/// own, and memory freed into one is reused only from there: a chunk a pump reads into
/// memory is freed by the recorder, and each pump's arena kept its high-water mark.
/// Measured on 1,000,000 × 200 B pipelined (20 runs each): anonymous memory at the peak
/// 8.9 → 6.8 MiB (median). The threads that allocate on the forwarding path do so once per
/// chunk (64 KiB to 1 MiB), so the shared lock is not contended.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes two ints and is called before the shim starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Binds a Unix socket at `path` that the kernel creates mode 0600, so no chmod by path
/// (which would follow a link put there after the bind) is needed. A umask is shared by
/// the whole process, so the bind runs on a short-lived thread that first takes its own
/// copy of the filesystem attributes (`unshare(CLONE_FS)`) and sets the umask there only;
/// nothing spawned meanwhile inherits it. Where a sandbox forbids that unshare (seccomp in
/// some containers), the socket is bound and then given 0600 with
/// `fchmodat(AT_SYMLINK_NOFOLLOW)`, which refuses a link instead of following it.
pub fn bind_private_socket(path: &std::path::Path) -> io::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::net::UnixListener;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                #[cfg(target_os = "linux")]
                {
                    // SAFETY: unshare(CLONE_FS) takes a flag and touches no memory; it
                    // changes only the calling thread's root, cwd and umask sharing.
                    if unsafe { libc::unshare(libc::CLONE_FS) } == 0 {
                        // SAFETY: umask takes a mode and cannot fail; after the unshare
                        // it sets this thread's mask only.
                        unsafe { libc::umask(0o177) };
                        return UnixListener::bind(path);
                    }
                }
                let listener = UnixListener::bind(path)?;
                chmod_private_no_follow(path).inspect_err(|_| {
                    let _ = std::fs::remove_file(path);
                })?;
                Ok(listener)
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the socket-binding thread panicked")))
    })
}

/// `chmod 0600` on `path` itself: an error, never the link's target, when it is a link.
fn chmod_private_no_follow(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call; fchmodat reads it only.
    let r = unsafe { libc::fchmodat(libc::AT_FDCWD, c.as_ptr(), 0o600, libc::AT_SYMLINK_NOFOLLOW) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Opens `file` again, write-only, for direct I/O (`O_DIRECT`: no page cache): a second
/// open file description, so that `file` and its clones keep reading through the cache.
/// Through `/proc/self/fd`, which names this very file (no path is looked up again).
pub fn reopen_direct(file: &File) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_CLOEXEC)
            .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Reserves the disk under `len` bytes of `file` from `offset`, leaving its size as it is:
/// writes there then find their blocks allocated.
pub fn preallocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    fallocate(file, Fallocate::Reserve, offset, len)
}

/// Frees the disk and the page cache under `len` bytes of `file` from `offset`, which then
/// read as zeros; the size stays as it is.
pub fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<()> {
    fallocate(file, Fallocate::Punch, offset, len)
}

/// What `fallocate` does to a range (the size of the file always stays).
#[derive(Clone, Copy)]
enum Fallocate {
    Reserve,
    Punch,
}

#[cfg(target_os = "linux")]
fn fallocate(file: &File, what: Fallocate, offset: u64, len: u64) -> io::Result<()> {
    let mode = match what {
        Fallocate::Reserve => libc::FALLOC_FL_KEEP_SIZE,
        Fallocate::Punch => libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
    };
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    // SAFETY: fallocate takes a descriptor, open for the call, and three numbers.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), mode, offset, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn fallocate(_file: &File, _what: Fallocate, _offset: u64, _len: u64) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    fn process_umask() -> String {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:"));
        line.unwrap().to_owned()
    }

    #[test]
    fn a_private_socket_is_born_0600_and_the_process_umask_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let before = process_umask();
        let _listener = super::bind_private_socket(&path).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(process_umask(), before);
    }

    #[test]
    fn the_fallback_chmod_refuses_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "x").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(super::chmod_private_no_follow(&link).is_err());
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        super::chmod_private_no_follow(&target).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_peer_of_a_socket_pair_is_this_user() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(super::peer_uid(&a).unwrap(), super::euid());
    }
}
