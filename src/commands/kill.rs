//! `SESS.KILL app token`: removes one session without touching it first.
//! Replies 1 if a live session was removed, else 0. When it was the user's
//! last session, the user leaves ACTIVITY at once.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::AppToken;
use crate::redis_key::Kind;
use crate::stats;
use crate::store::Store;

pub struct Kill<'a>(AppToken<'a>);

impl<'a> Kill<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        AppToken::parse(args).map(Kill)
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let AppToken { app, token } = self.0;
        let store = Store::new(ctx, app);
        let mut key = crate::import::open_session(&store, token)?;
        let Some(session) = store.read(&key) else {
            return Ok(RedisValue::Integer(0));
        };
        if store.killed(&session) {
            // Killed already (and counted by that kill, or freed by it).
            return Ok(RedisValue::Integer(0));
        }
        let id = session.id.as_slice();
        let mut user = store.open_index(&store.keys.user_sessions(id), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        crate::cluster::need(&store, [&user, &activity, &expiry])?;

        let live = session.is_live(store.now);
        store.delete(&mut key);
        store.index_remove(&mut user, &store.string(token));
        if user.kind() == Kind::Empty {
            store.index_remove(&mut expiry, &session.id);
            // Killing an already expired leftover is cleanup, not a logout:
            // the user keeps the activity that session earned.
            if live {
                store.index_remove(&mut activity, &session.id);
            }
        }
        if live {
            stats::KILLED.add(1);
            store.announce(c"sess.killed", id);
        }
        Ok(RedisValue::Integer(i64::from(live)))
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 2, 2)?;
    Kill::parse(&args)?.run(ctx)
}
