//! The one rule that pairs a response with its request: same id, travelling the other
//! way (server-to-client requests exist, so ids are kept per direction). The session
//! store pairs rows with it; the OpenTelemetry exporter pairs open spans with it.
//!
//! Not responsible for: what is kept per request (the caller's `V`), cancellation
//! semantics, or classifying messages (see `rpc`).

use crate::record::Dir;
use std::collections::HashMap;
use std::hash::Hash;

/// Requests waiting for their response, by the direction they travelled and their id.
#[derive(Debug)]
pub struct OpenRequests<K, V> {
    open: HashMap<(Dir, K), V>,
}

impl<K, V> Default for OpenRequests<K, V> {
    fn default() -> Self {
        OpenRequests {
            open: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash, V> OpenRequests<K, V> {
    /// A request travelling `dir` with `id`. Returns the request it displaces, if one
    /// with the same id was still waiting (a duplicate id).
    pub fn request(&mut self, dir: Dir, id: K, value: V) -> Option<V> {
        self.open.insert((dir, id), value)
    }

    /// A response travelling `dir` with `id`: the request it answers, no longer waiting.
    pub fn response(&mut self, dir: Dir, id: K) -> Option<V> {
        self.open.remove(&(dir.other(), id))
    }

    /// The waiting request that travelled `dir` with `id` (a cancellation names its target
    /// this way: it travels the same way as the request it cancels).
    pub fn get_mut(&mut self, dir: Dir, id: K) -> Option<&mut V> {
        self.open.get_mut(&(dir, id))
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Every request still waiting, emptying the set (the session ended).
    pub fn drain(&mut self) -> impl Iterator<Item = ((Dir, K), V)> + '_ {
        self.open.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_pair_with_the_request_travelling_the_other_way() {
        let mut p = OpenRequests::default();
        assert_eq!(p.request(Dir::C2s, 1, "client's 1"), None);
        assert_eq!(p.request(Dir::S2c, 1, "server's 1"), None);
        assert_eq!(p.response(Dir::S2c, 1), Some("client's 1"));
        assert_eq!(p.response(Dir::S2c, 1), None);
        assert_eq!(p.request(Dir::S2c, 1, "again"), Some("server's 1"));
        assert_eq!(p.get_mut(Dir::S2c, 1).copied(), Some("again"));
        assert_eq!(p.drain().count(), 1);
        assert!(p.is_empty());
    }
}
