//! `SESS.SOAPP app dt [LIMIT count] [JSON]`: the app's live sessions active within
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
//! even when the whole app was active in the same second. A listing that
//! takes longer than a few milliseconds (a user with 100,000 sessions in the
//! window) goes on in steps (listing/), the server serving others meanwhile.
//!
//! While `sess.import-namespace` is set, the sessions still in the Node
//! library's keys come too, found the same way through the library's
//! activity index (shown where they are, as PEEK does).

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::listing::{self, Scope};
use crate::reply::Format;
use crate::store::Store;

pub struct Soapp<'a> {
    app: &'a [u8],
    dt: i64,
    limit: Option<usize>,
    format: Format,
}

impl<'a> Soapp<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        let (limit, format) = args::listing_options(&args[2..])?;
        Ok(Soapp {
            app: args::app(args[0])?,
            dt: args::dt(args[1])?,
            limit,
            format,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        crate::cluster::settle(&store)?;
        store.open_index(&store.keys.activity(), false)?;
        let scope = Scope::App {
            active_after: store.now - self.dt,
        };
        listing::run(ctx, &store, scope, self.limit, self.format, true)
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 5)?;
    Soapp::parse(&args)?.run(ctx)
}
