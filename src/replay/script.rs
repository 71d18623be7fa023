//! What a replay sends, derived from a recording: the client's messages in order, the
//! causality between them, and the client's recorded answers to server requests.

use crate::record::Dir;
use crate::rpc::Kind;
use crate::session::Store;
use crate::wire::Framing;
use std::collections::{HashMap, VecDeque};

pub struct Step {
    /// The recorded client message.
    pub row: usize,
    /// How many entries of `Script::awaited` must be answered before it is sent: the
    /// requests whose recorded response came before this message.
    pub after: usize,
}

pub struct Script {
    pub steps: Vec<Step>,
    /// Client requests in the order their recorded responses arrived.
    pub awaited: Vec<usize>,
    /// Recorded client answers to server-to-client requests, by method, in order.
    pub answers: HashMap<String, VecDeque<usize>>,
    pub framing: Framing,
}

impl Script {
    pub fn from_store(store: &Store) -> Result<Script, super::ReplayError> {
        let mut steps = Vec::new();
        let mut awaited = Vec::new();
        let mut answers: HashMap<String, VecDeque<usize>> = HashMap::new();
        for i in 0..store.len() {
            let row = store.row(i);
            match (row.dir, row.kind) {
                (_, Kind::Noise | Kind::Stderr | Kind::Oversized) => {}
                (Dir::S2c, k) if k.is_response() => {
                    if let Some(req) = store.pair(i) {
                        awaited.push(req);
                    }
                }
                (Dir::S2c, Kind::Request) => {
                    if let Some(answer) = store.pair(i) {
                        let method = store.method(i).unwrap_or_default().to_owned();
                        answers.entry(method).or_default().push_back(answer);
                    }
                }
                (Dir::S2c, _) => {}
                (Dir::C2s, k) if k.is_response() => {} // sent when the server asks
                (Dir::C2s, _) => steps.push(Step {
                    row: i,
                    after: awaited.len(),
                }),
            }
        }
        if steps.is_empty() {
            return Err(super::ReplayError::NothingToReplay);
        }
        let framing = store.framing[Dir::C2s as usize].unwrap_or(Framing::Lsp);
        Ok(Script {
            steps,
            awaited,
            answers,
            framing,
        })
    }
}
