//! Big kills in constant time: graveyards freed in bounded steps.
//!
//! KILLALL of a million sessions, or KILLSOID of a user with 100,000, would
//! hold the server for seconds if it deleted every session hash in one
//! command. Instead such a kill takes the sessions' index out of the way in
//! one step and leaves the hashes to the sweeper:
//!
//! - KILLSOID renames the user's index `us:<id>` to a graveyard key and takes
//!   the user out of `_expiry` and `_users`;
//! - KILLALL renames `_expiry` (the list of every user with sessions) to a
//!   graveyard key and unlinks `_users` (freed by a background thread);
//! - either lists the graveyard in `_graves`, scored with the second of the
//!   kill, and the caller's client waits (blocked, the server serving
//!   everyone else) until the sweeper has freed the graveyard; its reply is
//!   the number of sessions that were live at the kill, as before.
//!
//! The kill is atomic for every other command through one rule, applied
//! only while `_graves` exists (one failed key lookup otherwise): a session
//! is alive only if its user is listed in `_expiry` and its token in the
//! user's current `us:<id>`. A killed session fails it at once, whatever its
//! hash still says, and its hash no longer changes until it is freed. A user
//! who signs in again after KILLALL gets a fresh index: CREATE moves the old
//! one to a graveyard of its own first (`detach_stale_index`).
//!
//! Kills of up to `DIRECT_KILL` sessions, and every kill inside MULTI or a
//! script (which cannot wait), still delete everything in the command, with
//! the same effects as ever.

pub mod reaper;
pub mod waiting;

use redis_module::{Context, RedisError, RedisString};

use crate::error::internal;
use crate::redis_key::{Key, Kind};
use crate::store::Store;

/// Kills of at most this many sessions run in the command itself (about a
/// millisecond of work); bigger ones go through a graveyard.
pub const DIRECT_KILL: usize = 1000;

/// The kind of graveyard, from its member name in `_graves`.
#[derive(Debug, PartialEq, Eq)]
pub enum Grave<'m> {
    /// A renamed `_expiry`: user ids whose indexes died with a KILLALL.
    App,
    /// A renamed `us:<id>`: the tokens of one user.
    User(&'m [u8]),
}

/// Reads a member of `_graves`: `a:<unique>` or `u:<unique>:<id>`.
pub fn parse_member(member: &[u8]) -> Option<Grave<'_>> {
    let (kind, rest) = (member.first()?, member.get(1..)?.strip_prefix(b":")?);
    match kind {
        b'a' => Some(Grave::App),
        b'u' => {
            let colon = rest.iter().position(|b| *b == b':')?;
            Some(Grave::User(&rest[colon + 1..]))
        }
        _ => None,
    }
}

/// A new member name: the kind, a unique part, and for a user grave the id.
fn new_member(kind: u8, id: Option<&[u8]>) -> Vec<u8> {
    let unique = crate::token::generate();
    let mut member = vec![kind, b':'];
    member.extend_from_slice(&unique[..16]);
    if let Some(id) = id {
        member.push(b':');
        member.extend_from_slice(id);
    }
    member
}

/// Whether the app has kills still being freed, so the rule above applies.
pub fn active(store: &Store) -> bool {
    crate::registry::GRAVEYARDS.may_exist()
        && Key::open(store.ctx(), &store.keys.graves(), false).kind() == Kind::ZSet
}

/// Whether the user's index `us:<id>` holds their current sessions (and not
/// the dead ones of a KILLALL, waiting to be freed).
pub fn index_current(store: &Store, id: &[u8]) -> bool {
    !active(store) || listed(store, &store.string(id))
}

fn listed(store: &Store, id: &RedisString) -> bool {
    let expiry = Key::open(store.ctx(), &store.keys.expiry(), false);
    expiry.zset_score(id).is_some()
}

/// Whether the calling client may wait for a big kill: not inside MULTI, a
/// script or anything else that forbids blocking.
pub fn can_wait(ctx: &Context) -> bool {
    use redis_module::ContextFlags;
    let flags = ctx.get_flags();
    !(flags.contains(ContextFlags::MULTI)
        || flags.contains(ContextFlags::LUA)
        || flags.contains(ContextFlags::DENY_BLOCKING)
        || flags.contains(ContextFlags::REPLICATED)
        || flags.contains(ContextFlags::LOADING))
}

