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

pub mod background;
pub mod library;

use redis_module::{RedisError, RedisString};

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
        if alive(store, &session) {
            move_session(store, &library, found, token, session, &[], None)?;
        }
    }
    store.open_session(token, true)
}

/// The library's live session `token`, read without moving it (PEEK, which
/// is read-only and runs on replicas too).
pub fn peek(store: &Store, token: &[u8]) -> Option<StoredSession> {
    let library = Library::of(store)?;
    let (_, session) = library.session(token, false)?;
    alive(store, &session).then_some(session)
}

/// Whether a library session is alive: not expired, and not last active
/// before a kill of its app or user (kill_record.rs). A kill removes the
/// library sessions its indexes list; one they missed is old, and the
/// second of its last activity tells, where the module's own sessions
/// carry an epoch.
fn alive(store: &Store, session: &StoredSession) -> bool {
    let killed_at = store.kill_epoch(&session.id);
    session.is_live(store.now) && (killed_at == 0 || session.la.saturating_mul(1000) > killed_at)
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
            // A copy of a session the module already has is a leftover.
            let moved = store
                .open_session(&token, false)
                .map_or(true, |key| key.kind() != Kind::Empty);
            if moved {
                return None;
            }
            let (_, session) = library.session(&token, false)?;
            (session.id.as_slice() == id && alive(store, &session))
                .then(|| (store.string(&token), session))
        })
        .collect()
}

/// The library's users active after second `after`, most recent first,
/// with their activity second (ACTIVITY counts those the module does not,
/// SOAPP adds their library sessions).
pub fn active_users(store: &Store, after: i64) -> Vec<(RedisString, f64)> {
    Library::of(store).map_or_else(Vec::new, |library| library.active_users(after))
}

/// Whether a read-only command (SOID) may move sessions in: only where a
/// command allowed to write could: on a master, not loading, with writes
/// allowed (a write propagated while they are paused would abort the
/// server), not in a script (EVAL_RO, or a script that declared no writes)
/// and not while the server is out of memory (CREATE would be refused).
pub fn may_move(ctx: &redis_module::Context) -> bool {
    use redis_module::ContextFlags;
    let flags = ctx.get_flags();
    flags.contains(ContextFlags::MASTER)
        && !flags.contains(ContextFlags::LOADING)
        && !flags.contains(ContextFlags::LUA)
        && !flags.contains(ContextFlags::OOM)
        && !flags.contains(ContextFlags::REPLICATED)
        && !crate::server::writes_paused()
}

/// Moves every live session of user `id` in from the library and drops the
/// expired ones (KILLSOID, before it kills what the user has). Bounded by
/// the user's sessions in the library.
pub fn take_user(store: &Store, id: &[u8]) -> Result<(), RedisError> {
    let Some(library) = Library::of(store) else {
        return Ok(());
    };
    for token in library.user_tokens(id) {
        // An error (the user's index holds another type) comes before any
        // write of that session: the command fails as it would without
        // the import.
        settle(store, &library, &token, id, None)?;
    }
    Ok(())
}

/// What one `SESS.IMPORT` call did.
pub struct Batch {
    pub moved: i64,
    /// Expired or unreadable sessions removed from the library's keys, and
    /// library copies of sessions the module already had.
    pub dropped: i64,
    pub remaining: i64,
}

/// How long one `SESS.IMPORT` call may work, whatever its COUNT: other
/// clients wait meanwhile.
const BATCH_TIME_MS: i64 = 20;

/// Entries read from the library's list at a time.
const CHUNK: usize = 100;

/// Moves up to `count` of the app's sessions in from the library: the live
/// ones to the module's layout, the others dropped; stops early after
/// `BATCH_TIME_MS`. When none remain, the library's activity index of the
/// app goes too. Fails, having changed nothing, only when one of the app's
/// own indexes holds another type; an entry that cannot be moved (its
/// token or its user's index is no session's) is dropped and counted.
pub fn batch(store: &Store, library: &Library, count: usize) -> Result<Batch, RedisError> {
    for name in [
        store.keys.activity(),
        store.keys.expiry(),
        store.keys.graves(),
    ] {
        store.open_index(&name, false)?;
    }
    crate::kill_record::check(store)?;
    let mut done = Batch {
        moved: 0,
        dropped: 0,
        remaining: 0,
    };
    let mut left = count;
    let started = crate::clock::now_millis();
    while left > 0 && crate::clock::now_millis() - started < BATCH_TIME_MS {
        let entries = library.listed(left.min(CHUNK));
        if entries.is_empty() {
            break;
        }
        for entry in &entries {
            let (token, id) = (&entry.token, &entry.id);
            match settle(store, library, token, id, Some(&entry.member)) {
                Ok(Settled::Moved) => done.moved += 1,
                Ok(Settled::Dropped) => done.dropped += 1,
                Err(problem) => {
                    store.ctx().log_warning(&format!(
                        "import: dropped a session of the library that cannot be moved ({problem})"
                    ));
                    library.forget(None, token, &[id], Some(&entry.member));
                    done.dropped += 1;
                }
            }
        }
        left -= entries.len();
    }
    done.remaining = library.remaining() as i64;
    if done.remaining == 0 {
        library.forget_app();
    }
    Ok(done)
}

