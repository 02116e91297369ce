//! `SESS.PEEK app token [JSON]`: the session exactly as SESS.GET would show it now,
//! changing nothing: no counter, no activity, no expiry slide, no write and
//! nothing replicated. Read-only, so it runs on replicas too (read scaling,
//! monitoring).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::AppToken;
use crate::redis_key::Kind;
use crate::reply::{Format, Reply, View};
use crate::store::Store;

pub struct Peek<'a>(AppToken<'a>, Format);

impl<'a> Peek<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Peek(
            AppToken::parse(args)?,
            crate::args::format_word(&args[2..])?,
        ))
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let (AppToken { app, token }, format) = (self.0, self.1);
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
        reply.session(format, None, &View::stored(&session, store.now));
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 2, 3)?;
    Peek::parse(&args)?.run(ctx)
}
