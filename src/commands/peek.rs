//! `SESS.PEEK app token`: the session exactly as SESS.GET would show it now,
//! changing nothing: no counter, no activity, no expiry slide, no write and
//! nothing replicated. Read-only, so it runs on replicas too (read scaling,
//! monitoring).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::AppToken;
use crate::redis_key::Kind;
use crate::reply::{Reply, View};
use crate::store::Store;

pub struct Peek<'a>(AppToken<'a>);

impl<'a> Peek<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        AppToken::parse(args).map(Peek)
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let AppToken { app, token } = self.0;
        let store = Store::new(ctx, app);
        let key = store.open_session(token, false)?;
        let found = match key.kind() {
            // Only the library has it (import/): shown, not moved.
            Kind::Empty => crate::import::peek(&store, token),
            _ => store.read_live(&key),
        };
        let Some(session) = found else {
            return Ok(RedisValue::Null);
        };
        let reply = Reply::new(ctx);
        reply.session(None, &View::stored(&session, store.now));
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 2, 2)?;
    Peek::parse(&args)?.run(ctx)
}