/// Moves the index `from` to a new graveyard listed in `_graves` with
/// `killed_at`; returns the graveyard's member name. Every key handle on
/// `from` must be closed: the value changes name under it.
pub fn bury(
    store: &Store,
    from: &[u8],
    id: Option<&[u8]>,
    killed_at: i64,
) -> Result<Vec<u8>, RedisError> {
    // Type-checked before the first write, so that a failing kill changes
    // nothing.
    let graves = store.open_index(&store.keys.graves(), false)?;
    drop(graves);
    let member = new_member(if id.is_some() { b'u' } else { b'a' }, id);
    let to = store.keys.grave(&member);
    rename(store, from, &to)?;
    crate::registry::GRAVEYARDS.appeared();
    let mut graves = store.open_index(&store.keys.graves(), true)?;
    store.index_set(&mut graves, &store.string(&member), killed_at);
    Ok(member)
}

/// RENAME through the command itself: the key API has no rename, and a
/// rename moves the value whatever its size in constant time. Replicated as
/// the same RENAME.
fn rename(store: &Store, from: &[u8], to: &[u8]) -> Result<(), RedisError> {
    let names = [store.string(from), store.string(to)];
    let reply = crate::redis_call::run(store.ctx(), c"RENAME", &[&names[0], &names[1]]).map_err(|e| {
        internal(&format!(
            "a kill of this size moves the index with RENAME, which failed (renamed or disabled by rename-command?): {e}"
        ))
    })?;
    if reply.is_error() {
        return Err(internal("RENAME of an index to its graveyard failed"));
    }
    store.replicate(c"RENAME", &[names[0].inner, names[1].inner]);
    Ok(())
}

/// CREATE for a user whom `_expiry` does not list while kills are being
/// freed: an index left under their name belongs to a KILLALL, so it moves
/// to a graveyard of its own (counted with that kill) before the new
/// session goes into a fresh one. Call with no handle open on the index.
pub fn detach_stale_index(store: &Store, id: &[u8]) -> Result<(), RedisError> {
    if !active(store) {
        return Ok(());
    }
    let name = store.keys.user_sessions(id);
    if Key::open(store.ctx(), &name, false).kind() != Kind::ZSet || listed(store, &store.string(id))
    {
        return Ok(());
    }
    crate::cluster::settle(store)?;
    // The KILLALL that killed the index: the latest app graveyard listing
    // the user.
    let graves = store.open_index(&store.keys.graves(), false)?;
    let id_string = store.string(id);
    let mut parent = None;
    graves.zset_visit_highest(f64::NEG_INFINITY, f64::INFINITY, |member, score| {
        if parse_member(member.as_slice()) != Some(Grave::App) {
            return true;
        }
        let grave = Key::open(store.ctx(), &store.keys.grave(member.as_slice()), false);
        if grave.zset_score(&id_string).is_some() {
            parent = Some((member, score as i64));
            return false;
        }
        true
    });
    drop(graves);
    // Without a parent the index was orphaned some other way; its sessions
    // died with the rule above all the same.
    let killed_at = parent.as_ref().map_or(store.now, |(_, at)| *at);
    let member = bury(store, &name, Some(id), killed_at)?;
    if let Some((parent, _)) = parent {
        waiting::adopt(store, &member, parent.as_slice());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_name_their_kind() {
        assert_eq!(parse_member(b"a:0123456789abcdef"), Some(Grave::App));
        assert_eq!(
            parse_member(b"u:0123456789abcdef:bob:x"),
            Some(Grave::User(b"bob:x"))
        );
        assert_eq!(parse_member(b"u:0123"), None);
        assert_eq!(parse_member(b"x:1"), None);
        assert_eq!(parse_member(b""), None);
        let made = new_member(b'u', Some(b"a:b"));
        assert_eq!(parse_member(&made), Some(Grave::User(b"a:b")));
        assert_eq!(parse_member(&new_member(b'a', None)), Some(Grave::App));
    }
}
