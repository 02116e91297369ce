//! `SESS.KILLALL app`: removes every session of the app and its activity
//! index. Replies with the number of live sessions removed. An app of more
//! than `graves::DIRECT_KILL` sessions is killed in constant time and freed
//! in bounded steps, the client waiting for the count (graves/).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::graves;
use crate::kill_record;
use crate::redis_key::{Key, Kind};
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
        kill_record::check(&store)?;
        store.open_index(&store.keys.activity(), false)?;
        let expiry = store.open_index(&store.keys.expiry(), false)?;
        if more_than_direct(&store, &expiry) && graves::can_wait(ctx) {
            drop(expiry);
            let member = graves::bury(&store, &store.keys.expiry(), None, store.now)?;
            // The library's sessions are counted live by the kills before
            // this one, so before it is recorded.
            let library = crate::import::kill_app(&store);
            kill_record::record(&store, None);
            // (Opened after the library's removal, which may write to it.)
            let mut activity = store.open_index(&store.keys.activity(), true)?;
            store.unlink(&mut activity);
            graves::waiting::wait(&store, &member);
            graves::waiting::count(&store, &member, library);
            return Ok(RedisValue::NoReply);
        }
        drop(expiry);
        let mut removed = crate::import::kill_app(&store);
        // (Opened after the library's removal, which may write to them.)
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        // Final for every session of the app created before now, whether
        // an index still lists it or not (kill_record.rs).
        kill_record::record(&store, None);
        // Every user with a session is in the expiry index.
        let users = expiry.zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX);
        for (id, _) in &users {
            let id = id.as_slice();
            // A wrong-typed key under the user prefix is not ours; skip it
            // rather than fail halfway through.
            let mut user = Key::open(ctx, &store.keys.user_sessions(id), true);
            if user.kind() == Kind::ZSet {
                removed += store.remove_user(&mut user, id, None);
            }
        }
        store.delete(&mut expiry);
        store.delete(&mut activity);
        Ok(RedisValue::Integer(removed))
    }
}

/// Whether the app's users have more sessions than a kill deletes in the
/// command itself; looks at no more users than that.
fn more_than_direct(store: &Store, expiry: &Key) -> bool {
    let mut sessions = 0;
    for (id, _) in expiry.zset_range(f64::NEG_INFINITY, f64::INFINITY, graves::DIRECT_KILL + 1) {
        sessions += Key::open(store.ctx(), &store.keys.user_sessions(id.as_slice()), false).size();
        if sessions > graves::DIRECT_KILL {
            return true;
        }
    }
    false
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 1, 1)?;
    KillAll::parse(&args)?.run(ctx)
}
