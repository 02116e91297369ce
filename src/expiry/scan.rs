//! The keyspace scan: the safety net under the indexes.
//!
//! The sweeper finds expiring sessions through the `us:<id>` and `_expiry`
//! indexes. Those are ordinary keys: a user may DEL or EXPIRE them, and an
//! `allkeys-*` maxmemory policy may evict them. Then the sessions they listed
//! are orphans the sweeper never meets. This scan walks every database with
//! `RM_Scan`, a bounded number of keys per step, and for every session hash
//! of the module's layout:
//! - expired (or not a readable session at all, like a hash with a tampered
//!   field): deleted with its index entry, as the sweeper would;
//! - live but missing from its user's index: put back in the index, so the
//!   sweeper (and SOID) see it again and it expires on time.
//!
//! It also rediscovers apps from their index keys. A full pass over `n` keys
//! takes about `n / (10 × sweep-batch)` seconds at the default interval, so
//! an orphan leaves the keyspace at most one pass after it expired.

use std::ffi::c_void;
use std::sync::Mutex;

use redis_module::{raw, Context, RedisString};

use super::sweep::check_session;
use super::{registry, select_db};
use crate::api::call;
use crate::config::{self, SWEEP_INTERVAL_MS};
use crate::keys::{self, Parsed};
use crate::redis_key::Kind;
use crate::store::Store;

/// Where the scan stands: a database and a cursor into it.
struct ScanState {
    db: i32,
    cursor: *mut raw::RedisModuleScanCursor,
    /// When the last step ran (ms): the scan keeps the regular pace even
    /// while the sweeper steps every millisecond through a backlog.
    last_step_ms: i64,
}

// SAFETY: the cursor is only ever used on Redis's main thread (timers), the
// mutex only satisfies the type system.
unsafe impl Send for ScanState {}

static STATE: Mutex<Option<ScanState>> = Mutex::new(None);

/// What one step's callback collected; acted upon after `RM_Scan` returns,
/// because deleting other keys during a scan is not safe.
#[derive(Default)]
struct Found {
    visited: usize,
    sessions: Vec<Vec<u8>>,
    apps: Vec<Vec<u8>>,
}

/// Visits up to `budget` keys of the current database. Returns true when a
/// full pass over every database has just ended.
pub fn step(ctx: &Context, now_ms: i64, budget: usize) -> bool {
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let state = guard.get_or_insert_with(|| ScanState {
        db: 0,
        // SAFETY: plain constructor; destroyed never (one cursor for the
        // module's lifetime, restarted between databases).
        cursor: unsafe { call!(RedisModule_ScanCursorCreate() or std::ptr::null_mut()) },
        last_step_ms: 0,
    });
    if state.cursor.is_null() || now_ms - state.last_step_ms < SWEEP_INTERVAL_MS.get() {
        return false;
    }
    state.last_step_ms = now_ms;
    let mut found = Found::default();
    let db = state.db;
    if !select_db(ctx, db) {
        // Past the last database: the pass is complete.
        state.db = 0;
        return true;
    }
    while found.visited < budget {
        // SAFETY: ctx is the timer's context, selected on `db`; the callback
        // only reads the key name it is given.
        let more = unsafe {
            call!(RedisModule_Scan(
                ctx.get_raw(),
                state.cursor,
                Some(collect),
                &mut found as *mut Found as *mut c_void,
            ) or 0)
        };
        if more == 0 {
            state.db += 1;
            // SAFETY: the cursor is live.
            unsafe { call!(RedisModule_ScanCursorRestart(state.cursor) or ()) };
            break;
        }
    }
    drop(guard);
    for app in &found.apps {
        registry::discover(db, app);
    }
    for name in &found.sessions {
        if let Some((app, Parsed::Session(token))) = keys::parse(config::prefix(), name) {
            check_orphan(&Store::new(ctx, app), app, token);
        }
    }
    false
}

extern "C" fn collect(
    _ctx: *mut raw::RedisModuleCtx,
    name: *mut raw::RedisModuleString,
    _key: *mut raw::RedisModuleKey,
    privdata: *mut c_void,
) {
    // SAFETY: privdata is the Found passed by `step`, alive during RM_Scan.
    let found = unsafe { &mut *(privdata as *mut Found) };
    found.visited += 1;
    let name = RedisString::string_as_slice(name);
    match keys::parse(config::prefix(), name) {
        Some((_, Parsed::Session(_))) => found.sessions.push(name.to_vec()),
        Some((app, Parsed::Activity | Parsed::Expiry | Parsed::Graves)) => {
            found.apps.push(app.to_vec())
        }
        _ => {}
    }
}

/// Deletes an expired or unreadable session; re-indexes a live one that its
/// user's index lost.
fn check_orphan(store: &Store, app: &[u8], token: &[u8]) {
    let Ok(mut key) = store.open_session(token, true) else {
        return; // not a hash: not the module's
    };
    if crate::graves::active(store) {
        // A big kill of the app is being freed: a hash its user's index
        // lacks may be one it killed, never to be put back. The scan's
        // next pass comes after the graveyards are gone.
        return;
    }
    let Some(session) = store.read(&key) else {
        // Missing a field or holding a malformed one: no command can ever
        // return it, so it is garbage (unless its slot is moving: later).
        if crate::cluster::settled(store.ctx(), app) {
            store.delete(&mut key);
        }
        return;
    };
    drop(key);
    let Ok(mut user) = store.open_index(&store.keys.user_sessions(&session.id), true) else {
        return; // the user's index name holds another type: not ours to fix
    };
    let token = store.string(token);
    if session.is_live(store.now) && user.zset_score(&token).is_some() {
        return; // the common case: indexed, the sweeper has it
    }
    if !crate::cluster::settled(store.ctx(), app) {
        return; // its index may be on the other node of a slot migration
    }
    let Ok(mut expiry) = store.open_index(&store.keys.expiry(), true) else {
        return;
    };
    check_session(store, &mut user, &token, session.id.as_slice());
    store.reschedule_user(&mut expiry, &user, &session.id);
    if user.kind() == Kind::ZSet {
        super::session_expires(store.ctx(), app, session.expires_at());
    }
}
