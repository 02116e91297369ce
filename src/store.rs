//! Reads and writes of one app's sessions and indexes, with their effects.
//!
//! Every write here goes through the native key API and is then replicated
//! as the plain command that has the same effect (HSET, ZADD, ZREM, DEL) with
//! absolute values: the generated token, the server's `now`, the computed
//! counters. Replicas and the AOF therefore hold exactly the master's data and
//! replay it without the module. Redis wraps the effects of one command in
//! MULTI/EXEC, so they apply atomically downstream too.

use std::ffi::CStr;

use redis_module::{Context, NotifyEvent, RedisError, RedisString};

use crate::clock;
use crate::config;
use crate::error::wrong_type;
use crate::keys::Keys;
use crate::redis_key::{Key, Kind};
use crate::session::{parse_int, Session, Touch};

/// Field names of the session hash, in the order CREATE writes them (the
/// order of the Node library).
pub const ID: &CStr = c"id";
pub const READS: &CStr = c"r";
pub const WRITES: &CStr = c"w";
pub const IP: &CStr = c"ip";
pub const LAST_ACTIVITY: &CStr = c"la";
pub const TTL: &CStr = c"ttl";
pub const DATA: &CStr = c"d";
pub const NO_RESAVE: &CStr = c"no_resave";

/// A session as read from its hash, with the key still open.
pub type StoredSession = Session<RedisString>;

/// What `remove_session` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Live,
    Expired,
    NotASession,
}

/// What a write does to the session's data field.
pub enum DataChange {
    Keep,
    Set(String),
    Remove,
}

/// One app's keys, seen by one command at one instant.
pub struct Store<'a> {
    ctx: &'a Context,
    pub keys: Keys<'a>,
    /// Unix seconds, read once so that every value a command writes and
    /// replicates agrees.
    pub now: i64,
}

