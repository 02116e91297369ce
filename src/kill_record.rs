//! Kill epochs: a kill stays final whatever happens to the indexes.
//!
//! KILLSOID and KILLALL find the sessions to remove through the indexes, but
//! an index is an ordinary key: a user may delete it, an `allkeys-*` policy
//! may evict it, a big kill leaves sessions to be freed later (graves/). A
//! session no index lists would escape the kill, and the keyspace scan would
//! put it back. So every kill also writes an epoch to the app's `_kills`
//! hash (`all` for KILLALL, `u:<id>` for KILLSOID), and every session created
//! while that hash exists carries the epoch it was created after (its
//! `epoch` field, 0 when absent). The liveness rule (`Store::is_live`) holds
//! a session dead when it is not newer than the latest kill of its app or of
//! its user, so a killed session never answers again, indexed or not.
//!
//! Epochs are milliseconds of the server's clock, forced above the latest
//! one handed out (`n`), so each kill's epoch is above every session created
//! before it, and each new session's above every kill before it.
//!
//! The hash does not grow for ever: once a full pass of the keyspace scan,
//! begun after a kill, has deleted the sessions that kill ended wherever they
//! were, its field is removed (`prune`), and the hash with its last kill.

use redis_module::RedisError;

use crate::keys::{is_kill_field, kill_of_user, KILL_OF_APP, LATEST_KILL};
use crate::redis_key::{Key, Kind};
use crate::session::{parse_int, plausible_epoch};
use crate::store::Store;

/// Fails with WRONGTYPE when `_kills` holds something else, so that a kill
/// checks it before its first write and a failing kill changes nothing.
pub fn check(store: &Store) -> Result<(), RedisError> {
    store.open_hash(&store.keys.kills(), false).map(drop)
}

/// The epoch for a session created (or moved in) now: 0 while the app has
/// no kill on record, so an app that never kills keeps its hashes as the
/// Node library wrote them.
pub fn stamp(store: &Store) -> i64 {
    if !crate::registry::KILL_RECORDS.may_exist() {
        return 0;
    }
    let kills = Key::open(store.ctx(), &store.keys.kills(), false);
    match kills.kind() {
        Kind::Hash => next_epoch(store, &kills),
        _ => 0,
    }
}

/// Records a kill of user `id`, or of the whole app with None: from now
/// on every session created before is dead. Returns the kill's epoch.
/// Call `check` first.
pub fn record(store: &Store, id: Option<&[u8]>) -> i64 {
    let Ok(mut kills) = store.open_hash(&store.keys.kills(), true) else {
        return 0;
    };
    crate::registry::KILL_RECORDS.appeared();
    let epoch = next_epoch(store, &kills);
    if id.is_none() {
        // A kill of the app ends every user's sessions: the users' own
        // epochs say nothing more.
        store.delete(&mut kills);
    }
    let field = match id {
        Some(id) => store.string(&kill_of_user(id)),
        None => store.string(KILL_OF_APP),
    };
    let epoch_text = store.int(epoch);
    store.hash_write(
        &mut kills,
        &[
            (&store.string(LATEST_KILL), &epoch_text),
            (&field, &epoch_text),
        ],
    );
    epoch
}

/// Removes the kills older than `before_ms` (the start of a full pass of
/// the keyspace scan that has ended since), and the hash when no kill is
/// left on it.
pub fn prune(store: &Store, before_ms: i64) {
    let Ok(mut kills) = store.open_hash(&store.keys.kills(), true) else {
        return;
    };
    let mut old = Vec::new();
    let mut kept = 0;
    kills.hash_scan(|field, value| {
        if !is_kill_field(field) {
            return;
        }
        match parse_int(value.bytes()) {
            Some(epoch) if epoch >= before_ms && plausible_epoch(epoch, store.now_ms) => kept += 1,
            _ => old.push(field.to_vec()),
        }
    });
    if kept == 0 {
        store.delete(&mut kills);
        return;
    }
    for field in old {
        store.hash_remove(&mut kills, &store.string(&field));
    }
}

/// Above the latest epoch handed out, and not below the clock.
fn next_epoch(store: &Store, kills: &Key) -> i64 {
    let latest = kills
        .hash_get(&store.string(LATEST_KILL))
        .and_then(|v| parse_int(v.as_slice()))
        .filter(|epoch| plausible_epoch(*epoch, store.now_ms))
        .unwrap_or(0);
    store.now_ms.max(latest + 1)
}
