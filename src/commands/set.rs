//! `SESS.SET app token json [TTL ttl] [JSON]`: merges `json` into the
//! session's data (`null` removes a key), counts a write and touches the
//! session; with TTL it also gets a new idle ttl. Replies with the session
//! after the change. Being one atomic step, concurrent SETs on one session
//! never lose each other's keys.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::config::MAX_DATA_BYTES;
use crate::data::{self, Patch};
use crate::error::syntax;
use crate::reply::{Format, Reply, View};
use crate::stats;
use crate::store::{DataChange, Store, WRITES};

pub struct Set<'a> {
    app: &'a [u8],
    token: &'a [u8],
    patch: Patch,
    ttl: Option<i64>,
    format: Format,
}

impl<'a> Set<'a> {
    /// The options after the json come in any order, each at most once.
    pub fn parse(args: &[&'a [u8]], max_data_bytes: usize) -> Result<Self, RedisError> {
        let mut set = Set {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
            patch: data::parse_patch(args[2], max_data_bytes)?,
            ttl: None,
            format: Format::Map,
        };
        let mut options = args[3..].iter();
        while let Some(option) = options.next() {
            if option.eq_ignore_ascii_case(b"TTL") && set.ttl.is_none() {
                set.ttl = Some(args::ttl(options.next().ok_or_else(syntax)?)?);
            } else if option.eq_ignore_ascii_case(b"JSON") && set.format == Format::Map {
                set.format = Format::Json;
            } else {
                return Err(syntax());
            }
        }
        Ok(set)
    }

    pub fn run(self, ctx: &Context, max_data_bytes: usize) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut key = crate::import::open_session(&store, self.token)?;
        let Some(session) = store.read_live(&key) else {
            return Ok(RedisValue::Null);
        };
        let activity = store.activity_to_refresh(&session)?;
        crate::cluster::need(&store, activity.iter())?;
        // A new ttl may bring the expiry forward: both bounds are checked
        // before the first write.
        let bounds = match self.ttl {
            Some(_) => {
                let user =
                    store.open_index(&store.keys.user_sessions(session.id.as_slice()), true)?;
                let expiry = store.open_index(&store.keys.expiry(), true)?;
                crate::cluster::need(&store, [&user, &expiry])?;
                Some((user, expiry))
            }
            None => None,
        };
        let stored = session.d.as_ref().map(RedisString::as_slice);
        let new_data = data::apply(stored, self.patch, max_data_bytes)?;

        let touch = match self.ttl {
            Some(ttl) => session.touch_with_ttl(store.now, ttl),
            None => session.touch(store.now),
        };
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
        let mut after = session;
        after.apply(&touch);
        if let Some((mut user, mut expiry)) = bounds {
            let expires_at = after.expires_at();
            let token = store.string(self.token);
            store.expire_sooner((&mut user, &mut expiry), &token, &after.id, expires_at);
            crate::registry::session_expires(ctx, self.app, expires_at);
        }

        let reply = Reply::new(ctx);
        let view = View {
            session: &after,
            r: after.r,
            w,
            ttl: after.visible_ttl(store.now),
            idle: 0,
            maxage: after.maxage_left(store.now),
            d: new_data.as_deref().map(str::as_bytes),
        };
        reply.session(self.format, None, &view);
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 3, 6)?;
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

    #[test]
    fn options_in_any_order_once_each() {
        let token = [b'a'; 64];
        let set = Set::parse(&[b"app", &token, b"{\"a\":1}", b"json", b"ttl", b"60"], 100).unwrap();
        assert_eq!((set.ttl, set.format), (Some(60), Format::Json));
        for bad in [
            &[&b"JSON"[..], b"JSON"][..],
            &[b"TTL", b"60", b"TTL", b"60"],
            &[b"TTL"],
            &[b"EX", b"60"],
        ] {
            let mut args: Vec<&[u8]> = vec![b"app", &token, b"{\"a\":1}"];
            args.extend_from_slice(bad);
            let e = Set::parse(&args, 100).err().unwrap().to_string();
            assert_eq!(e, "ERR syntax error", "{bad:?}");
        }
        let e = Set::parse(&[b"app", &token, b"{\"a\":1}", b"TTL", b"5"], 100);
        assert!(e.err().unwrap().to_string().starts_with("ERR invalid ttl"));
    }
}
