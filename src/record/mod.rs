//! The recording format (rpctap JSONL, version 1): the event model every other part
//! shares, its writer and its reader (see `docs/recording-format.md`); and other tools'
//! formats, read as the same events (`import`).

mod event;
pub mod export;
pub mod import;
mod reader;
mod time;
mod validate;
mod writer;

pub use event::{
    Dir, Event, Exit, Gap, MessageEvent, NoiseEvent, SessionInfo, StderrEvent, Undelivered,
};
pub use import::{open, Format};
pub use reader::{parse_line, read_file, ReadError, Reader};
pub use time::Micros;
pub use writer::{
    canonical_head, encode_event, encode_message_head, is_canonical_head, wire_bytes, MESSAGE_TAIL,
};
