//! rpctap: a man-in-the-middle inspector for JSON-RPC over stdio.
//!
//! The library holds everything; `main.rs` only maps `run()` to an exit code.

pub mod wire;
pub mod rpc;
pub mod record;
pub mod session;
