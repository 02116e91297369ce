//! `SESS.ROTATE app token`: gives a live session a new token (after a login
//! or a privilege change, against session fixation) and replies with it, or
//! nil when there is no live session. The old token is dead at once for
//! every command: one atomic step writes the session under the new token,
//! deletes the old key and swaps the entry in the user's index. The session
//! keeps its id, ip, counters, ttl, `no_resave` end and data; rotating counts
//! as activity (last activity now, the user's activity refreshed).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::AppToken;
use crate::registry;
use crate::stats;
use crate::store::Store;

pub struct Rotate<'a>(AppToken<'a>);

impl<'a> Rotate<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        AppToken::parse(args).map(Rotate)
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let AppToken { app, token } = self.0;
        let store = Store::new(ctx, app);
        let mut old_key = crate::import::open_session(&store, token)?;
        let Some(session) = store.read_live(&old_key) else {
            return Ok(RedisValue::Null);
        };
        let mut user = store.open_index(&store.keys.user_sessions(session.id.as_slice()), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        crate::cluster::need(&store, [&user, &activity, &expiry])?;
        let (new_token, mut new_key) = store.unused_token()?;

        // The session as a touch now leaves it: a no_resave session keeps its
        // end by carrying the seconds it has left.
        let rotated = crate::session::Session {
            la: store.now,
            ttl: session.visible_ttl(store.now),
            ..session
        };
        let new_token_string = store.string(&new_token);
        store.write_new(&mut new_key, &rotated);
        store.delete(&mut old_key);
        store.index_remove(&mut user, &store.string(token));
        store.index_set(&mut user, &new_token_string, rotated.expires_at());
        store.schedule_expiry(&mut expiry, &rotated.id, rotated.expires_at());
        registry::session_expires(ctx, app, rotated.expires_at());
        store.record_activity(&mut activity, &rotated.id);
        stats::ROTATED.add(1);
        store.announce(c"sess.rotated", rotated.id.as_slice());
        Ok(RedisValue::StringBuffer(new_token.to_vec()))
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 2, 2)?;
    Rotate::parse(&args)?.run(ctx)
}