/// What became of one library session.
#[derive(Debug, PartialEq, Eq)]
enum Settled {
    Moved,
    /// Expired, unreadable, or a copy of a session the module already had.
    Dropped,
}

/// Removes every session of the app from the library's keys; returns how
/// many were live (KILLALL). Its work grows with the library's sessions of
/// the app: run `SESS.IMPORT` to the end first on a big app.
pub fn kill_app(store: &Store) -> i64 {
    let Some(library) = Library::of(store) else {
        return 0;
    };
    let mut live = 0;
    for entry in library.listed(usize::MAX) {
        let found = library.session(&entry.token, true);
        let mut ids = vec![entry.id.clone()];
        if let Some((_, session)) = &found {
            if alive(store, session) {
                live += 1;
                stats::KILLED.add(1);
                store.announce(c"sess.killed", &session.id);
            }
            ids.push(session.id.as_slice().to_vec());
        }
        let ids: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
        library.forget(
            found.map(|(key, _)| key),
            &entry.token,
            &ids,
            Some(&entry.member),
        );
    }
    library.forget_app();
    live
}

/// Moves the library's session `token`, listed under user `id` (as the
/// raw list entry `member`, when it came from the list), in if it is live,
/// else removes it from the library's keys. The id its hash holds is the
/// truth: a list entry under another id is stale. An error (the module's
/// keys for it hold other types) comes before any write.
fn settle(
    store: &Store,
    library: &Library,
    token: &[u8],
    id: &[u8],
    member: Option<&[u8]>,
) -> Result<Settled, RedisError> {
    match library.session(token, true) {
        Some((key, session)) if alive(store, &session) => {
            move_session(store, library, key, token, session, &[id], member)
        }
        Some((key, session)) => {
            library.forget(Some(key), token, &[id, session.id.as_slice()], member);
            Ok(Settled::Dropped)
        }
        None => {
            library.forget(None, token, &[id], member);
            Ok(Settled::Dropped)
        }
    }
}

/// Writes a live library session into the module's layout and removes it
/// from the library's keys, in this one command. Every key it writes is
/// type-checked first, so an error changes nothing.
fn move_session(
    store: &Store,
    library: &Library,
    from: Key,
    token: &[u8],
    mut session: StoredSession,
    listed_as: &[&[u8]],
    member: Option<&[u8]>,
) -> Result<Settled, RedisError> {
    let id = session.id.as_slice();
    store.open_index(&store.keys.user_sessions(id), false)?;
    store.open_index(&store.keys.activity(), false)?;
    store.open_index(&store.keys.expiry(), false)?;
    store.open_index(&store.keys.graves(), false)?;
    store.open_session(token, false)?;
    crate::graves::detach_stale_index(store, id)?;
    let mut user = store.open_index(&store.keys.user_sessions(id), true)?;
    let mut activity = store.open_index(&store.keys.activity(), true)?;
    let mut expiry = store.open_index(&store.keys.expiry(), true)?;
    let mut target = store.open_session(token, true)?;
    let moved = target.kind() == Kind::Empty;
    if moved {
        // Created here and now as far as kills are concerned: the kills
        // before it had removed every library session they reached.
        session.epoch = crate::kill_record::stamp(store);
        let token_string = store.string(token);
        store.write_new(&mut target, &session);
        store.index_set(&mut user, &token_string, session.expires_at());
        store.schedule_expiry(&mut expiry, &session.id, session.expires_at());
        crate::registry::session_expires(store.ctx(), store.keys.app(), session.expires_at());
        store.record_activity_at(&mut activity, &session.id, session.la);
        stats::IMPORTED.add(1);
    }
    // (A module session of the same token would be one moved before: the
    // library's copy is then only a leftover, dropped.)
    let mut ids = listed_as.to_vec();
    ids.push(session.id.as_slice());
    library.forget(Some(from), token, &ids, member);
    Ok(if moved {
        Settled::Moved
    } else {
        Settled::Dropped
    })
}
