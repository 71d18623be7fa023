//! The command line, as clap derive types. Every flag's `///` doc is its `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Watch, record and replay JSON-RPC over stdio (LSP, DAP, MCP).
///
/// Put `rpctap` in front of a server command in your editor or MCP client config:
/// rpctap forwards every byte unchanged, records the session, and shows it live.
/// Everything from the server command on belongs to the server; `--` before it is
/// optional, and needed only for a server named like a subcommand (`rpctap -- cat`).
#[derive(Debug, Parser)]
#[command(
    name = "rpctap",
    version,
    args_conflicts_with_subcommands = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

const EXAMPLES: &str = "\
Examples:
  rpctap pylsp                             run pylsp behind rpctap (what an editor config says)
  rpctap --record s.jsonl node srv.js      record to a file of your choice (never overwritten)
  rpctap --record ~/rec/ pylsp             a new file in that directory for every session
  rpctap --record '/tmp/{name}-{time}-{pid}.jsonl' pylsp   placeholders
  rpctap -- cat                            a server named like an rpctap subcommand
  rpctap cat s.jsonl                       read a recording, one line per message
  rpctap stats s.jsonl                     latency percentiles, errors, unanswered requests
  rpctap cat --format vscode trace.log     convert (any format rpctap reads, to any it writes)
  rpctap cat --format har s.jsonl > s.har  open a session in an HTTP traffic viewer

Recordings go to ~/.local/state/rpctap/sessions/ unless --record says otherwise.
Editor and MCP client setups: docs/clients.md.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run CMD as a child, forward stdio both ways byte-exact, decode and record it.
    Proxy(ProxyArgs),
    /// Print, filter and convert recordings.
    Cat(CatArgs),
    /// Per-method counts, errors and latency percentiles of a recording.
    Stats(StatsArgs),
    /// Check recordings against JSON-RPC 2.0, the LSP/MCP/DAP lifecycles and their official
    /// schemas. Exit 0: no error-level result; 1: some; 2: usage or input error.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// List recorded and live sessions.
    Ls(LsArgs),
    /// Browse one recording in the terminal UI (followed while it is being written).
    Open(OpenArgs),
    /// The terminal UI: several recordings merged by time, or with none, the hub of
    /// live and recorded sessions.
    Ui(UiArgs),
    /// A demo client and server talk through rpctap while the terminal UI shows it live.
    Demo(DemoArgs),
    /// Replay a recording's client messages into a fresh server and compare its answers.
    Replay(ReplayArgs),
    /// Act as the server on stdio, answering from a recording.
    Mock(MockArgs),
    /// Compare two sessions: added, removed and changed responses, latency changes.
    Diff(crate::commands::diff::DiffArgs),
    /// Send recorded sessions to an OpenTelemetry collector (OTLP over HTTP).
    Export(crate::commands::export::ExportArgs),
    /// Inject a JSON-RPC message into a live session; prints a request's response.
    /// Exit 0; 1: an error response or a timeout; 2: usage or input error.
    Send(crate::commands::send::SendArgs),
    /// The built-in demo language server on stdio (for `rpctap demo`, tests and benchmarks).
    #[command(hide = true)]
    DemoServer(crate::demo::DemoServerArgs),
    /// Drive a server with the scripted demo client: `rpctap demo-client -- CMD...`.
    #[command(hide = true)]
    DemoClient(crate::demo::DemoClientArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print rpctap's manual page (roff), generated from this command line.
    #[command(hide = true)]
    Man(ManArgs),
}

const COMPLETIONS_HELP: &str = "\
Load them in the current shell, or install them where your shell looks:
  bash:  source <(rpctap completions bash)
         rpctap completions bash > ~/.local/share/bash-completion/completions/rpctap
  zsh:   rpctap completions zsh > ~/.zfunc/_rpctap   (with ~/.zfunc in $fpath)
  fish:  rpctap completions fish > ~/.config/fish/completions/rpctap.fish";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per subcommand (rpctap.1, rpctap-cat.1, ...) into this folder
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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
    /// Record to this file instead of the state directory. An existing file is never
    /// replaced: a new name next to it is used (and said on stderr); a directory gets a new
    /// file inside it; `{name}`, `{pid}` and `{time}` are replaced.
    #[arg(long, value_name = "PATH", conflicts_with = "no_record")]
    pub record: Option<PathBuf>,
    /// Do not write a recording.
    #[arg(long)]
    pub no_record: bool,
    /// Do not publish the session for live viewers (`rpctap ui` in another terminal).
    #[arg(long)]
    pub no_live: bool,
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
    /// With --redact: record bodies that are not valid JSON, and bytes outside any frame,
    /// as they are. By default they are replaced by a placeholder with their length,
    /// because a key cannot be found in them and they may hold its value.
    #[arg(long, requires = "redact")]
    pub redact_keep_unparsed: bool,
    /// Check the traffic against the protocol's rules as it is recorded (see
    /// docs/conformance.md); each violation is one line on stderr, a summary at the end.
    #[arg(long)]
    pub check: bool,
    /// Send each request/response pair as a span to this OpenTelemetry collector
    /// (OTLP over HTTP; the base URL, `/v1/traces` is appended). Default:
    /// $OTEL_EXPORTER_OTLP_ENDPOINT when set.
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// Also send message bodies (after --redact) as span attributes.
    #[arg(long)]
    pub otlp_bodies: bool,
    /// Largest message decoded, in bytes (larger ones are forwarded but not decoded).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024, value_parser = message_size, allow_negative_numbers = true)]
    pub max_message_size: usize,
    /// Seconds to wait for the child to exit after its stdin closes, before SIGTERM
    /// (and as long again before SIGKILL).
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0, value_parser = seconds, allow_negative_numbers = true)]
    pub grace: f64,
    /// The server command and its arguments: everything from the first argument that is
    /// not an rpctap option on, options included (`--` before it is optional; use it for a
    /// server named like an rpctap subcommand: `rpctap -- cat`).
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        num_args = 0..
    )]
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
    /// Recordings to read: rpctap JSONL, VS Code LSP traces (text or JSON), lsp-devtools
    /// logs (JSONL or SQLite) or mcpsnoop logs, recognised from their content.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: CatFormat,
    /// Write the exact byte stream of one direction instead (headers and noise included).
    #[arg(long, value_enum, conflicts_with = "format")]
    pub wire: Option<WireDir>,
    /// Only the messages this filter expression accepts, e.g.
    /// 'method:textDocument/* & latency>100ms' (see docs/filters.md). With --format jsonl
    /// the session header and exit lines are kept, so the output is still a recording.
    #[arg(long, value_name = "EXPR", conflicts_with = "wire")]
    pub filter: Option<String>,
    /// Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Recordings to summarise together, in any format `rpctap cat` reads.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Summarise only the messages this filter expression accepts (see docs/filters.md).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// text (a table) or json (one document: totals, per-method counts and latency
    /// percentiles in µs, pending and cancelled requests) — the numbers of the TUI's S view.
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub format: ReportFormat,
    /// Do not count conformance violations (see `rpctap check`).
    #[arg(long)]
    pub no_check: bool,
}

