//! `SESS.KILL app token`: removes one session without touching it first.
//! Replies 1 if a live session was removed, else 0. When it was the user's
//! last session, the user leaves ACTIVITY at once.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::redis_key::Kind;
use crate::store::Store;

pub struct Kill<'a> {
    app: &'a [u8],
    token: &'a [u8],
}

impl<'a> Kill<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Kill {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut key = store.open_session(self.token, true)?;
        let Some(session) = store.read(&key) else {
            return Ok(RedisValue::Integer(0));
        };
        let id = session.id.as_slice();
        let mut user = store.open_index(&store.keys.user_sessions(id), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;

        let live = session.is_live(store.now);
        store.delete(&mut key);
        store.index_remove(&mut user, &store.string(self.token));
        if user.kind() == Kind::Empty {
            store.index_remove(&mut expiry, &session.id);
            // Killing an already expired leftover is cleanup, not a logout:
            // the user keeps the activity that session earned.
            if live {
                store.index_remove(&mut activity, &session.id);
            }
        }
        Ok(RedisValue::Integer(i64::from(live)))
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 2)?;
    Kill::parse(&args)?.run(ctx)
}