impl<'a> Store<'a> {
    pub fn new(ctx: &'a Context, app: &'a [u8]) -> Store<'a> {
        Store {
            ctx,
            keys: Keys::new(config::prefix(), app),
            now: clock::now_seconds(),
        }
    }

    pub fn ctx(&self) -> &'a Context {
        self.ctx
    }

    // ----- opening keys ---------------------------------------------------

    /// Opens a session hash; WRONGTYPE if the name holds something else.
    pub fn open_session(&self, token: &[u8], writable: bool) -> Result<Key, RedisError> {
        self.open_typed(&self.keys.session(token), Kind::Hash, writable)
    }

    /// Opens one of the sorted-set indexes; WRONGTYPE if it is not one.
    pub fn open_index(&self, name: &[u8], writable: bool) -> Result<Key, RedisError> {
        self.open_typed(name, Kind::ZSet, writable)
    }

    fn open_typed(&self, name: &[u8], kind: Kind, writable: bool) -> Result<Key, RedisError> {
        let key = Key::open(self.ctx, name, writable);
        if key.is_empty_or(kind) {
            Ok(key)
        } else {
            Err(wrong_type())
        }
    }

    // ----- sessions -------------------------------------------------------

    /// The session in `key`, or None when the key is missing or is a hash
    /// without the fields of a session.
    pub fn read(key: &Key) -> Option<StoredSession> {
        if key.kind() != Kind::Hash {
            return None;
        }
        let int = |field| key.hash_get(field).and_then(|v| parse_int(v.as_slice()));
        Some(Session {
            id: key.hash_get(ID)?,
            r: int(READS)?,
            w: int(WRITES)?,
            ip: key.hash_get(IP)?,
            la: int(LAST_ACTIVITY)?,
            ttl: int(TTL)?,
            no_resave: key
                .hash_get(NO_RESAVE)
                .is_some_and(|v| v.as_slice() == b"1"),
            d: key.hash_get(DATA),
        })
    }

    /// Writes a new session hash.
    pub fn write_new(&self, key: &mut Key, session: &Session<&[u8]>) {
        let (r, w, la, ttl) = (
            num(session.r),
            num(session.w),
            num(session.la),
            num(session.ttl),
        );
        let mut fields: Vec<(&CStr, &[u8])> = vec![
            (ID, session.id),
            (READS, &r),
            (WRITES, &w),
            (IP, session.ip),
            (LAST_ACTIVITY, &la),
            (TTL, &ttl),
        ];
        if let Some(d) = session.d {
            fields.push((DATA, d));
        }
        if session.no_resave {
            fields.push((NO_RESAVE, b"1"));
        }
        self.hash_set(key, &fields);
    }

    /// Records a read or a write of a session: the new counter value, the
    /// new last activity (and ttl for `no_resave`), and a data change.
    pub fn write_touch(
        &self,
        key: &mut Key,
        counter: (&CStr, i64),
        touch: &Touch,
        data: DataChange,
    ) {
        let (count, la) = (num(counter.1), num(touch.la));
        let ttl = touch.ttl.map(num);
        let mut fields: Vec<(&CStr, &[u8])> = vec![(counter.0, &count), (LAST_ACTIVITY, &la)];
        if let Some(ttl) = &ttl {
            fields.push((TTL, ttl));
        }
        if let DataChange::Set(d) = &data {
            fields.push((DATA, d.as_bytes()));
        }
        self.hash_set(key, &fields);
        if let DataChange::Remove = data {
            key.hash_del(DATA);
            key.notify(NotifyEvent::HASH, c"hdel");
            self.replicate("HDEL", &[key.name().as_slice(), DATA.to_bytes()]);
        }
    }

    fn hash_set(&self, key: &mut Key, fields: &[(&CStr, &[u8])]) {
        let mut effect: Vec<&[u8]> = Vec::with_capacity(1 + fields.len() * 2);
        let name = key.name().as_slice().to_vec();
        effect.push(&name);
        for (field, value) in fields {
            key.hash_set(field, value);
            effect.push(field.to_bytes());
            effect.push(value);
        }
        key.notify(NotifyEvent::HASH, c"hset");
        self.replicate("HSET", &effect);
    }

    /// Deletes a key (a session, or a whole index).
    pub fn delete(&self, key: &mut Key) {
        if key.kind() == Kind::Empty {
            return;
        }
        key.delete();
        key.notify(NotifyEvent::GENERIC, c"del");
        self.replicate("DEL", &[key.name().as_slice()]);
    }

    /// Deletes the session `token` if its key holds a session of user `id`
    /// (a key that holds anything else is not this module's and is left
    /// alone). Tells whether a live session was removed.
    pub fn remove_session(&self, token: &[u8], id: &[u8]) -> Removal {
        let Ok(mut key) = self.open_session(token, true) else {
            return Removal::NotASession;
        };
        match Self::read(&key) {
            Some(session) if session.id.as_slice() == id => {
                self.delete(&mut key);
                if session.is_live(self.now) {
                    Removal::Live
                } else {
                    Removal::Expired
                }
            }
            _ => Removal::NotASession,
        }
    }

    // ----- indexes ----------------------------------------------------------

    /// Sets a member's score in an index.
    pub fn index_set(&self, index: &mut Key, member: &[u8], score: i64) {
        index.zset_add(score as f64, member);
        index.notify(NotifyEvent::ZSET, c"zadd");
        self.replicate("ZADD", &[index.name().as_slice(), &num(score), member]);
    }

    /// Removes a member from an index, if present.
    pub fn index_remove(&self, index: &mut Key, member: &[u8]) {
        if index.zset_rem(member) {
            index.notify(NotifyEvent::ZSET, c"zrem");
            if index.kind() == Kind::Empty {
                index.notify(NotifyEvent::GENERIC, c"del");
            }
            self.replicate("ZREM", &[index.name().as_slice(), member]);
        }
    }

    /// Marks the user active now (for ACTIVITY and SOAPP). Skipped when the
    /// score already says now, which spares a write and its replication on
    /// busy users.
    pub fn record_activity(&self, activity: &mut Key, id: &[u8]) {
        if activity.zset_score(id) != Some(self.now as f64) {
            self.index_set(activity, id, self.now);
        }
    }

    /// Lowers the user's entry in the expiry index to `expires_at` if that is
    /// earlier, so the sweeper visits the user no later than that second.
    pub fn schedule_expiry(&self, expiry: &mut Key, id: &[u8], expires_at: i64) {
        match expiry.zset_score(id) {
            Some(due) if due <= expires_at as f64 => {}
            _ => self.index_set(expiry, id, expires_at),
        }
    }

    fn replicate(&self, command: &str, args: &[&[u8]]) {
        self.ctx.replicate(command, args);
    }
}

/// Decimal text of an integer, as stored in hashes and sent to replicas.
pub fn num(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}
