//! `SESS.GET app token [JSON]`: the session (with JSON as one JSON text), with the counters as stored before this
//! read; then the read is recorded (`r` + 1, `la` = now, activity refreshed).

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::AppToken;
use crate::cluster;
use crate::reply::{Format, Reply, View};
use crate::stats;
use crate::store::{DataChange, Store, READS};

pub struct Get<'a>(AppToken<'a>, Format);

impl<'a> Get<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Get(
            AppToken::parse(args)?,
            crate::args::format_word(&args[2..])?,
        ))
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let (AppToken { app, token }, format) = (self.0, self.1);
        let store = Store::new(ctx, app);
        let mut key = crate::import::open_session(&store, token)?;
        let Some(session) = store.read_live(&key) else {
            stats::READ_MISSES.add(1);
            return Ok(RedisValue::Null);
        };
        stats::READS.add(1);
        let activity = store.activity_to_refresh(&session)?;
        cluster::need(&store, activity.iter())?;

        let reply = Reply::new(ctx);
        reply.session(format, None, &View::stored(&session, store.now));
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
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 2, 3)?;
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
