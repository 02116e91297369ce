//! Expiry: the sweeper that removes expired sessions and their index entries
//! within seconds, with no client traffic at all.
//!
//! How it finds work without scanning: each user's index `us:<id>` scores
//! every token with a lower bound of the second it expires, and the app's
//! `_expiry` index scores every user with the lowest of those. Reads and
//! writes only ever push a session's expiry later, so the bounds stay valid
//! without being rewritten on the hot path. A step takes the users whose bound
//! has passed, checks only their sessions whose bound has passed, deletes the
//! expired ones and re-scores the live ones to their true expiry.
//!
//! Bounds on work: one step examines at most `sweep-batch` sessions (default
//! 1000, well under a millisecond) and steps run every `sweep-interval` ms
//! (default 100), or 1 ms apart while a backlog remains, so the server keeps
//! serving clients between steps. Only a master sweeps; replicas receive the
//! deletions as DEL/ZREM effects. Apps are learnt from keyspace events on
//! their `_expiry` key, including the events Redis raises for every key
//! loaded from an RDB or AOF, so sessions that expired while the server was
//! down are cleaned up after a restart, and a promoted replica sweeps too.

mod registry;
mod sweep;

use std::time::Duration;

use crate::api::call;
use redis_module::{Context, NotifyEvent};

use crate::config::{self, SWEEP_INTERVAL_MS};
use crate::keys;

/// Starts the periodic sweep. Redis refuses `MODULE UNLOAD` while a timer is
/// pending, so the module stays loaded until the server stops.
pub fn start(ctx: &Context) {
    schedule(ctx, interval());
}

fn interval() -> Duration {
    Duration::from_millis(SWEEP_INTERVAL_MS.get().max(1) as u64)
}

fn schedule(ctx: &Context, delay: Duration) {
    ctx.create_timer(delay, tick, ());
}

fn tick(ctx: &Context, _: ()) {
    let backlog = sweep::step(ctx);
    let delay = if backlog {
        Duration::from_millis(1)
    } else {
        interval()
    };
    schedule(ctx, delay);
}

/// Keyspace-event hook: remembers every app whose expiry index appears, in
/// whichever database it appears.
pub fn on_key_event(ctx: &Context, _event: NotifyEvent, _name: &str, key: &[u8]) {
    if let Some(app) = keys::app_of_expiry_key(config::prefix(), key) {
        // SAFETY: ctx is the notification's context, selected on the key's db.
        let db = unsafe { call!(RedisModule_GetSelectedDb(ctx.get_raw()) or 0) };
        registry::learn(db, app);
    }
}
