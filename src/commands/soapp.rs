//! `SESS.SOAPP app dt [LIMIT count]`: the app's live sessions active within
//! the last `dt` seconds (idle < dt), most recently active first; with LIMIT
//! the first `count` of them. Nothing is touched.
//!
//! The activity index holds each user's latest activity, which is at least
//! the `la` of each of their sessions, so the users active in the window are
//! exactly the ones whose sessions can qualify. This avoids an app-wide index
//! of sessions (and its 64-byte token per entry).
//!
//! Order: most recent activity first; sessions active in the same second
//! come by their users' activity order (the order of the activity index),
//! then by token. With LIMIT the users are visited in that order and the
//! visit stops as soon as `count` sessions were found that come before any
//! session of the users not yet visited (a user's sessions are never more
//! recent than the user's activity second). The work is then bounded by
//! `count` and the sessions of the users visited, not by the app's size,
//! even when the whole app was active in the same second.
//!
//! While `sess.import-namespace` is set, the sessions still in the Node
//! library's keys come too, found the same way through the library's
//! activity index (shown where they are, as PEEK does).

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::commands::soid::collect_live;
use crate::redis_key::{Key, Kind};
use crate::reply::Reply;
use crate::store::{Store, StoredSession};

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
        let mut found: Vec<Found> = Vec::new();
        // The `limit`-th entry found so far (an entry at or before the true
        // one between the amortised sorts below).
        let mut kth: Option<(i64, f64)> = None;
        let mut sessions = Vec::new();
        // Visits one user (with their activity score) in the order of an
        // activity index; false once no later user can qualify.
        let mut visit = |score: f64, sessions: &mut Vec<_>| {
            // Users not yet visited have no session newer than this second,
            // and within it they come after the users visited (lower score).
            if kth.is_some_and(|(la, user_score)| {
                la > score.floor() as i64 || (la == score.floor() as i64 && user_score > score)
            }) {
                return false;
            }
            found.extend(sessions.drain(..).map(|entry| (score, entry)));
            if found.len() >= limit && (kth.is_none() || found.len() >= limit.saturating_mul(2)) {
                most_recent_first(&mut found);
                found.truncate(limit);
                kth = found.last().map(|(score, (_, s))| (s.la, *score));
            }
            true
        };
        activity.zset_visit_highest((active_after + 1) as f64, f64::INFINITY, |id, score| {
            let user = Key::open(ctx, &store.keys.user_sessions(id.as_slice()), false);
            if user.kind() == Kind::ZSet {
                collect_live(&store, &user, id.as_slice(), active_after, &mut sessions);
            }
            visit(score, &mut sessions)
        });
        for (id, score) in crate::import::active_users(&store, active_after) {
            sessions.extend(
                crate::import::user_sessions(&store, id.as_slice())
                    .into_iter()
                    .filter(|(_, s)| s.la > active_after),
            );
            if !visit(score, &mut sessions) {
                break;
            }
        }
        most_recent_first(&mut found);
        found.truncate(limit);
        let found: Vec<_> = found.into_iter().map(|(_, entry)| entry).collect();
        let reply = Reply::new(ctx);
        reply.sessions(store.now, &found);
        Ok(reply.done())
    }
}

/// A session found, with its user's activity score.
type Found = (f64, (RedisString, StoredSession));

/// Most recent activity first; within one second the more recently active
/// user first (the walk's order), then by token.
fn most_recent_first(found: &mut [Found]) {
    found.sort_by(|(score_a, (ta, a)), (score_b, (tb, b))| {
        b.la.cmp(&a.la)
            .then_with(|| score_b.total_cmp(score_a))
            .then_with(|| ta.as_slice().cmp(tb.as_slice()))
    });
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 4)?;
    Soapp::parse(&args)?.run(ctx)
}
