//! Import of redis-sessions data: sessions move from the Node library's keys
//! into the module's layout, one at a time as they are used, and the rest by
//! `SESS.IMPORT`, with nobody logged out.
//!
//! On only while `sess.import-namespace` names the library's namespace (its
//! `namespace` option, `rs` by default) and never in a cluster, which the
//! library did not support. Its keys (reference §2):
//!
//! | key                     | type | holds                                  |
//! |-------------------------|------|----------------------------------------|
//! | `<ns>:<app>:<token>`    | hash | id r w ip la ttl [d] [no_resave]: the module's own fields |
//! | `<ns>:<app>:_sessions`  | zset | `<token>:<id>` by last activity        |
//! | `<ns>:<app>:_users`     | zset | ids by last activity                   |
//! | `<ns>:<app>:us:<id>`    | set  | the user's tokens                      |
//! | `<ns>:SESSIONS`         | zset | `<app>:<token>:<id>` by expiry, all apps |
//!
//! A move is one atomic step of the command that needs it: the session is
//! written to the module's layout with the same token, counters, ip, ttl,
//! `no_resave`, data and last activity, and every trace of it leaves the
//! library's keys. A token contains no `:`, so `<token>:<id>` splits at its
//! first colon even when the id has one (the library's own split did not).

pub mod library;

use redis_module::{RedisError, RedisString};

use crate::expiry;
use crate::redis_key::{Key, Kind};
use crate::stats;
use crate::store::{Store, StoredSession};
use library::Library;

/// Opens the module's session `token` for writing, moving it in from the
/// library first when only the library has it (live).
pub fn open_session(store: &Store, token: &[u8]) -> Result<Key, RedisError> {
    let key = store.open_session(token, true)?;
    if key.kind() != Kind::Empty {
        return Ok(key);
    }
    let Some(library) = Library::of(store) else {
        return Ok(key);
    };
    drop(key);
    if let Some((found, session)) = library.session(token, true) {
        if session.is_live(store.now) {
            move_session(store, &library, found, token, session)?;
        }
    }
    store.open_session(token, true)
}

/// The library's live session `token`, read without moving it (PEEK, which
/// is read-only and runs on replicas too).
pub fn peek(store: &Store, token: &[u8]) -> Option<StoredSession> {
    let library = Library::of(store)?;
    let (_, session) = library.session(token, false)?;
    session.is_live(store.now).then_some(session)
}

/// The library's live sessions of user `id`, read without moving them
/// (SOID, read-only like PEEK).
pub fn user_sessions(store: &Store, id: &[u8]) -> Vec<(RedisString, StoredSession)> {
    let Some(library) = Library::of(store) else {
        return Vec::new();
    };
    library
        .user_tokens(id)
        .into_iter()
        .filter_map(|token| {
            let (_, session) = library.session(&token, false)?;
            (session.id.as_slice() == id && session.is_live(store.now))
                .then(|| (store.string(&token), session))
        })
        .collect()
}

/// Whether a read-only command (SOID) may move sessions in: on a master,
/// not loading, with writes allowed (a write propagated while they are
/// paused would abort the server).
pub fn may_move(ctx: &redis_module::Context) -> bool {
    use redis_module::ContextFlags;
    let flags = ctx.get_flags();
    flags.contains(ContextFlags::MASTER)
        && !flags.contains(ContextFlags::LOADING)
        && !crate::expiry::writes_paused()
}

/// Moves every live session of user `id` in from the library and drops the
/// expired ones (KILLSOID, before it kills what the user has). Bounded by
/// the user's sessions in the library.
pub fn take_user(store: &Store, id: &[u8]) -> Result<(), RedisError> {
    let Some(library) = Library::of(store) else {
        return Ok(());
    };
    for token in library.user_tokens(id) {
        settle(store, &library, &token, id)?;
    }
    Ok(())
}

/// What one `SESS.IMPORT` call did.
pub struct Batch {
    pub moved: i64,
    /// Expired or unreadable sessions removed from the library's keys.
    pub dropped: i64,
    pub remaining: i64,
}

/// Moves up to `count` of the app's sessions in from the library: the live
/// ones to the module's layout, the others dropped. When none remain, the
/// library's activity index of the app goes too.
pub fn batch(store: &Store, library: &Library, count: usize) -> Result<Batch, RedisError> {
    let mut done = Batch {
        moved: 0,
        dropped: 0,
        remaining: 0,
    };
    for (token, id) in library.listed(count) {
        if settle(store, library, &token, &id)? {
            done.moved += 1;
        } else {
            done.dropped += 1;
        }
    }
    done.remaining = library.remaining() as i64;
    if done.remaining == 0 {
        library.forget_app();
    }
    Ok(done)
}

/// Removes every session of the app from the library's keys; returns how
/// many were live (KILLALL). Its work grows with the library's sessions of
/// the app: run `SESS.IMPORT` to the end first on a big app.
pub fn kill_app(store: &Store) -> i64 {
    let Some(library) = Library::of(store) else {
        return 0;
    };
    let mut live = 0;
    for (token, id) in library.listed(usize::MAX) {
        let found = library.session(&token, true);
        if let Some((_, session)) = &found {
            if session.id.as_slice() == id.as_slice() && session.is_live(store.now) {
                live += 1;
                stats::KILLED.add(1);
                store.announce(c"sess.killed", &id);
            }
        }
        library.forget(found.map(|(key, _)| key), &token, &id);
    }
    library.forget_app();
    live
}

/// Moves the library's session `token` of user `id` in if it is live, else
/// removes it from the library's keys. Returns whether it moved.
fn settle(store: &Store, library: &Library, token: &[u8], id: &[u8]) -> Result<bool, RedisError> {
    let found = library.session(token, true);
    match found {
        Some((key, session)) if session.id.as_slice() == id && session.is_live(store.now) => {
            move_session(store, library, key, token, session)?;
            Ok(true)
        }
        other => {
            library.forget(other.map(|(key, _)| key), token, id);
            Ok(false)
        }
    }
}

/// Writes a live library session into the module's layout and removes it
/// from the library's keys, in this one command.
fn move_session(
    store: &Store,
    library: &Library,
    from: Key,
    token: &[u8],
    session: StoredSession,
) -> Result<(), RedisError> {
    let id = session.id.as_slice();
    crate::graves::detach_stale_index(store, id)?;
    let mut user = store.open_index(&store.keys.user_sessions(id), true)?;
    let mut activity = store.open_index(&store.keys.activity(), true)?;
    let mut expiry = store.open_index(&store.keys.expiry(), true)?;
    let mut target = store.open_session(token, true)?;
    if target.kind() == Kind::Empty {
        let token_string = store.string(token);
        store.write_new(&mut target, &session);
        store.index_set(&mut user, &token_string, session.expires_at());
        store.schedule_expiry(&mut expiry, &session.id, session.expires_at());
        expiry::session_expires(store.ctx(), store.keys.app(), session.expires_at());
        store.record_activity_at(&mut activity, &session.id, session.la);
        stats::IMPORTED.add(1);
    }
    // (A module session of the same token would be one moved before: the
    // library's copy is then only a leftover.)
    library.forget(Some(from), token, id);
    Ok(())
}
