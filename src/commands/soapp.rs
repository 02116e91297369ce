//! `SESS.SOAPP app dt`: the app's live sessions active within the last `dt`
//! seconds (idle < dt), most recently active first. Nothing is touched.
//!
//! The activity index holds each user's latest activity, which is at least
//! the `la` of each of their sessions, so the users active in the window are
//! exactly the ones whose sessions can qualify. This avoids an app-wide index
//! of sessions (and its 64-byte token per entry).

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::commands::soid::{collect_live, newest_first};
use crate::redis_key::Kind;
use crate::reply::Reply;
use crate::store::Store;

pub struct Soapp<'a> {
    app: &'a [u8],
    dt: i64,
}

impl<'a> Soapp<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Soapp {
            app: args::app(args[0])?,
            dt: args::dt(args[1])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        crate::cluster::settle(&store)?;
        let activity = store.open_index(&store.keys.activity(), false)?;
        let active_after = store.now - self.dt;
        let users = activity.zset_range((active_after + 1) as f64, f64::INFINITY, usize::MAX);
        let mut found = Vec::new();
        for (id, _) in &users {
            let user =
                crate::redis_key::Key::open(ctx, &store.keys.user_sessions(id.as_slice()), false);
            if user.kind() == Kind::ZSet {
                collect_live(&store, &user, id.as_slice(), active_after, &mut found);
            }
        }
        newest_first(&mut found);
        let reply = Reply::new(ctx);
        reply.sessions(store.now, &found);
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 2)?;
    Soapp::parse(&args)?.run(ctx)
}
