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
//! - killed (created before the last kill of its app or user on record,
//!   kill_record.rs): deleted, never put back;
//! - live but missing from its user's index: put back in the index, so the
//!   sweeper (and SOID) see it again and it expires on time.
//!
//! For every user index `us:<id>` whose user the expiry index has lost, the
//! user goes back into it, so the sweeper visits the index again and it
//! leaves with its last session. Kill records older than the start of the
//! last complete pass are removed: that pass deleted what they had killed.
//!
//! It also rediscovers apps from their index keys. A full pass over `n` keys
//! takes about `n / (10 × sweep-batch)` seconds at the default interval, so
//! an orphan leaves the keyspace at most one pass after it expired.

use std::collections::HashSet;
use std::ffi::c_void;
use std::sync::Mutex;

use redis_module::{raw, Context, RedisString};

use super::sweep::check_session;
use crate::api::call;
use crate::config::{self, SWEEP_INTERVAL_MS};
use crate::keys::{self, Parsed};
use crate::redis_key::Kind;
use crate::registry;
use crate::server::select_db;
use crate::store::Store;

/// Where the scan stands: a database and a cursor into it.
struct ScanState {
    db: i32,
    cursor: *mut raw::RedisModuleScanCursor,
    /// When the last step ran (ms): the scan keeps the regular pace even
    /// while the sweeper steps every millisecond through a backlog.
    last_step_ms: i64,
    /// When the current pass began (ms).
    pass_started_ms: i64,
    /// When the last complete pass began, and the apps it left alone (a
    /// big kill being freed, a slot moving): their kills stay on record.
    ended_pass: Option<(i64, HashSet<App>)>,
    /// The apps this pass has left alone so far.
    skipped: HashSet<App>,
    /// Whether this pass has met kill records and graveyards, and the
    /// registry's counts of their appearances when it began: a pass that met
    /// none of a kind while none appeared tells the registry none exists.
    kills_met: bool,
    graves_met: bool,
    notices: (u64, u64),
}

type App = (i32, Vec<u8>);

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
    /// User index keys.
    users: Vec<Vec<u8>>,
    /// Apps with kills on record.
    kills: Vec<Vec<u8>>,
    /// Whether a graveyard index (`_graves`) was met.
    graves: bool,
    /// The import's namespace prefix, while it is on, and the apps whose
    /// library session list was met under it.
    library_prefix: Option<Vec<u8>>,
    library_apps: Vec<Vec<u8>>,
    apps: Vec<Vec<u8>>,
}

/// Visits up to `budget` keys of the current database, at most once per
/// sweep interval unless `hurry`. Returns true when a full pass over every
/// database has just ended.
pub fn step(ctx: &Context, now_ms: i64, budget: usize, hurry: bool) -> bool {
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let state = guard.get_or_insert_with(|| ScanState {
        db: 0,
        // SAFETY: plain constructor; destroyed never (one cursor for the
        // module's lifetime, restarted between databases).
        cursor: unsafe { call!(RedisModule_ScanCursorCreate() or std::ptr::null_mut()) },
        last_step_ms: 0,
        pass_started_ms: now_ms,
        ended_pass: None,
        skipped: HashSet::new(),
        kills_met: false,
        graves_met: false,
        notices: notices(),
    });
    if state.cursor.is_null() || (!hurry && now_ms - state.last_step_ms < SWEEP_INTERVAL_MS.get()) {
        return false;
    }
    state.last_step_ms = now_ms;
    let mut found = Found {
        library_prefix: crate::import::background::prefix(),
        ..Found::default()
    };
    let db = state.db;
    if !select_db(ctx, db) {
        // Past the last database: the pass is complete.
        state.db = 0;
        let skipped = std::mem::take(&mut state.skipped);
        state.ended_pass = Some((state.pass_started_ms, skipped));
        state.pass_started_ms = now_ms;
        if !std::mem::take(&mut state.kills_met) {
            registry::KILL_RECORDS.none_found(state.notices.0);
        }
        if !std::mem::take(&mut state.graves_met) {
            registry::GRAVEYARDS.none_found(state.notices.1);
        }
        state.notices = notices();
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
    let mut skipped = Vec::new();
    for app in &found.apps {
        registry::discover(db, app);
    }
    for app in &found.library_apps {
        crate::import::background::discover(db, app);
    }
    for name in &found.sessions {
        if let Some((app, Parsed::Session(token))) = keys::parse(config::prefix(), name) {
            if !check_orphan(&Store::new(ctx, app), app, token) {
                skipped.push((db, app.to_vec()));
            }
        }
    }
    for name in &found.users {
        if let Some((app, Parsed::UserSessions(id))) = keys::parse(config::prefix(), name) {
            if !check_index(&Store::new(ctx, app), app, id) {
                skipped.push((db, app.to_vec()));
            }
        }
    }
    state.skipped.extend(skipped);
    state.kills_met |= !found.kills.is_empty();
    state.graves_met |= found.graves;
    for app in &found.kills {
        let key = (db, app.clone());
        let Some((started, left_alone)) = &state.ended_pass else {
            break; // no complete pass yet since the module loaded
        };
        if !left_alone.contains(&key) && !state.skipped.contains(&key) {
            crate::kill_record::prune(&Store::new(ctx, app), *started);
        }
    }
    false
}

/// The registry's counts of kill records and graveyards appearing.
fn notices() -> (u64, u64) {
    (
        registry::KILL_RECORDS.notices(),
        registry::GRAVEYARDS.notices(),
    )
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
        Some((_, Parsed::UserSessions(_))) => found.users.push(name.to_vec()),
        Some((app, Parsed::Kills)) => found.kills.push(app.to_vec()),
        Some((app, Parsed::Graves)) => {
            found.graves = true;
            found.apps.push(app.to_vec())
        }
        Some((app, Parsed::Activity | Parsed::Expiry)) => found.apps.push(app.to_vec()),
        Some(_) => {}
        None => {
            let library_app = found
                .library_prefix
                .as_deref()
                .and_then(|prefix| crate::import::background::app_of_list(prefix, name));
            if let Some(app) = library_app {
                found.library_apps.push(app.to_vec());
            }
        }
    }
}

