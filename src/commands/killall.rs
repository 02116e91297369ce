//! `SESS.KILLALL app`: removes every session of the app and its activity
//! index. Replies with the number of live sessions removed. Runs in time
//! proportional to the app's sessions, like DEL of a large key.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::commands::killsoid::remove_user;
use crate::redis_key::Kind;
use crate::store::Store;

pub struct KillAll<'a> {
    app: &'a [u8],
}

impl<'a> KillAll<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(KillAll {
            app: args::app(args[0])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        crate::cluster::settle(&store)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        // Every user with a session is in the expiry index.
        let users = expiry.zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX);
        let mut removed = 0;
        for (id, _) in &users {
            let id = id.as_slice();
            // A wrong-typed key under the user prefix is not ours; skip it
            // rather than fail halfway through.
            let mut user = crate::redis_key::Key::open(ctx, &store.keys.user_sessions(id), true);
            if user.kind() == Kind::ZSet {
                removed += remove_user(&store, &mut user, id, None);
            }
        }
        store.delete(&mut expiry);
        store.delete(&mut activity);
        Ok(RedisValue::Integer(removed))
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 1, 1)?;
    KillAll::parse(&args)?.run(ctx)
}
