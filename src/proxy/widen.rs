//! A zero-copy pump's pipes, widened while the recorder stands aside for a burst
//! (`aside`). Every chunk then goes to the spill file, and a wide pipe (1 MiB, the most
//! an unprivileged process may ask for, instead of the usual 64 KiB) makes the chunks
//! larger: fewer wake-ups, tees and splices per byte for the pump, and larger writes into
//! the page cache, which takes them into larger pages. Measured at 1,000,000 × 200 B
//! (docs/benchmarks.md), the shim moved such a burst 1.05–1.18× as fast as a plain relay
//! instead of 0.64–0.80×.
//!
//! The pipes go back to their own sizes once the recorder works again: with large
//! messages it records as the traffic flows, from its own pipe, and wide pipes there let
//! the pumps outrun it into the spill (measured at 2,000 × 1 MiB: the recorder's CPU time
//! four times as high, and 11 s to catch up after the burst).
//!
//! Not responsible for: deciding when the recorder stands aside (`aside`).

use std::fs::File;

/// The size a pipe is widened to.
const WIDE: usize = 1 << 20;

/// The sizes of a pump's source and destination pipes, and whether they are wide now.
#[derive(Debug)]
pub(super) struct Widen {
    /// The pipes' own sizes (`None`: not two pipes, nothing to widen).
    own: Option<(usize, usize)>,
    wide: bool,
}

impl Widen {
    pub(super) fn new(src: &File, dst: &File) -> Widen {
        let own = crate::os::pipe_size(src)
            .and_then(|s| Ok((s, crate::os::pipe_size(dst)?)))
            .ok();
        Widen { own, wide: false }
    }

    /// Widens `src` and `dst` while `aside`, and gives them back their own sizes after.
    /// Widening is best effort (the system may refuse it); a pipe that holds too much to
    /// shrink yet is tried again at the next chunk.
    pub(super) fn update(&mut self, src: &File, dst: &File, aside: bool) {
        let Some((s, d)) = self.own.filter(|_| aside != self.wide) else {
            return;
        };
        if aside {
            let _ = crate::os::set_pipe_size(src, WIDE);
            let _ = crate::os::set_pipe_size(dst, WIDE);
            self.wide = true;
        } else if crate::os::set_pipe_size(src, s).is_ok()
            & crate::os::set_pipe_size(dst, d).is_ok()
        {
            self.wide = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_widen_while_the_recorder_stands_aside_and_shrink_back_after() {
        let (src_r, _src_w) = crate::os::recorder_pipe().unwrap();
        let (_dst_r, dst_w) = crate::os::recorder_pipe().unwrap();
        for f in [&src_r, &dst_w] {
            crate::os::set_pipe_size(f, 64 << 10).unwrap();
        }
        let mut w = Widen::new(&src_r, &dst_w);
        w.update(&src_r, &dst_w, true);
        assert_eq!(crate::os::pipe_size(&src_r).unwrap(), WIDE);
        assert_eq!(crate::os::pipe_size(&dst_w).unwrap(), WIDE);
        w.update(&src_r, &dst_w, false);
        assert_eq!(crate::os::pipe_size(&src_r).unwrap(), 64 << 10);
        assert_eq!(crate::os::pipe_size(&dst_w).unwrap(), 64 << 10);
    }

    #[test]
    fn a_pipe_that_holds_too_much_to_shrink_is_shrunk_once_it_can_be() {
        use std::io::{Read, Write};
        let (mut src_r, mut src_w) = crate::os::recorder_pipe().unwrap();
        let (_dst_r, dst_w) = crate::os::recorder_pipe().unwrap();
        for f in [&src_r, &dst_w] {
            crate::os::set_pipe_size(f, 64 << 10).unwrap();
        }
        let mut w = Widen::new(&src_r, &dst_w);
        w.update(&src_r, &dst_w, true);
        src_w.write_all(&vec![b'x'; 512 << 10]).unwrap();
        w.update(&src_r, &dst_w, false);
        assert_eq!(crate::os::pipe_size(&src_r).unwrap(), WIDE, "still full");
        let mut out = vec![0; 512 << 10];
        src_r.read_exact(&mut out).unwrap();
        w.update(&src_r, &dst_w, false);
        assert_eq!(crate::os::pipe_size(&src_r).unwrap(), 64 << 10);
    }

    #[test]
    fn files_that_are_not_pipes_are_left_alone() {
        let f = tempfile::tempfile().unwrap();
        let mut w = Widen::new(&f, &f);
        w.update(&f, &f, true);
        assert!(w.own.is_none() && !w.wide);
    }
}
