//! The shim: runs the server as a child, forwards stdio both ways byte-exact, and hands a
//! copy of every byte to the recorder.
//!
//! - `pump`: one thread per stream; forward first, then copy to the recorder, never wait.
//! - `recorder`: decodes the copies into events, writes the recording, publishes it;
//!   `aside`: it stands aside for a burst of small messages.
//! - `supervisor`: the shim's run as named steps, and when to stop the child (signals,
//!   parent death, stdin EOF); the lifecycle itself (spawn, stop sequence, exit code) is
//!   `crate::child`'s.

mod aside;
mod disk_writer;
mod file_sink;
mod framed;
mod pump;
mod recorder;
mod reserve;
mod spill;
mod stage;
mod supervisor;
mod tap;
mod widen;

pub use file_sink::FileSink;
pub use pump::{pump, Lane, SyncState, TapMsg};
pub use recorder::{Observer, Recorder, RecorderConfig};
pub use supervisor::{run, ShimConfig, SpawnError};
pub use tap::{tap, Batch, Tap, TapReceiver};
