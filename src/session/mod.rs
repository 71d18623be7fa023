//! The in-memory model of a session: a compact store of every event with request/response
//! pairing, and statistics over it; and a recording's summary (counts, protocol, exit)
//! scanned without building a store.
//!
//! Not responsible for: reading files or sockets (see `record`, `live`), drawing (see `tui`).

mod load;
mod pairing;
mod problems;
mod stats;
mod stats_stream;
mod store;
pub mod stream;
mod summary;

pub use load::{describe, io_message, load};
pub use pairing::OpenRequests;
pub use problems::{Problem, Problems};
pub use stats::{MethodStats, Stats, Unanswered};

pub use store::{Flags, IdKey, Row, Status, Store, NONE};
pub use summary::{summarize, Summaries, Summary};
