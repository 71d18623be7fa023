//! The command line, as clap derive types. Every flag's `///` doc is its `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// rpctap: watch, record and replay JSON-RPC over stdio (LSP, DAP, MCP).
///
/// Put `rpctap --` in front of a server command in your editor or MCP client config:
/// rpctap forwards every byte unchanged, records the session, and shows it live.
#[derive(Debug, Parser)]
#[command(name = "rpctap", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run CMD as a child, forward stdio both ways byte-exact, decode and record it.
    Proxy(ProxyArgs),
    /// Print, filter and convert recordings.
    Cat(CatArgs),
    /// Per-method counts, errors and latency percentiles of a recording.
    Stats(StatsArgs),
    /// List recorded sessions.
    Ls(LsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FramingArg {
    Auto,
    Lsp,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    Auto,
    Lsp,
    Dap,
    Mcp,
    Jsonrpc,
}

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Session label (default: the basename of CMD).
    #[arg(long)]
    pub name: Option<String>,
    /// Record to this file instead of the state directory.
    #[arg(long, value_name = "PATH", conflicts_with = "no_record")]
    pub record: Option<PathBuf>,
    /// Do not write a recording.
    #[arg(long)]
    pub no_record: bool,
    /// Message framing; auto decides per direction from the first bytes.
    #[arg(long, value_enum, default_value = "auto")]
    pub framing: FramingArg,
    /// Protocol spoken; auto recognises it from the traffic.
    #[arg(long, value_enum, default_value = "auto")]
    pub protocol: ProtocolArg,
    /// JSON object key whose values are replaced by "«redacted»" in the recording
    /// (never on the wire). Repeatable.
    #[arg(long, value_name = "KEY")]
    pub redact: Vec<String>,
    /// Largest message decoded, in bytes (larger ones are forwarded but not decoded).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_message_size: usize,
    /// Seconds to wait for the child to exit after its stdin closes, before SIGTERM
    /// (and as long again before SIGKILL).
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub grace: f64,
    /// The server command and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatFormat {
    /// One line per message with time, direction, kind, method, id and latency.
    Pretty,
    /// The recording format (rpctap JSONL).
    Jsonl,
    /// One JSON array of messages with their metadata.
    Json,
    /// A VS Code LSP trace (text, verbose), as vscode-languageclient writes it.
    Vscode,
    /// A HAR 1.2 log: one entry per request/response pair, for HTTP traffic viewers.
    Har,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WireDir {
    C2s,
    S2c,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// Recordings to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: CatFormat,
    /// Write the exact byte stream of one direction instead (headers and noise included).
    #[arg(long, value_enum, conflicts_with = "format")]
    pub wire: Option<WireDir>,
    /// Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Recording to summarise.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct LsArgs {}
