//! The scripted client against the demo server in one process, over socket pairs: the whole
//! session, and the ways a repeating session ends.

use super::client::{drive, ClientOpts, Report};
use super::server::{serve, DemoServerArgs};
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Passes writes through, calling `on_edit` when the repeat loop's first edit goes out
/// (the script itself sends one `didChange`; the second is the loop's).
struct Watch<F: FnMut()> {
    inner: UnixStream,
    changes: usize,
    on_edit: F,
}

impl<F: FnMut()> Write for Watch<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf
            .windows(b"textDocument/didChange".len())
            .any(|w| w == b"textDocument/didChange")
        {
            self.changes += 1;
            if self.changes == 2 {
                (self.on_edit)();
            }
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Runs the client against an in-process server; `on_edit` gets the server's output stream.
fn session(
    args: DemoServerArgs,
    opts: &ClientOpts,
    mut on_edit: impl FnMut(&UnixStream),
) -> (Report, io::Result<u8>) {
    let (client_out, server_in) = UnixStream::pair().unwrap();
    let (server_out, client_in) = UnixStream::pair().unwrap();
    let server_out_handle = server_out.try_clone().unwrap();
    let server = std::thread::spawn(move || serve(server_in, Box::new(server_out), &args));
    let writer = Watch {
        inner: client_out,
        changes: 0,
        on_edit: move || on_edit(&server_out_handle),
    };
    let report = drive(client_in, writer, opts).unwrap();
    (report, server.join().unwrap())
}

fn opts() -> ClientOpts {
    ClientOpts {
        timeout: Duration::from_secs(20),
        ..ClientOpts::default()
    }
}

#[test]
fn the_whole_script_meets_every_expectation() {
    let (report, status) = session(
        DemoServerArgs {
            exit_code: 4,
            ..Default::default()
        },
        &opts(),
        |_| {},
    );
    assert_eq!(report.problem(), None, "{report:#?}");
    assert_eq!(status.unwrap(), 4);
    assert_eq!(report.server_name.as_deref(), Some("rpctap-demo-server"));
    assert_eq!(report.hover_results, 6, "the blank-line hover answers null");
    assert_eq!(report.symbols, 6);
    assert_eq!(report.definitions, 2);
    assert!(report.completion_items > 5);
    assert_eq!(report.server_requests_answered, 2);
    assert!(
        report.diagnostics >= 2,
        "didOpen and didChange each publish"
    );
    // The first with the client's token, the cancelled one with the token the server
    // created after `initialized`.
    assert_eq!(report.progress, 4, "begin and end around both demo/slow");
    assert!(report.log_messages >= 2);
    assert_eq!((report.noise, report.invalid, report.edits), (0, 0, 0));
}

#[test]
fn stdout_noise_and_ndjson_do_not_disturb_the_client() {
    let (report, status) = session(
        DemoServerArgs {
            stdout_logs: true,
            ..Default::default()
        },
        &ClientOpts {
            framing: crate::wire::Framing::Ndjson,
            ..opts()
        },
        |_| {},
    );
    assert_eq!(report.problem(), None, "{report:#?}");
    assert_eq!(status.unwrap(), 0);
    assert!(report.noise > 10, "a log line before every frame");
}

#[test]
fn a_stopped_repeating_session_shuts_the_server_down() {
    let opts = ClientOpts {
        repeat: true,
        ..opts()
    };
    let stop = opts.stop.clone();
    let (report, status) = session(DemoServerArgs::default(), &opts, |_| {
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(report.problem(), None, "{report:#?}");
    assert_eq!(report.edits, 1);
    assert_eq!(status.unwrap(), 0);
}

#[test]
fn a_repeating_session_ends_normally_when_the_server_goes_away() {
    let opts = ClientOpts {
        repeat: true,
        ..opts()
    };
    let (report, _) = session(DemoServerArgs::default(), &opts, |server_out| {
        server_out.shutdown(std::net::Shutdown::Both).unwrap();
    });
    assert_eq!(report.problem(), None, "{report:#?}");
    assert!(report.completed);
    assert_eq!(
        report.edits, 0,
        "the hover after the edit finds the server gone"
    );
}

#[test]
fn stopping_during_the_script_is_reported() {
    let opts = opts();
    opts.stop.store(true, Ordering::Relaxed);
    let (report, status) = session(DemoServerArgs::default(), &opts, |_| {});
    assert!(!report.completed);
    assert_eq!(
        report.problem().as_deref(),
        Some("stopped before the script finished")
    );
    assert_eq!(report.server_name.as_deref(), Some("rpctap-demo-server"));
    assert_eq!(status.unwrap(), 0);
}

#[test]
fn a_failed_write_is_explained_by_how_the_output_ended() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let crashed = &b"Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\""[..];
    let report = drive(crashed, Broken, &opts()).unwrap();
    let why = report.problem().unwrap();
    assert!(why.starts_with("cannot write to the server ("), "{why}");
    assert!(
        why.ends_with("cut off mid-frame (38 bytes buffered)"),
        "{why}"
    );
}
