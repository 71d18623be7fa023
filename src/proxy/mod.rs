//! The shim: runs the server as a child, forwards stdio both ways byte-exact, and hands a
//! copy of every byte to the recorder.
//!
//! - `pump`: one thread per stream; forward first, then copy to the recorder, never wait.
//! - `recorder`: decodes the copies into events, writes the recording, publishes it.
//! - `supervisor`: the child's lifecycle: signals, parent death, stdin EOF, exit code.

mod file_sink;
mod pump;
mod recorder;
mod supervisor;
mod tap;

pub use file_sink::FileSink;
pub use pump::{pump, Lane, TapMsg};
pub use recorder::{Observer, Recorder, RecorderConfig};
pub use supervisor::{run, ShimConfig, SpawnError};
pub use tap::{tap, Batch, Tap, TapReceiver};
