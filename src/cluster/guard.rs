//! Whether a command may act here while its app's slot might be moving.
//!
//! A command that finds every key it needs on this node may run here in any
//! state of the slot: those keys have not left (migrating) or have already
//! arrived (importing). A missing key is the only doubt: in a settled slot
//! it simply does not exist yet, but during a migration it may be on the
//! other node, and acting here would answer wrongly or create a key that a
//! later `MIGRATE` collides with. Redis's own routing knows which: an
//! `RM_Call` of a command on keys of the slot is refused exactly when a
//! client's would be redirected (ASK, MOVED or TRYAGAIN), and the module's
//! call carries the client's ASKING flag. So the doubt costs one `RM_Call`,
//! and only when a key is missing in cluster mode.

use redis_module::{Context, RedisError};

use crate::error::internal;
use crate::redis_key::{Key, Kind};
use crate::redis_string::from_bytes;
use crate::store::Store;

/// Fails with TRYAGAIN when one of `keys` is missing here and the app's slot
/// is not settled on this node.
pub fn need<'k>(store: &Store, keys: impl IntoIterator<Item = &'k Key>) -> Result<(), RedisError> {
    if !super::enabled() || keys.into_iter().all(|key| key.kind() != Kind::Empty) {
        return Ok(());
    }
    settle(store)
}

/// Like `need` for the session hashes listed in a user's index (SOID,
/// KILLSOID, MAXSESSIONS): an entry whose hash is missing here may be a live
/// session on the other node. Every entry counts, even one whose expiry
/// bound has passed: bounds are lower bounds, and the sweeper, which keeps
/// them fresh, leaves an app alone while its slot moves.
pub fn need_sessions(store: &Store, user: &Key) -> Result<(), RedisError> {
    if !super::enabled() || user.kind() != Kind::ZSet {
        return Ok(());
    }
    let listed = user.zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX);
    let all_here = listed.iter().all(|(token, _)| {
        Key::open(store.ctx(), &store.keys.session(token.as_slice()), false).kind() != Kind::Empty
    });
    if all_here {
        Ok(())
    } else {
        settle(store)
    }
}

/// Fails with TRYAGAIN unless the app's slot is settled here; for commands
/// that touch every key of the app (KILLALL, SOAPP).
pub fn settle(store: &Store) -> Result<(), RedisError> {
    if !super::enabled() {
        return Ok(());
    }
    match routed_here(store.ctx(), store.keys.app()) {
        Routed::Here => Ok(()),
        Routed::Elsewhere => Err(RedisError::String(format!(
            "TRYAGAIN the keys of app '{}' are being migrated between nodes, try again",
            String::from_utf8_lossy(store.keys.app())
        ))),
        Routed::Unknown(detail) => Err(internal(&format!(
            "in a cluster the module needs the EXISTS command to check slot migrations, which failed (renamed or disabled by rename-command?): {detail}"
        ))),
    }
}

/// For the sweeper: whether the app's slot is owned here and settled (no
/// legacy or atomic migration), so that it may delete and re-index.
pub fn settled(ctx: &Context, app: &[u8]) -> bool {
    !super::enabled()
        || (!super::atomic_migration::in_progress(ctx, app)
            && matches!(routed_here(ctx, app), Routed::Here))
}

enum Routed {
    Here,
    Elsewhere,
    Unknown(String),
}

/// Asks Redis whether a command on two keys of the app's slot that exist
/// nowhere would run here. Missing keys are what decides during a
/// migration: the migrating node sends them on with ASK, the importing node
/// answers TRYAGAIN for two of them, even after ASKING; a node that does not
/// own the slot answers MOVED. A settled slot runs them.
fn routed_here(ctx: &Context, app: &[u8]) -> Routed {
    let keys = crate::keys::Keys::new(crate::config::prefix(), app);
    // NUL bytes: no token, id or index name of the layout ends this way.
    let probes = [
        from_bytes(ctx.get_raw(), &keys.probe(b"\0slot-probe-1")),
        from_bytes(ctx.get_raw(), &keys.probe(b"\0slot-probe-2")),
    ];
    let error = match crate::redis_call::run(ctx, c"EXISTS", &[&probes[0], &probes[1]]) {
        Ok(_) => return Routed::Here,
        Err(error) => error,
    };
    match error.raw_os_error() {
        // Redirected (EPERM, "Attempted to access a non local key"), or the
        // cluster is down (ENETDOWN, EROFS): not a time to touch the slot.
        Some(code) if code == EPERM || code == ENETDOWN || code == EROFS => Routed::Elsewhere,
        _ => Routed::Unknown(error.to_string()),
    }
}

// errno values of Linux, the only platform Redis modules are built for here.
const EPERM: i32 = 1;
const EROFS: i32 = 30;
const ENETDOWN: i32 = 100;
