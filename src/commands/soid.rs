//! `SESS.SOID app id [LIMIT count] [JSON]`: the user's live sessions, most
//! recently active first, each a session map starting with its token (with
//! JSON, one JSON text each); with LIMIT the first `count` of them. Nothing
//! is touched.
//!
//! The user's index orders tokens by expiry bound, not by activity, so every
//! session of the user is read: the work is bounded by the user's sessions,
//! never by the app's, and a user with many sessions is read in steps
//! (listing/), the server serving others meanwhile.

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::listing::{self, Scope};
use crate::reply::Format;
use crate::store::Store;

pub struct Soid<'a> {
    app: &'a [u8],
    id: &'a [u8],
    limit: Option<usize>,
    format: Format,
}

impl<'a> Soid<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        let (limit, format) = args::listing_options(&args[2..])?;
        Ok(Soid {
            app: args::app(args[0])?,
            id: args::id(args[1])?,
            limit,
            format,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        // The user's sessions still in redis-sessions' keys (import/) move
        // in first, as for KILLSOID, where writing is allowed; on a replica
        // or while writes are paused they are shown where they are.
        let moved = crate::import::may_move(ctx);
        if moved {
            crate::import::take_user(&store, self.id)?;
        }
        let user = store.open_index(&store.keys.user_sessions(self.id), false)?;
        crate::cluster::need_sessions(&store, &user)?;
        drop(user);
        let scope = Scope::User(self.id.to_vec());
        listing::run(ctx, &store, scope, self.limit, self.format, !moved)
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 5)?;
    Soid::parse(&args)?.run(ctx)
}
