//! `SESS.SET app token json`: merges `json` into the session's data (`null`
//! removes a key), counts a write and touches the session. Replies with the
//! session after the change. Being one atomic step, concurrent SETs on one
//! session never lose each other's keys.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::config::MAX_DATA_BYTES;
use crate::data::{self, Patch};
use crate::reply::{Reply, View};
use crate::stats;
use crate::store::{DataChange, Store, WRITES};

pub struct Set<'a> {
    app: &'a [u8],
    token: &'a [u8],
    patch: Patch,
}

impl<'a> Set<'a> {
    pub fn parse(args: &[&'a [u8]], max_data_bytes: usize) -> Result<Self, RedisError> {
        Ok(Set {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
            patch: data::parse_patch(args[2], max_data_bytes)?,
        })
    }

    pub fn run(self, ctx: &Context, max_data_bytes: usize) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut key = crate::import::open_session(&store, self.token)?;
        let Some(session) = store.read_live(&key) else {
            return Ok(RedisValue::Null);
        };
        let activity = store.activity_to_refresh(&session)?;
        crate::cluster::need(&store, activity.iter())?;
        let stored = session.d.as_ref().map(RedisString::as_slice);
        let new_data = data::apply(stored, self.patch, max_data_bytes)?;

        let touch = session.touch(store.now);
        let w = session.w.saturating_add(1);
        let change = match (&new_data, stored) {
            (Some(text), _) => DataChange::Set(store.string(text.as_bytes())),
            (None, Some(_)) => DataChange::Remove,
            (None, None) => DataChange::Keep,
        };
        store.write_touch(&mut key, (&WRITES, w), &touch, change);
        stats::WRITES.add(1);
        if let Some(mut activity) = activity {
            store.record_activity(&mut activity, &session.id);
        }

        let reply = Reply::new(ctx);
        let view = View {
            session: &session,
            r: session.r,
            w,
            ttl: session.visible_ttl(store.now),
            idle: 0,
            maxage: session.maxage_left(store.now),
            d: new_data.as_deref().map(str::as_bytes),
        };
        reply.session(None, &view);
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 3, 3)?;
    let max = usize::try_from(MAX_DATA_BYTES.get()).unwrap_or(usize::MAX);
    Set::parse(&args, max)?.run(ctx, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_checked_last() {
        let token = [b'a'; 64];
        let e = Set::parse(&[b"app", &token, b"[]"], 100)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "ERR invalid json: expected a JSON object");
        let e = Set::parse(&[b"app", b"short", b"[]"], 100)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("ERR invalid token"));
    }
}
