//! The live-feed source: the recording-format lines a running shim publishes on its socket
//! (`live::Publisher`) — the session so far, then each new line — read until the shim ends
//! and closes the feed. Used for sessions without a recording to follow.
//!
//! A viewer that falls too far behind is cut off by the shim with a last `gap` line saying
//! why. A gap line is therefore held back until the next line shows it was a gap in the
//! session (the recorder lost bytes) rather than the end of the feed, which is reported as
//! `Update::CutOff` and is not part of the session.
//!
//! A feed that ends without the session's exit line ended early: the shim exited (or was
//! killed) while this viewer was still behind, and the rest never came. That is said as
//! such (`Update::Failed`), and an unfinished last line is dropped, never shown.

use super::source::{Out, Update, BATCH, CHUNK};
use crate::record::Event;
use std::fmt::Write as _;
use std::path::PathBuf;
use tokio::io::AsyncReadExt;

pub(super) async fn live(socket: PathBuf, out: Out) {
    let mut stream = match tokio::net::UnixStream::connect(&socket).await {
        Ok(s) => s,
        Err(e) => {
            let msg = format!(
                "cannot attach to the live session at '{}': {} (it may have ended)",
                socket.display(),
                crate::session::io_message(&e)
            );
            out.send(Update::Failed(msg)).await;
            return;
        }
    };
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut batch = Vec::with_capacity(BATCH);
    let mut held = None;
    let (mut lines, mut caught_up, mut exited) = (crate::record::Lines::new(), false, false);
    loop {
        buf.reserve(CHUNK);
        let room = buf.capacity() - buf.len();
        let n = match stream.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                out.flush(&mut batch).await;
                let msg = format!("reading the live feed: {}", crate::session::io_message(&e));
                out.send(Update::Failed(msg)).await;
                return;
            }
        };
        if n == 0 {
            out.flush(&mut batch).await;
            let end = match held {
                Some(Event::Gap(g)) => Update::CutOff(g.reason),
                _ if exited => Update::Ended,
                _ => Update::Failed(early_end(buf.len())),
            };
            out.send(end).await;
            return;
        }
        let not_ours = || format!("'{}' is not an rpctap live feed", socket.display());
        let take = |ev: Event, batch: &mut Vec<Event>| {
            exited |= matches!(ev, Event::Exit(_));
            if let Some(earlier) = held.take() {
                batch.push(earlier);
            }
            if matches!(ev, Event::Gap(_)) {
                held = Some(ev);
            } else {
                batch.push(ev);
            }
        };
        if !out
            .lines(&mut buf, &mut lines, &mut batch, not_ours, take)
            .await
        {
            return;
        }
        if !out.flush(&mut batch).await {
            return;
        }
        // A read that did not fill the buffer took all the shim had sent: the backlog is
        // in, what follows is live.
        if !caught_up && n < room {
            caught_up = true;
            if !out.send(Update::CaughtUp).await {
                return;
            }
        }
    }
}

/// The notice for a feed that ended before the session's exit line.
fn early_end(unfinished: usize) -> String {
    let mut msg = "the live feed ended before the session did: the shim exited or was killed \
                   while this viewer was behind, and the rest was not received"
        .to_owned();
    if unfinished > 0 {
        let _ = write!(
            msg,
            " (an unfinished line of {unfinished} bytes was dropped)"
        );
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::super::source::{Feed, Source};
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc;

    const HEAD: &str = r#"{"rpctap":1,"type":"session","id":"x","name":"t","command":["srv"],"started":"2026-11-21T10:00:00.000000Z"}"#;
    const MSG: &str = r#"{"seq":1,"t":"2026-11-21T10:00:00.000001Z","dir":"c2s","framing":"ndjson","msg":{"jsonrpc":"2.0","method":"x"}}"#;
    const GAP: &str = r#"{"type":"gap","t":"2026-11-21T10:00:01.000000Z","dir":null,"bytes":0,"reason":"this viewer fell more than 8 MB behind and was cut off; reattach to continue"}"#;
    const EXIT: &str =
        r#"{"type":"exit","t":"2026-11-21T10:00:02.000000Z","code":0,"signal":null}"#;

    /// Serves `text` to the first viewer on a socket in `dir`, then closes.
    #[allow(clippy::unused_async)] // awaited beside the viewer it serves
    async fn serve(dir: &std::path::Path, text: String) -> PathBuf {
        let socket = dir.join("1.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(text.as_bytes()).await.unwrap();
        });
        socket
    }

    /// Everything the source sends until it ends: the events, and how it ended.
    async fn read_all(socket: PathBuf) -> (Vec<Event>, Update) {
        let (tx, mut rx) = mpsc::channel(4);
        Source::Live { socket }.spawn(0, tx);
        let mut events = Vec::new();
        loop {
            let Feed { update, .. } = rx.recv().await.expect("the source ends with an update");
            match update {
                Update::Events(e) => events.extend(e),
                Update::CaughtUp => {}
                end => return (events, end),
            }
        }
    }

    #[tokio::test]
    async fn a_last_gap_line_means_this_viewer_was_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let socket = serve(dir.path(), format!("{HEAD}\n{MSG}\n{GAP}\n")).await;
        let (events, end) = read_all(socket).await;
        assert!(matches!(
            &events[..],
            [Event::Session(_), Event::Message(_)]
        ));
        assert!(matches!(end, Update::CutOff(r) if r.contains("cut off")));
    }

    #[tokio::test]
    async fn a_gap_inside_the_session_is_part_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let socket = serve(dir.path(), format!("{HEAD}\n{GAP}\n{MSG}\n{EXIT}\n")).await;
        let (events, end) = read_all(socket).await;
        assert!(matches!(
            &events[..],
            [
                Event::Session(_),
                Event::Gap(_),
                Event::Message(_),
                Event::Exit(_)
            ]
        ));
        assert!(matches!(end, Update::Ended));
    }

    #[tokio::test]
    async fn a_feed_cut_mid_line_before_the_exit_says_so_and_drops_the_fragment() {
        let dir = tempfile::tempdir().unwrap();
        let socket = serve(dir.path(), format!("{HEAD}\n{MSG}\n{}", &MSG[..40])).await;
        let (events, end) = read_all(socket).await;
        assert!(matches!(
            &events[..],
            [Event::Session(_), Event::Message(_)]
        ));
        assert!(
            matches!(&end, Update::Failed(m) if m.contains("ended before the session did") && m.contains("40 bytes")),
            "{end:?}"
        );
    }

    #[tokio::test]
    async fn a_socket_nobody_listens_on_fails_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let (_, end) = read_all(dir.path().join("gone.sock")).await;
        assert!(
            matches!(end, Update::Failed(m) if m.contains("gone.sock") && m.contains("may have ended"))
        );
    }
}
