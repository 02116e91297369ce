//! `SESS.ASSIGN app token id [MAXSESSIONS n]`: gives a live session to user `id` (a login or
//! a logout that keeps the session, so that no request in flight finds it
//! gone). In one step its `id` changes, it leaves the old user's index and
//! joins the new user's, and it counts as the new user's activity. The old
//! user leaves ACTIVITY when no session of theirs remains, as after a KILL.
//! Replies 1, or 0 when there is no live session. Assigning the id the
//! session already has is a plain touch. MAXSESSIONS caps the new user's
//! live sessions as CREATE's does, never removing the session assigned.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::redis_key::Kind;
use crate::registry;
use crate::store::Store;

pub struct Assign<'a> {
    app: &'a [u8],
    token: &'a [u8],
    id: &'a [u8],
    max_sessions: Option<usize>,
}

impl<'a> Assign<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(Assign {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
            id: args::id(args[2])?,
            max_sessions: match &args[3..] {
                [] => None,
                [option, n] if option.eq_ignore_ascii_case(b"MAXSESSIONS") => {
                    Some(args::max_sessions(n)?)
                }
                _ => return Err(crate::error::syntax()),
            },
        })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let mut key = crate::import::open_session(&store, self.token)?;
        let Some(session) = store.read_live(&key) else {
            return Ok(RedisValue::Integer(0));
        };
        let touch = session.touch(store.now);
        if session.id.as_slice() == self.id {
            let mut activity = store.open_index(&store.keys.activity(), true)?;
            let mut user = store.open_index(&store.keys.user_sessions(self.id), true)?;
            crate::cluster::need(&store, [&activity])?;
            if self.max_sessions.is_some() {
                crate::cluster::need_sessions(&store, &user)?;
            }
            store.write_assign(&mut key, None, &touch, None);
            store.record_activity(&mut activity, &session.id);
            if let Some(max) = self.max_sessions {
                let token = store.string(self.token);
                super::create::evict_beyond(&store, &mut user, self.id, &token, max);
            }
            return Ok(RedisValue::Integer(1));
        }
        // Only now that it moves a session: an index left under the new
        // user's name by a KILLALL being freed goes to its graveyard.
        crate::graves::detach_stale_index(&store, self.id)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let old_id = session.id.as_slice();
        let mut old_user = store.open_index(&store.keys.user_sessions(old_id), true)?;
        let mut new_user = store.open_index(&store.keys.user_sessions(self.id), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        let new_is_unknown =
            new_user.kind() == Kind::Empty && expiry.zset_score(&store.string(self.id)).is_none();
        let needed = [&old_user, &activity, &expiry].into_iter();
        crate::cluster::need(&store, needed.chain((!new_is_unknown).then_some(&new_user)))?;
        if self.max_sessions.is_some() {
            crate::cluster::need_sessions(&store, &new_user)?;
        }

        let id = store.string(self.id);
        let token = store.string(self.token);
        let epoch = Some(crate::kill_record::stamp(&store)).filter(|&epoch| epoch > 0);
        store.write_assign(&mut key, Some(&id), &touch, epoch);
        store.index_remove(&mut old_user, &token);
        if old_user.kind() == Kind::Empty {
            store.index_remove(&mut expiry, &session.id);
            store.index_remove(&mut activity, &session.id);
        }
        let mut moved = session;
        moved.apply(&touch);
        let expires_at = moved.expires_at();
        store.index_set(&mut new_user, &token, expires_at);
        store.schedule_expiry(&mut expiry, &id, expires_at);
        registry::session_expires(ctx, self.app, expires_at);
        store.record_activity(&mut activity, &id);
        store.announce(c"sess.assigned", self.id);
        if let Some(max) = self.max_sessions {
            super::create::evict_beyond(&store, &mut new_user, self.id, &token, max);
        }
        Ok(RedisValue::Integer(1))
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[2]);
    let args = super::arguments(&args, 3, 5)?;
    Assign::parse(&args)?.run(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_app_token_then_id() {
        let token = [b'a'; 64];
        assert!(Assign::parse(&[b"app", &token, b"bob"]).is_ok());
        for (args, name) in [
            ([&b"x"[..], b"bad", b""], "app"),
            ([b"app", b"bad", b""], "token"),
            ([b"app", &token, b""], "id"),
            ([b"app", &token, b"a\nb"], "id"),
        ] {
            let e = Assign::parse(&args).err().unwrap().to_string();
            assert!(e.starts_with(&format!("ERR invalid {name}")), "{e}");
        }
    }
}
