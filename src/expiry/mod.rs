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
//! deletions as DEL/ZREM effects. The registry remembers when each app is
//! next due, so idle apps cost nothing but a comparison per step.
//!
//! Apps are learnt from keyspace events on their `_expiry` and `_users` keys,
//! including the events Redis raises for every key loaded from an RDB or
//! AOF, so sessions that expired while the server was down are cleaned up
//! after a restart, and a promoted replica sweeps too.

mod memory_policy;
mod registry;
mod scan;
mod sweep;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis_module::{Context, NotifyEvent};

use crate::api::call;
use crate::config::{self, SWEEP_INTERVAL_MS};
use crate::keys;

/// Starts the periodic sweep. Redis refuses `MODULE UNLOAD` while a timer is
/// pending, so the module stays loaded until the server stops.
pub fn start(ctx: &Context) {
    memory_policy::check(ctx);
    schedule(ctx, interval());
}

fn interval() -> Duration {
    Duration::from_millis(SWEEP_INTERVAL_MS.get().max(1) as u64)
}

fn schedule(ctx: &Context, delay: Duration) {
    ctx.create_timer(delay, tick, ());
}

/// How many apps the sweeper knows of (INFO sess).
pub fn known_apps() -> usize {
    registry::len()
}

/// Whether the last step ran out of budget (INFO sess).
pub fn behind() -> bool {
    BEHIND.load(Ordering::Relaxed)
}

static BEHIND: AtomicBool = AtomicBool::new(false);

fn tick(ctx: &Context, _: ()) {
    let backlog = sweep::step(ctx);
    BEHIND.store(backlog, Ordering::Relaxed);
    let delay = if backlog {
        Duration::from_millis(1)
    } else {
        interval()
    };
    schedule(ctx, delay);
}

/// True while the server forbids writes: CLIENT PAUSE WRITE or ALL, SHUTDOWN
/// waiting for lagging replicas, FAILOVER and CLUSTER FAILOVER. The dataset
/// must stay fixed then (a failover would lose what is written), and Redis
/// aborts if a write is propagated to a replica or the AOF meanwhile. This
/// call reports exactly the condition of that assertion (`areClientsPaused()`
/// on 7.0, the paused replica action from 7.2 on), and ends a pause whose
/// time is up.
pub(crate) fn writes_paused() -> bool {
    // SAFETY: takes no arguments and only reads the server's pause state.
    unsafe { call!(RedisModule_AvoidReplicaTraffic() or 0) != 0 }
}

/// Keyspace-event hook: remembers every app whose expiry or activity index
/// appears, in whichever database it appears.
pub fn on_key_event(ctx: &Context, _event: NotifyEvent, _name: &str, key: &[u8]) {
    if let Some(app) = keys::app_of_index_key(config::prefix(), key) {
        registry::learn(selected_db(ctx), app);
    }
}

/// Tells the sweeper that a session of `app` may expire at `second`, so
/// that it does not wait for its next planned visit of the app.
pub fn session_expires(ctx: &Context, app: &[u8], second: i64) {
    registry::due_by(selected_db(ctx), app, second);
}

/// Selects database `db` for the timer's context; false when the server has
/// no such database.
pub(crate) fn select_db(ctx: &Context, db: i32) -> bool {
    // SAFETY: a timer context may select any database; an out-of-range
    // number is refused with an error status.
    let status = unsafe {
        call!(RedisModule_SelectDb(ctx.get_raw(), db) or redis_module::raw::REDISMODULE_ERR as i32)
    };
    status == redis_module::raw::REDISMODULE_OK as i32
}

pub(crate) fn selected_db(ctx: &Context) -> i32 {
    // SAFETY: ctx is a live context; a notification's is selected on the
    // key's database, a command's on the client's.
    unsafe { call!(RedisModule_GetSelectedDb(ctx.get_raw()) or 0) }
}
