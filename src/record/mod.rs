//! The recording format (rpctap JSONL, version 1): the event model every other part
//! shares, its writer and its reader (see `docs/recording-format.md`); and other tools'
//! formats, read as the same events (`import`).

mod event;
pub mod export;
pub mod import;
pub mod lines;
mod reader;
pub mod redact;
mod regular;
mod skim;
mod time;
pub(crate) mod validate;
mod writer;

pub use crate::wire::{canonical_head, is_canonical_head, wire_bytes};
pub use event::{
    Dir, Event, Exit, Gap, Mark, MessageEvent, NoiseEvent, Release, ReleaseAction, SessionInfo,
    StderrEvent, Undelivered,
};
pub use import::{open, Format};
pub use lines::{Line, Lines};
pub use reader::{parse_line, read_file, ReadError, Reader};
pub use redact::Redactor;
pub use regular::{open_regular, open_regular_async};
pub use time::Micros;
pub use writer::{encode_event, encode_message_head, MESSAGE_TAIL};

#[cfg(test)]
mod marks_tests;
