//! One bounded visit of an app: expired sessions first, then activity
//! entries past the horizon. See the module documentation for the design.

use redis_module::RedisString;

use crate::config::ACTIVITY_HORIZON;
use crate::redis_key::{Key, Kind};
use crate::registry::AppState;
use crate::stats;
use crate::store::Store;

/// Seconds between two activity-horizon passes over one app. The horizon is
/// at least a minute, so a check every ten seconds is plenty.
const HORIZON_PASS_EVERY: i64 = 10;

/// Does what is due for one app within the budget. Returns the app's new
/// state, or None when the app has neither sessions nor activity left (nor
/// graveyards still to free: `freeing`).
pub fn visit(
    store: &Store,
    mut state: AppState,
    budget: &mut usize,
    freeing: bool,
) -> Option<AppState> {
    let mut expiry = Key::open(store.ctx(), &store.keys.expiry(), true);
    if expiry.kind() == Kind::ZSet && state.next_due <= store.now {
        *budget -= sweep_due_users(store, &mut expiry, *budget);
    }
    // Next visit: when the earliest remaining bound comes (right away if the
    // budget ran out before the due users did).
    state.next_due = match expiry.zset_first() {
        Some((_, score)) => score as i64,
        None => i64::MAX,
    };
    if freeing {
        state.next_due = state.next_due.min(store.now);
    }
    if *budget > 0 && state.next_horizon_pass <= store.now {
        let Ok(mut activity) = store.open_index(&store.keys.activity(), true) else {
            return Some(state);
        };
        if activity.kind() == Kind::Empty && expiry.kind() == Kind::Empty && !freeing {
            return None;
        }
        let (used, finished) = trim_activity(store, &mut activity, &mut state, *budget);
        *budget -= used;
        state.next_horizon_pass = if finished {
            store.now + HORIZON_PASS_EVERY
        } else {
            store.now
        };
    }
    Some(state)
}

/// Handles users whose earliest possible expiry has come. Returns the number
/// of sessions (or stale entries) examined.
fn sweep_due_users(store: &Store, expiry: &mut Key, budget: usize) -> usize {
    let mut used = 0;
    for (id, _) in expiry.zset_range(f64::NEG_INFINITY, store.now as f64, budget) {
        if used == budget {
            break;
        }
        used += sweep_user(store, expiry, &id, budget - used);
    }
    used
}

/// Deletes the user's expired sessions, re-scores the live ones that were
/// checked, and updates the user's entry in the expiry index.
fn sweep_user(store: &Store, expiry: &mut Key, id: &RedisString, budget: usize) -> usize {
    let mut user = Key::open(store.ctx(), &store.keys.user_sessions(id.as_slice()), true);
    if user.kind() != Kind::ZSet {
        store.index_remove(expiry, id);
        return 1;
    }
    let mut due = user.zset_range(f64::NEG_INFINITY, store.now as f64, budget.max(1));
    if due.is_empty() {
        // Bounds no session could have (written by hand): due at once.
        due = user.zset_range(store.latest_bound().next_up(), f64::INFINITY, budget.max(1));
    }
    for (token, _) in &due {
        check_session(store, &mut user, token, id.as_slice());
    }
    store.reschedule_user(expiry, &user, id);
    due.len().max(1)
}

/// Settles one index entry: an expired or killed session is deleted with its entry, a
/// live one is re-scored to its true expiry (added if missing), and an entry
/// whose session is gone or belongs to someone else is dropped.
pub fn check_session(store: &Store, user: &mut Key, token: &RedisString, id: &[u8]) {
    let session = store
        .open_session(token.as_slice(), true)
        .ok()
        .and_then(|key| store.read(&key).map(|session| (key, session)));
    match session {
        Some((_, session)) if session.id.as_slice() == id && store.is_live(&session) => {
            store.index_set(user, token, session.expires_at());
        }
        Some((mut key, session)) if session.id.as_slice() == id => {
            store.delete(&mut key);
            store.index_remove(user, token);
            // A session a kill ended (one its index had lost) was no
            // longer alive to expire: it goes without an event.
            if !store.killed(&session) {
                stats::EXPIRED.add(1);
                store.announce(c"sess.expired", id);
            }
        }
        // Missing, not a session, or another user's: only the entry is stale.
        _ => store.index_remove(user, token),
    }
}

/// Drops activity entries older than the horizon for users without any
/// session, resuming where the last pass left off. Returns the number of
/// entries examined and whether the pass reached the end.
fn trim_activity(
    store: &Store,
    activity: &mut Key,
    state: &mut AppState,
    budget: usize,
) -> (usize, bool) {
    // Stale means a last-activity second at or before now - horizon - 1,
    // that is a score below now - horizon (scores carry a fraction).
    let newest_stale = ((store.now - ACTIVITY_HORIZON.get()) as f64).next_down();
    let entries = match &state.horizon_cursor {
        Some((score, member)) => activity.zset_range_after(*score, member, newest_stale, budget),
        None => activity.zset_range(f64::NEG_INFINITY, newest_stale, budget),
    };
    for (id, score) in &entries {
        if Key::open(store.ctx(), &store.keys.user_sessions(id.as_slice()), false).kind()
            == Kind::Empty
        {
            store.index_remove(activity, id);
        } else {
            state.horizon_cursor = Some((*score, id.as_slice().to_vec()));
        }
    }
    let finished = entries.len() < budget;
    if finished {
        state.horizon_cursor = None;
    }
    (entries.len(), finished)
}
