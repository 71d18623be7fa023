//! LSP lifecycle rules (initialize, initialized, shutdown, exit, cancellation) and the
//! hand-off of params and results to the metaModel.

use super::jsonrpc::{key, Pairing, Shape};
use super::{metamodel, rules, Msg, Out};
use crate::record::Dir;

/// What the server may send before it answers `initialize`.
const SERVER_BEFORE_INIT: &[&str] = &[
    "window/showMessage",
    "window/logMessage",
    "telemetry/event",
    "window/showMessageRequest",
    "$/progress",
];

#[derive(Debug, Clone, Default)]
pub(crate) struct Lifecycle {
    /// The id of the `initialize` request, while it waits.
    init_id: Option<String>,
    /// The server answered `initialize` with a result.
    ready: bool,
    /// The client has sent something since the initialize result.
    spoke_after_init: bool,
    initialized: bool,
    shutdown: bool,
    exit_sent: bool,
}

impl Lifecycle {
    pub fn message(&mut self, msg: &Msg, shape: &Shape, pairing: &Pairing, out: &mut Out) {
        match (msg.dir, shape) {
            (Dir::C2s, Shape::Request { method, .. } | Shape::Notification { method, .. }) => {
                self.client_call(msg, method, shape, pairing, out);
            }
            (Dir::S2c, Shape::Request { method, .. } | Shape::Notification { method, .. }) => {
                if !self.ready && !SERVER_BEFORE_INIT.contains(method) {
                    out.push(
                        &rules::LSP_INITIALIZE,
                        format!("the server sent {method} before answering initialize"),
                    );
                }
                if *method == "$/cancelRequest" {
                    cancel(msg, pairing, out);
                }
            }
            (Dir::S2c, Shape::Response { id, result, .. })
                if self.init_id.as_deref() == Some(&key(*id)) =>
            {
                self.init_id = None;
                self.ready = result.is_some();
            }
            _ => {}
        }
        metamodel::check_message(msg.dir, shape, out);
    }

    fn client_call(
        &mut self,
        msg: &Msg,
        method: &str,
        shape: &Shape,
        pairing: &Pairing,
        out: &mut Out,
    ) {
        let is_request = matches!(shape, Shape::Request { .. });
        if self.shutdown && method != "exit" {
            out.push(
                &rules::LSP_AFTER_SHUTDOWN,
                format!("the client sent {method} after shutdown"),
            );
        }
        match method {
            "initialize" if is_request => {
                if self.ready || self.init_id.is_some() {
                    out.push(&rules::LSP_INITIALIZE, "a second initialize request");
                }
                self.init_id = msg.value.get("id").map(key);
                return;
            }
            "exit" => {
                self.exit_sent = true;
                return;
            }
            _ => {}
        }
        if !self.ready {
            let what = if is_request {
                "request"
            } else {
                "notification"
            };
            out.push(
                &rules::LSP_INITIALIZE,
                format!("the client sent the {what} {method} before the initialize result"),
            );
        } else if method == "initialized" {
            if self.initialized || self.spoke_after_init {
                out.push(
                    &rules::LSP_INITIALIZED,
                    "initialized sent again, or after other messages",
                );
            }
            self.initialized = true;
        } else if !self.initialized && !self.spoke_after_init {
            out.push(
                &rules::LSP_INITIALIZED,
                format!("the client sent {method} before the initialized notification"),
            );
        }
        if self.ready {
            self.spoke_after_init = true;
        }
        if method == "shutdown" && is_request {
            self.shutdown = true;
        }
        if method == "$/cancelRequest" {
            cancel(msg, pairing, out);
        }
    }

    /// The server process ended with `code`.
    pub fn exit(&mut self, code: Option<i32>, out: &mut Out) {
        let (Some(code), true) = (code, self.exit_sent) else {
            return;
        };
        let want = i32::from(!self.shutdown);
        if code != want {
            let after = if self.shutdown {
                "after shutdown and exit"
            } else {
                "on exit without shutdown"
            };
            out.push(
                &rules::LSP_EXIT_CODE,
                format!("the server exited with {code} {after}; the spec asks for {want}"),
            );
        }
    }
}

/// `$/cancelRequest` must name a request its sender sent.
fn cancel(msg: &Msg, pairing: &Pairing, out: &mut Out) {
    let Some(id) = msg.value.get("params").and_then(|p| p.get("id")) else {
        return;
    };
    if !pairing.sent(msg.dir, id) {
        out.push(
            &rules::LSP_CANCEL_UNKNOWN,
            format!("cancels request {id}, which this side never sent"),
        );
    }
}
