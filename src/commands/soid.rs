//! `SESS.SOID app id [LIMIT count]`: the user's live sessions, most recently
//! active first, each a session map starting with its token; with LIMIT the
//! first `count` of them. Nothing is touched.
//!
//! The user's index orders tokens by expiry bound, not by activity, so every
//! session of the user is read: the work is bounded by the user's sessions,
//! never by the app's.

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::redis_key::Key;
use crate::reply::Reply;
use crate::store::{Store, StoredSession};

pub struct Soid<'a> {
    app: &'a [u8],
    id: &'a [u8],
    limit: Option<usize>,
}

impl<'a> Soid<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Soid {
            app: args::app(args[0])?,
            id: args::id(args[1])?,
            limit: args::listing_limit(&args[2..])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        // The user's sessions still in redis-sessions' keys (import/) move
        // in first, as for KILLSOID, where writing is allowed; on a replica
        // or while writes are paused they are shown where they are.
        let moved = crate::import::may_move(ctx);
        if moved {
            crate::import::take_user(&store, self.id)?;
        }
        let user = store.open_index(&store.keys.user_sessions(self.id), false)?;
        crate::cluster::need_sessions(&store, &user)?;
        let mut found = Vec::new();
        collect_live(&store, &user, self.id, i64::MIN, &mut found);
        if !moved {
            found.extend(crate::import::user_sessions(&store, self.id));
        }
        newest_first(&mut found);
        found.truncate(self.limit.unwrap_or(usize::MAX));
        let reply = Reply::new(ctx);
        reply.sessions(store.now, &found);
        Ok(reply.done())
    }
}

/// Adds to `found` the live sessions in a user's index whose last activity
/// is after `active_after`.
pub fn collect_live(
    store: &Store,
    user: &Key,
    id: &[u8],
    active_after: i64,
    found: &mut Vec<(RedisString, StoredSession)>,
) {
    if !crate::graves::index_current(store, id) {
        return; // the dead index of a KILLALL, not yet freed
    }
    for (token, _) in user.zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX) {
        let Ok(key) = store.open_session(token.as_slice(), false) else {
            continue;
        };
        if let Some(session) = store.read(&key) {
            if session.id.as_slice() == id && store.is_live(&session) && session.la > active_after {
                found.push((token, session));
            }
        }
    }
}

/// Most recently active first; ties by token so the order is stable.
pub fn newest_first(found: &mut [(RedisString, StoredSession)]) {
    found.sort_by(|(ta, a), (tb, b)| {
        b.la.cmp(&a.la)
            .then_with(|| ta.as_slice().cmp(tb.as_slice()))
    });
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 4)?;
    Soid::parse(&args)?.run(ctx)
}
