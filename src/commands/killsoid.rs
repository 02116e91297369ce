//! `SESS.KILLSOID app id`: removes every session of one user ("log out
//! everywhere"). Replies with the number of live sessions removed.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::stats;
use crate::store::{Removal, Store};

pub struct KillSoid<'a> {
    app: &'a [u8],
    id: &'a [u8],
}

impl<'a> KillSoid<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(KillSoid {
            app: args::app(args[0])?,
            id: args::id(args[1])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut user = store.open_index(&store.keys.user_sessions(self.id), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        let removed = remove_user(&store, &mut user, self.id);
        let id = store.string(self.id);
        store.index_remove(&mut expiry, &id);
        store.index_remove(&mut activity, &id);
        Ok(RedisValue::Integer(removed))
    }
}

/// Deletes every session listed in a user's index, then the index itself.
/// Returns how many of them were live.
pub fn remove_user(store: &Store, user: &mut crate::redis_key::Key, id: &[u8]) -> i64 {
    let tokens = user.zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX);
    let live = tokens
        .iter()
        .filter(|(token, _)| store.remove_session(token.as_slice(), id) == Removal::Live)
        .count();
    store.delete(user);
    stats::KILLED.add(live as i64);
    live as i64
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 2)?;
    KillSoid::parse(&args)?.run(ctx)
}
