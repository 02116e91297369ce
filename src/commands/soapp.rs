//! `SESS.SOAPP app dt [LIMIT count]`: the app's live sessions active within
//! the last `dt` seconds (idle < dt), most recently active first; with LIMIT
//! the first `count` of them. Nothing is touched.
//!
//! The activity index holds each user's latest activity, which is at least
//! the `la` of each of their sessions, so the users active in the window are
//! exactly the ones whose sessions can qualify. This avoids an app-wide index
//! of sessions (and its 64-byte token per entry).
//!
//! With LIMIT the users are visited most recent first, and the visit stops
//! as soon as `count` sessions were found that are strictly more recent than
//! any session of the users not yet visited (a user's sessions are never
//! more recent than the user's activity second). The work is then bounded by
//! `count` and the sessions of the users visited, not by the app's size.

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::commands::soid::{collect_live, newest_first};
use crate::redis_key::{Key, Kind};
use crate::reply::Reply;
use crate::store::Store;

pub struct Soapp<'a> {
    app: &'a [u8],
    dt: i64,
    limit: Option<usize>,
}

impl<'a> Soapp<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Soapp {
            app: args::app(args[0])?,
            dt: args::dt(args[1])?,
            limit: args::listing_limit(&args[2..])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        crate::cluster::settle(&store)?;
        let activity = store.open_index(&store.keys.activity(), false)?;
        let active_after = store.now - self.dt;
        let limit = self.limit.unwrap_or(usize::MAX);
        let mut found = Vec::new();
        // The `limit`-th most recent activity found so far (a lower bound of
        // it between the amortised sorts below).
        let mut kth_la = i64::MIN;
        activity.zset_visit_highest((active_after + 1) as f64, f64::INFINITY, |id, score| {
            // Users not yet visited have no session newer than this second.
            if kth_la > score.floor() as i64 {
                return false;
            }
            let user = Key::open(ctx, &store.keys.user_sessions(id.as_slice()), false);
            if user.kind() == Kind::ZSet {
                collect_live(&store, &user, id.as_slice(), active_after, &mut found);
            }
            if found.len() >= limit
                && (kth_la == i64::MIN || found.len() >= limit.saturating_mul(2))
            {
                newest_first(&mut found);
                found.truncate(limit);
                kth_la = found.last().map_or(i64::MIN, |(_, s)| s.la);
            }
            true
        });
        newest_first(&mut found);
        found.truncate(limit);
        let reply = Reply::new(ctx);
        reply.sessions(store.now, &found);
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 4)?;
    Soapp::parse(&args)?.run(ctx)
}