const CHECK_HELP: &str = "\
Examples:
  rpctap check s.jsonl                         one line per violation, then a summary
  rpctap check --format sarif s.jsonl > s.sarif  for code-scanning dashboards
  rpctap check --ignore framing/noise s.jsonl  drop a rule (a prefix ending in / drops an area)
  rpctap check --list-rules                    every rule with its severity and spec link
Rules and examples: docs/conformance.md.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// `FILE:LINE: severity[rule]: message`, then a summary line.
    Text,
    /// One JSON document: per file, its results.
    Json,
    /// SARIF 2.1.0, a result per violation located at its line.
    Sarif,
    /// JUnit XML: a suite per file, a case per rule.
    Junit,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Recordings to check, in any format `rpctap cat` reads.
    #[arg(value_name = "FILE", required_unless_present = "list_rules")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Report only this rule (repeatable; `schema/` names every rule of an area).
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Do not report this rule (repeatable; `schema/` names every rule of an area).
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Print the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording to replay.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// recorded (keep the recorded gaps), asap (only wait for answers), or a speed factor.
    #[arg(long, default_value = "asap", value_name = "PACE")]
    pub pace: crate::replay::Pace,
    /// A JSON path left out of the comparison, e.g. `.result.serverInfo` (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    /// Compare only the requests this filter selects (see docs/filters.md); all are sent.
    #[arg(long, value_name = "FILTER")]
    pub only: Option<String>,
    /// Exit with 1 when any response differs, is missing or is extra.
    #[arg(long)]
    pub check: bool,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub report: ReportFormat,
    /// Save the replayed session as a recording (never over an existing file: see
    /// `rpctap --help` on --record).
    #[arg(long, value_name = "PATH")]
    pub record: Option<PathBuf>,
    /// Show the replayed session live in the TUI; the report follows when you quit it.
    #[arg(long)]
    pub tui: bool,
    /// Seconds to wait for each response.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Seconds the server may take to exit once its stdin is closed.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    pub grace: f64,
    /// The server command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// The recording to answer from.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// What to do with a request the recording has no match for.
    #[arg(long, value_enum, default_value = "error")]
    pub unmatched: crate::replay::Unmatched,
    /// A JSON path in params left out when matching requests (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Recording to open.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Start with the selection following new messages (toggle with `f`). Without it,
    /// a recording still being written starts followed and an ended one at its start,
    /// as in the hub.
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Recordings to show merged by time; none: the hub of live and recorded sessions.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Start with the selection following new messages (toggle with `f`). Without it,
    /// a recording still being written starts followed and an ended one at its start,
    /// as in the hub.
    #[arg(short, long)]
    pub follow: bool,
    /// Compare two recordings (A B) instead: what `rpctap diff` reports, browsable.
    #[arg(long, conflicts_with = "follow")]
    pub diff: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Pause between the demo client's steps, in milliseconds.
    #[arg(long, default_value_t = 350, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub pace_ms: u64,
}

/// The longest wait any option accepts: past it, deadlines would overflow the clock.
pub const MAX_SECONDS: f64 = 1_000_000.0;

/// A number of seconds: finite, from 0 to `MAX_SECONDS` (`--grace 1e19` used to panic).
pub fn seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=MAX_SECONDS).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of seconds from 0 to {MAX_SECONDS}, such as 2.5"
        )),
    }
}

/// The decoding limit: a byte count from 1 to 4 GiB (a recorded body's length is 32 bits).
pub fn message_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<u64>() {
        Ok(v) if (1..=u64::from(u32::MAX)).contains(&v) => Ok(v as usize),
        _ => Err(format!(
            "expected a number of bytes from 1 to {}, such as 1048576",
            u32::MAX
        )),
    }
}
