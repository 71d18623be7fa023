//! Interactive control of a running shim: inject messages toward either peer, hold
//! messages matching an intercept and decide their fate. `protocol` is the wire format of
//! the control socket, `client` the controller's end of it (`rpctap send`, the TUI).
//! The forwarding itself stays in `proxy/`.

pub mod client;
mod commands;
pub mod protocol;
pub mod server;
pub mod state;
