//! `SESS.KILLSOID app id [EXCEPT token]`: removes every session of one user
//! ("log out everywhere"), or with EXCEPT every session but the one the user
//! is using ("log out the other devices"). Replies with the number of live
//! sessions removed. The user leaves ACTIVITY unless a session remains.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args;
use crate::error::syntax;
use crate::graves;
use crate::kill_record;
use crate::redis_key::{Key, Kind};
use crate::store::Store;

pub struct KillSoid<'a> {
    app: &'a [u8],
    id: &'a [u8],
    except: Option<&'a [u8]>,
}

impl<'a> KillSoid<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        let app = args::app(args[0])?;
        let id = args::id(args[1])?;
        let except = match &args[2..] {
            [] => None,
            [option, token] if option.eq_ignore_ascii_case(b"EXCEPT") => Some(args::token(token)?),
            _ => return Err(syntax()),
        };
        Ok(KillSoid { app, id, except })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        let store = Store::new(ctx, self.app);
        kill_record::check(&store)?;
        crate::import::take_user(&store, self.id)?;
        if !graves::index_current(&store, self.id) {
            // A dead index a KILLALL left to be freed: nothing live in it,
            // but a session its index lost may be alive somewhere.
            crate::cluster::settle(&store)?;
            kill_record::record(&store, Some(self.id));
            return Ok(RedisValue::Integer(0));
        }
        let mut user = store.open_index(&store.keys.user_sessions(self.id), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        // The kill record is written too: created here while the slot moves,
        // it would collide with the one already moved (MIGRATE: BUSYKEY).
        let kills = crate::redis_key::Key::open(ctx, &store.keys.kills(), false);
        crate::cluster::need(&store, [&user, &activity, &expiry, &kills])?;
        drop(kills);
        let id = store.string(self.id);
        // Kept only when it is a live session of this very user.
        let keep = self.except.filter(|token| {
            store
                .open_session(token, false)
                .ok()
                .and_then(|key| store.read_live(&key))
                .is_some_and(|s| s.id.as_slice() == self.id)
        });
        if user.size() > graves::DIRECT_KILL && graves::can_wait(ctx) {
            let keep = keep.and_then(|token| Some((token, user.zset_score(&store.string(token))?)));
            drop(user);
            return self.bury(&store, keep, &mut activity, &mut expiry);
        }
        crate::cluster::need_sessions(&store, &user)?;
        self.record(&store, keep);
        let removed = store.remove_user(&mut user, self.id, keep);
        if user.kind() == Kind::Empty {
            store.index_remove(&mut expiry, &id);
            store.index_remove(&mut activity, &id);
        } else {
            store.reschedule_user(&mut expiry, &user, &id);
        }
        Ok(RedisValue::Integer(removed))
    }

    /// Makes the kill final for every session of the user created before
    /// now, listed or not (kill_record.rs); the one kept is marked newer.
    /// After every check that may fail, so that a failing kill changes
    /// nothing.
    fn record(&self, store: &Store, keep: Option<&[u8]>) {
        let epoch = kill_record::record(store, Some(self.id));
        if let Some(token) = keep {
            if let Ok(mut kept) = store.open_session(token, true) {
                store.spare(&mut kept, epoch);
            }
        }
    }

    /// The kill of a big index: moved to a graveyard in one step, the kept
    /// session put back in a fresh index, and the client answered once the
    /// sweeper has freed the rest (graves/).
    fn bury(
        &self,
        store: &Store,
        keep: Option<(&[u8], f64)>,
        activity: &mut Key,
        expiry: &mut Key,
    ) -> RedisResult {
        crate::cluster::settle(store)?;
        let name = store.keys.user_sessions(self.id);
        let member = graves::bury(store, &name, Some(self.id), store.now)?;
        self.record(store, keep.map(|(token, _)| token));
        let id = store.string(self.id);
        match keep {
            Some((token, bound)) => {
                let token = store.string(token);
                let mut grave = Key::open(store.ctx(), &store.keys.grave(&member), true);
                store.index_remove(&mut grave, &token);
                let mut user = Key::open(store.ctx(), &name, true);
                store.index_set(&mut user, &token, bound as i64);
                store.reschedule_user(expiry, &user, &id);
            }
            None => {
                store.index_remove(expiry, &id);
                store.index_remove(activity, &id);
            }
        }
        graves::waiting::wait(store, &member);
        Ok(RedisValue::NoReply)
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    super::redact(ctx, &args, &[4]);
    let args = super::arguments(&args, 2, 4)?;
    KillSoid::parse(&args)?.run(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn except_takes_one_token() {
        let token = [b'a'; 64];
        let parsed = KillSoid::parse(&[b"app", b"u", b"except", &token]).unwrap();
        assert_eq!(parsed.except, Some(&token[..]));
        for bad in [
            &[&b"app"[..], b"u", b"EXCEPT"][..],
            &[b"app", b"u", b"KEEP", &token],
        ] {
            assert_eq!(
                KillSoid::parse(bad).err().unwrap().to_string(),
                "ERR syntax error"
            );
        }
        let e = KillSoid::parse(&[b"app", b"u", b"EXCEPT", b"short"])
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("ERR invalid token"));
    }
}
