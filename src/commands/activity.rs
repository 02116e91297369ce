//! `SESS.ACTIVITY app dt`: how many distinct users were active within the
//! last `dt` seconds. A user stays counted for `dt` after their last activity
//! even if their sessions expired meanwhile; a user whose sessions were all
//! killed is not counted.
//!
//! While `sess.import-namespace` is set, the users that only the Node
//! library's activity index lists as active (sessions not yet moved) count
//! too, each user once: the answer the library would give, plus the moved
//! sessions' users. That walks the library's users active in the window.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::error::internal;
use crate::redis_key::Key;
use crate::store::Store;

pub struct Activity<'a> {
    app: &'a [u8],
    dt: i64,
}

impl<'a> Activity<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Activity {
            app: args::app(args[0])?,
            dt: args::dt(args[1])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let name = store.keys.activity();
        // Opened only to check its type; the count itself is ZCOUNT, which
        // Redis answers in O(log n) from the skiplist's spans, something the
        // module key API has no call for.
        store.open_index(&name, false)?;
        // Activity scores carry a per-user fraction; the second they fall in is
        // what counts: active within dt means floor(score) > now - dt.
        let min = format!("{}", store.now - self.dt + 1);
        // An operator may have renamed or disabled ZCOUNT (rename-command):
        // then this fails loudly rather than answering a wrong count.
        let counted = match ctx.call("ZCOUNT", &[&name[..], min.as_bytes(), b"+inf"][..]) {
            Ok(RedisValue::Integer(n)) => n,
            Ok(other) => return Err(zcount_failed(&format!("{other:?}"))),
            Err(e) => return Err(zcount_failed(&e.to_string())),
        };
        let after = store.now - self.dt;
        let activity = Key::open(ctx, &name, false);
        let in_window = |id: &RedisString| {
            activity
                .zset_score(id)
                .is_some_and(|score| score.floor() as i64 > after)
        };
        let library_only = crate::import::active_users(&store, after)
            .iter()
            .filter(|(id, _)| !in_window(id))
            .count() as i64;
        Ok(RedisValue::Integer(counted + library_only))
    }
}

fn zcount_failed(detail: &str) -> RedisError {
    internal(&format!(
        "SESS.ACTIVITY needs the ZCOUNT command, which failed (renamed or disabled by rename-command?): {detail}"
    ))
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 2)?;
    Activity::parse(&args)?.run(ctx)
}
