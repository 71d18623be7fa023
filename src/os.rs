//! The operating-system specific and `unsafe` parts of rpctap, kept in one small module:
//! parent-death signals, process groups, signals to children.

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
