//! The live feed (PRODUCT §3): each running shim publishes its session on a Unix socket,
//! in the recording format's lines, so `socat - UNIX-CONNECT:<sock> | jq` works.
//!
//! - `publisher`: in the shim; each viewer reads the recording file as the recorder
//!   commits it, so a slow viewer is never waited for and costs the shim nothing.
//! - `discovery`: where sockets live, listing live sessions, cleaning stale ones, and
//!   connecting as a viewer.

mod discovery;
mod publisher;

pub use discovery::{connect, live_sessions, live_sessions_in, runtime_dir, LiveSession};
pub use publisher::{Feed, Publisher};
