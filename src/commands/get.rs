//! `SESS.GET app token`: the session, with the counters as stored before this
//! read; then the read is recorded (`r` + 1, `la` = now, activity refreshed).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::reply::{Reply, View};
use crate::store::{DataChange, Store, READS};

pub struct Get<'a> {
    app: &'a [u8],
    token: &'a [u8],
}

impl<'a> Get<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Get {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut key = store.open_session(self.token, true)?;
        let Some(session) = store.read(&key).filter(|s| s.is_live(store.now)) else {
            return Ok(RedisValue::Null);
        };
        let activity = store.activity_to_refresh(&session)?;

        let reply = Reply::new(ctx);
        reply.session(None, &View::stored(&session, store.now));
        let touch = session.touch(store.now);
        store.write_touch(
            &mut key,
            (&READS, session.r.saturating_add(1)),
            &touch,
            DataChange::Keep,
        );
        if let Some(mut activity) = activity {
            store.record_activity(&mut activity, &session.id);
        }
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 2, 2)?;
    Get::parse(&args)?.run(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_app_before_token() {
        let token = [b'a'; 64];
        assert!(Get::parse(&[b"ok_app", &token]).is_ok());
        let e = Get::parse(&[b"x", b"bad"]).err().unwrap().to_string();
        assert!(e.starts_with("ERR invalid app"), "{e}");
        let e = Get::parse(&[b"app", b"bad"]).err().unwrap().to_string();
        assert!(e.starts_with("ERR invalid token"), "{e}");
    }
}
