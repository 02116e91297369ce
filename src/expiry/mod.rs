//! Expiry: removing expired sessions and their index entries within
//! seconds, with no client traffic at all. The scheduler (scheduler.rs)
//! drives it in bounded steps.
//!
//! How it finds work without scanning: each user's index `us:<id>` scores
//! every token with a lower bound of the second it expires, and the app's
//! `_expiry` index scores every user with the lowest of those. Reads and
//! writes only ever push a session's expiry later, so the bounds stay valid
//! without being rewritten on the hot path. A visit takes the users whose
//! bound has passed, checks only their sessions whose bound has passed,
//! deletes the expired ones and re-scores the live ones to their true expiry.
//!
//! Under the indexes, the keyspace scan (`scan.rs`) finds what they lost.
//! Apps are learnt from keyspace events on their `_expiry` and `_users` keys
//! (registry.rs), including the events Redis raises for every key loaded
//! from an RDB or AOF, so sessions that expired while the server was down
//! are cleaned up after a restart, and a promoted replica sweeps too.

pub mod memory_policy;
pub mod scan;
pub mod sweep;