/// Deletes an expired, killed or unreadable session; re-indexes a live one
/// that its user's index lost. Returns false when it left the session alone
/// for now (a big kill of its app being freed, its slot moving).
fn check_orphan(store: &Store, app: &[u8], token: &[u8]) -> bool {
    let Ok(mut key) = store.open_session(token, true) else {
        return true; // not a hash: not the module's
    };
    if crate::graves::active(store) {
        // A big kill of the app is being freed: a hash its user's index
        // lacks may be one it killed, which it will count when it frees
        // it. The scan's next pass comes after the graveyards are gone.
        return false;
    }
    let settled = crate::cluster::settled(store.ctx(), app);
    let Some(session) = store.read(&key) else {
        // Missing a field or holding a malformed one: no command can ever
        // return it, so it is garbage (unless its slot is moving: later).
        if settled {
            store.delete(&mut key);
        }
        return settled;
    };
    if store.killed(&session) {
        // Ended by a kill that its index did not reach: gone for good,
        // whatever its user's index holds.
        if !settled {
            return false;
        }
        store.delete(&mut key);
        if let Ok(mut user) = store.open_index(&store.keys.user_sessions(&session.id), true) {
            store.index_remove(&mut user, &store.string(token));
        }
        return true;
    }
    drop(key);
    let Ok(mut user) = store.open_index(&store.keys.user_sessions(&session.id), true) else {
        return true; // the user's index name holds another type: not ours to fix
    };
    let token = store.string(token);
    if session.is_live(store.now) && user.zset_score(&token).is_some() {
        return true; // the common case: indexed, the sweeper has it
    }
    if !settled {
        return false; // its index may be on the other node of a slot migration
    }
    let Ok(mut expiry) = store.open_index(&store.keys.expiry(), true) else {
        return true;
    };
    check_session(store, &mut user, &token, session.id.as_slice());
    store.reschedule_user(&mut expiry, &user, &session.id);
    if user.kind() == Kind::ZSet {
        registry::session_expires(store.ctx(), app, session.expires_at());
    }
    true
}

/// Puts a user back into the expiry index when their index `us:<id>` is
/// there and the expiry index lost them (deleted, evicted), so that the
/// sweeper visits the index again and it leaves with its last session.
/// Returns false when it left the index alone for now.
fn check_index(store: &Store, app: &[u8], id: &[u8]) -> bool {
    if crate::args::id(id).is_err() {
        return true; // no id of this module: not its key
    }
    if crate::graves::active(store) {
        // A KILLALL's dead indexes wait for the graves' reaper.
        return false;
    }
    let Ok(user) = store.open_index(&store.keys.user_sessions(id), false) else {
        return true;
    };
    let Ok(mut expiry) = store.open_index(&store.keys.expiry(), true) else {
        return true;
    };
    let id = store.string(id);
    if user.kind() != Kind::ZSet || expiry.zset_score(&id).is_some() {
        return true;
    }
    if !crate::cluster::settled(store.ctx(), app) {
        return false;
    }
    if let Some(at) = store.reschedule_user(&mut expiry, &user, &id) {
        registry::session_expires(store.ctx(), app, at);
    }
    true
}
