//! rpctap: a man-in-the-middle inspector for JSON-RPC over stdio.
//!
//! The library holds everything; `main.rs` only maps `run()` to an exit code.

pub mod catalog;
pub mod check;
pub mod child;
pub mod cli;
pub mod commands;
pub mod control;
pub mod demo;
pub mod escape;
pub mod files;
pub mod filter;
pub mod fmt;
pub mod index;
pub mod live;
pub mod log;
pub mod os;
pub mod otel;
pub mod pace;
pub mod paths;
pub mod proxy;
pub mod record;
pub mod replay;
pub mod rpc;
pub mod session;
pub mod tui;
pub mod wire;
