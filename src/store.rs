//! Reads and writes of one app's sessions and indexes, with their effects.
//!
//! Every write here goes through the native key API and is then replicated
//! as the plain command that has the same effect (HSET, HDEL, ZADD, ZREM,
//! DEL) with absolute values: the generated token, the server's `now`, the
//! computed counters. Replicas and the AOF therefore hold exactly the
//! master's data and replay it without the module. Redis wraps the effects of
//! one command in MULTI/EXEC, so they apply atomically downstream too.

use std::cell::OnceCell;
use std::ffi::CStr;
use std::marker::PhantomData;

use redis_module::{raw, Context, NotifyEvent, RedisError, RedisString};

use crate::activity_score::activity_score;
use crate::api::call;
use crate::args::TOKEN_LEN;
use crate::clock;
use crate::config;
use crate::error::{internal, wrong_type};
use crate::inline_vec::InlineVec;
use crate::keys::Keys;
use crate::redis_key::{Key, Kind, ScoreMove};
use crate::redis_string::{from_bytes, from_int, AsRedisString, StaticString};
use crate::session::{parse_int, plausible_epoch, Session, Touch};
use crate::stats;
use crate::token;

/// Field names of the session hash, in the order CREATE writes them (the
/// order of the Node library).
pub static ID: StaticString = StaticString::new(c"id");
pub static READS: StaticString = StaticString::new(c"r");
pub static WRITES: StaticString = StaticString::new(c"w");
pub static IP: StaticString = StaticString::new(c"ip");
pub static LAST_ACTIVITY: StaticString = StaticString::new(c"la");
pub static TTL: StaticString = StaticString::new(c"ttl");
pub static DATA: StaticString = StaticString::new(c"d");
pub static NO_RESAVE: StaticString = StaticString::new(c"no_resave");
/// Only in sessions created with MAXAGE: the last second they may live.
pub static MAXAGE_AT: StaticString = StaticString::new(c"maxage_at");
/// Only in sessions created while their app had kills on record: the kill
/// epoch they were created after (kill_record.rs).
pub static EPOCH: StaticString = StaticString::new(c"epoch");
static ONE: StaticString = StaticString::new(c"1");

/// A session as read from its hash.
pub type StoredSession = Session<RedisString>;

/// What a write does to the session's data field.
pub enum DataChange {
    Keep,
    Set(RedisString),
    Remove,
}

/// The fields of a session hash as a scan meets them.
#[derive(Default)]
struct FoundFields {
    id: Option<RedisString>,
    r: Option<i64>,
    w: Option<i64>,
    ip: Option<RedisString>,
    la: Option<i64>,
    ttl: Option<i64>,
    no_resave: bool,
    /// None: no such field; Some(None): a field that is not an integer.
    maxage_at: Option<Option<i64>>,
    epoch: Option<Option<i64>>,
    d: Option<RedisString>,
}

/// What `remove_session` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Live,
    Expired,
    NotASession,
}

/// One app's keys, seen by one command at one instant.
pub struct Store<'a> {
    ctx: &'a Context,
    pub keys: Keys<'a>,
    /// Unix seconds, read once so that every value a command writes and
    /// replicates agrees.
    pub now: i64,
    /// The same instant in milliseconds: kill epochs are made of it.
    pub now_ms: i64,
    now_text: OnceCell<RedisString>,
}

impl<'a> Store<'a> {
    pub fn new(ctx: &'a Context, app: &'a [u8]) -> Store<'a> {
        let now_ms = clock::now_millis();
        Store {
            ctx,
            keys: Keys::new(config::prefix(), app),
            now: now_ms.div_euclid(1000),
            now_ms,
            now_text: OnceCell::new(),
        }
    }

    pub fn ctx(&self) -> &'a Context {
        self.ctx
    }

    /// A Redis string holding `bytes`, to be used as a member or value.
    pub fn string(&self, bytes: &[u8]) -> RedisString {
        from_bytes(self.ctx.get_raw(), bytes)
    }

    pub fn int(&self, n: i64) -> RedisString {
        from_int(self.ctx.get_raw(), n)
    }

    /// `now` as a Redis string, made once per command.
    fn now_text(&self) -> &RedisString {
        self.now_text.get_or_init(|| self.int(self.now))
    }

    // ----- opening keys ---------------------------------------------------

    /// Opens a session hash; WRONGTYPE if the name holds something else.
    /// A token that breaks the token rule (one read from an index or from
    /// another program's keys) is refused before it names any key: `_users`
    /// or `us:bob` would name one of the indexes.
    pub fn open_session(&self, token: &[u8], writable: bool) -> Result<Key, RedisError> {
        crate::args::token(token)?;
        self.open_typed(&self.keys.session(token), Kind::Hash, writable)
    }

    /// Opens one of the sorted-set indexes; WRONGTYPE if it is not one.
    pub fn open_index(&self, name: &[u8], writable: bool) -> Result<Key, RedisError> {
        self.open_typed(name, Kind::ZSet, writable)
    }

    /// Opens a hash that is no session (`_kills`); WRONGTYPE if it is not.
    pub fn open_hash(&self, name: &[u8], writable: bool) -> Result<Key, RedisError> {
        self.open_typed(name, Kind::Hash, writable)
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
    pub fn read(&self, key: &Key) -> Option<StoredSession> {
        self.read_with(key, parse_int)
    }

    /// `read` for a hash the Node library wrote: it stored a fractional
    /// ttl as given (`3600.5`), which counts here as the next whole second.
    pub fn read_library(&self, key: &Key) -> Option<StoredSession> {
        // It had no upper bound either: a ttl beyond the module's longest
        // (a year) is cut to it, never immortal.
        self.read_with(key, |raw| {
            parse_int(raw)
                .or_else(|| {
                    let ttl: f64 = std::str::from_utf8(raw).ok()?.parse().ok()?;
                    (ttl.is_finite() && ttl >= 0.0 && ttl <= i64::MAX as f64)
                        .then(|| ttl.ceil() as i64)
                })
                .map(|ttl| ttl.min(crate::args::MAX_SECONDS))
        })
    }

    fn read_with(&self, key: &Key, parse_ttl: fn(&[u8]) -> Option<i64>) -> Option<StoredSession> {
        let found = if crate::hash_layout::expect_dictionary() {
            self.look_up_fields(key, parse_ttl)
        } else {
            self.scan_fields(key, parse_ttl)
        };
        let longest = [&found.id, &found.ip, &found.d]
            .iter()
            .filter_map(|v| v.as_ref().map(|v| v.as_slice().len()))
            .max()
            .unwrap_or(0);
        crate::hash_layout::note_read(longest);
        // A last activity before 1970 is no time this module (or the
        // library) ever wrote: unreadable, not live for ever.
        let la = found.la.filter(|la| *la >= 0)?;
        Some(Session {
            id: found.id?,
            r: found.r?,
            w: found.w?,
            ip: found.ip?,
            la,
            ttl: found.ttl?,
            no_resave: found.no_resave,
            // A malformed deadline makes the hash unreadable, never immortal.
            maxage_at: match found.maxage_at {
                None => None,
                Some(end) => Some(end?),
            },
            d: found.d,
            epoch: match found.epoch {
                None => 0,
                Some(epoch) => epoch?,
            },
        })
    }

    /// A session's fields by one pass over the hash (cheaper on a listpack,
    /// see hash_layout.rs).
    fn scan_fields(&self, key: &Key, parse_ttl: fn(&[u8]) -> Option<i64>) -> FoundFields {
        let mut found = FoundFields::default();
        key.hash_scan(|field, value| {
            let int = || parse_int(value.bytes());
            match field {
                f if f == ID.bytes() => found.id = Some(value.keep(self.ctx)),
                f if f == READS.bytes() => found.r = int(),
                f if f == WRITES.bytes() => found.w = int(),
                f if f == IP.bytes() => found.ip = Some(value.keep(self.ctx)),
                f if f == LAST_ACTIVITY.bytes() => found.la = int(),
                f if f == TTL.bytes() => found.ttl = parse_ttl(value.bytes()),
                f if f == NO_RESAVE.bytes() => found.no_resave = value.bytes() == ONE.bytes(),
                f if f == MAXAGE_AT.bytes() => found.maxage_at = Some(int()),
                f if f == EPOCH.bytes() => found.epoch = Some(int()),
                f if f == DATA.bytes() => found.d = Some(value.keep(self.ctx)),
                _ => {}
            }
        });
        found
    }

    /// A session's fields by a lookup each (cheaper on a dictionary).
    fn look_up_fields(&self, key: &Key, parse_ttl: fn(&[u8]) -> Option<i64>) -> FoundFields {
        let [id, r, w, ip, la, ttl, no_resave, maxage_at, epoch, d] = key.hash_get_ten([
            ID.redis_string(),
            READS.redis_string(),
            WRITES.redis_string(),
            IP.redis_string(),
            LAST_ACTIVITY.redis_string(),
            TTL.redis_string(),
            NO_RESAVE.redis_string(),
            MAXAGE_AT.redis_string(),
            EPOCH.redis_string(),
            DATA.redis_string(),
        ]);
        let int = |v: Option<RedisString>| v.and_then(|v| parse_int(v.as_slice()));
        FoundFields {
            id,
            r: int(r),
            w: int(w),
            ip,
            la: int(la),
            ttl: ttl.and_then(|v| parse_ttl(v.as_slice())),
            no_resave: no_resave.is_some_and(|v| v.as_slice() == ONE.bytes()),
            maxage_at: maxage_at.map(|v| parse_int(v.as_slice())),
            epoch: epoch.map(|v| parse_int(v.as_slice())),
            d,
        }
    }

    /// The session in `key` if it is live: not expired, and not killed.
    pub fn read_live(&self, key: &Key) -> Option<StoredSession> {
        self.read(key).filter(|s| self.is_live(s))
    }

    /// The liveness rule, the same for every command and background task:
    /// not expired, and created after the last kill of its app and of its
    /// user. The kill epochs (kill_record.rs) reach the sessions no index
    /// lists any more (an index deleted or evicted), and those a big kill
    /// leaves to be freed (graves/).
    pub fn is_live(&self, session: &StoredSession) -> bool {
        session.is_live(self.now) && !self.killed(session)
    }

    /// Whether a kill on record ended the session (it may not be expired).
    pub fn killed(&self, session: &StoredSession) -> bool {
        session.killed_by(self.kill_epoch(&session.id))
    }

    /// The epoch of the latest kill of the app or of user `id` on record,
    /// 0 for none. One failed lookup for an app that never had a kill.
    pub fn kill_epoch(&self, id: &[u8]) -> i64 {
        if !crate::registry::KILL_RECORDS.may_exist() {
            return 0;
        }
        let kills = Key::open(self.ctx, &self.keys.kills(), false);
        if kills.kind() != Kind::Hash {
            return 0;
        }
        let user_field = crate::keys::kill_of_user(id);
        kills
            .hash_get_two(crate::keys::KILL_OF_APP, &user_field)
            .iter()
            .flatten()
            .filter_map(|v| parse_int(v.as_slice()))
            .filter(|epoch| plausible_epoch(*epoch, self.now_ms))
            .max()
            .unwrap_or(0)
    }

    /// Writes a new session hash: a created one (its `la` is now) or an
    /// imported one (its `la` kept).
    pub fn write_new(&self, key: &mut Key, session: &StoredSession) {
        // Every string outlives the replication below, which takes their
        // pointers.
        let (r, w, ttl) = (
            self.int(session.r),
            self.int(session.w),
            self.int(session.ttl),
        );
        let la_then;
        let la = if session.la == self.now {
            self.now_text()
        } else {
            la_then = self.int(session.la);
            &la_then
        };
        let maxage_at = session.maxage_at.map(|end| self.int(end));
        let epoch = (session.epoch > 0).then(|| self.int(session.epoch));
        let mut effect = Effect::new(key);
        effect.set(&ID, &session.id);
        effect.set(&READS, &r);
        effect.set(&WRITES, &w);
        effect.set(&IP, &session.ip);
        effect.set(&LAST_ACTIVITY, la);
        effect.set(&TTL, &ttl);
        if let Some(d) = &session.d {
            effect.set(&DATA, d);
        }
        if session.no_resave {
            effect.set(&NO_RESAVE, &ONE);
        }
        if let Some(end) = &maxage_at {
            effect.set(&MAXAGE_AT, end);
        }
        if let Some(epoch) = &epoch {
            effect.set(&EPOCH, epoch);
        }
        self.write_effect(key, &effect);
    }

    /// Records a read or a write of a session: the new counter value, the
    /// new last activity (and ttl for `no_resave`), and a data change.
    pub fn write_touch(
        &self,
        key: &mut Key,
        counter: (&StaticString, i64),
        touch: &Touch,
        data: DataChange,
    ) {
        let count = self.int(counter.1);
        let ttl = touch.ttl.map(|ttl| self.int(ttl));
        let mut effect = Effect::new(key);
        effect.set(counter.0, &count);
        if touch.la.is_some() {
            effect.set(&LAST_ACTIVITY, self.now_text());
        }
        if let Some(ttl) = &ttl {
            effect.set(&TTL, ttl);
        }
        if let DataChange::Set(d) = &data {
            effect.set(&DATA, d);
        }
        self.write_effect(key, &effect);
        if let DataChange::Remove = data {
            key.hash_del(&DATA);
            key.notify(NotifyEvent::HASH, c"hdel");
            self.replicate(c"HDEL", &[key.name().inner, DATA.redis_string()]);
        }
    }

    /// Writes what SESS.ASSIGN changes in a session hash: its user (when it
    /// moves to another), the touch, and a new kill epoch (when the app has
    /// kills on record, so that an earlier kill of the new user does not end
    /// the session it now holds).
    pub fn write_assign(
        &self,
        key: &mut Key,
        id: Option<&RedisString>,
        touch: &Touch,
        epoch: Option<i64>,
    ) {
        let ttl = touch.ttl.map(|ttl| self.int(ttl));
        let epoch = epoch.map(|epoch| self.int(epoch));
        let mut effect = Effect::new(key);
        if let Some(id) = id {
            effect.set(&ID, id);
        }
        if touch.la.is_some() {
            effect.set(&LAST_ACTIVITY, self.now_text());
        }
        if let Some(ttl) = &ttl {
            effect.set(&TTL, ttl);
        }
        if let Some(epoch) = &epoch {
            effect.set(&EPOCH, epoch);
        }
        if effect.args().len() > 1 {
            self.write_effect(key, &effect);
        }
    }

    /// Marks a session as created after the kill of epoch `killed_at` (the
    /// one KILLSOID EXCEPT spares).
    pub fn spare(&self, key: &mut Key, killed_at: i64) {
        let epoch = self.int(killed_at.saturating_add(1));
        self.hash_write(key, &[(&self.string(EPOCH.bytes()), &epoch)]);
    }

    /// Sets fields of a hash (not a session: see `write_new`), replicated
    /// as one HSET.
    pub fn hash_write(&self, key: &mut Key, fields: &[(&RedisString, &RedisString)]) {
        let mut effect = Effect::new(key);
        for (field, value) in fields {
            effect.set(*field, *value);
        }
        self.write_effect(key, &effect);
    }

    /// Removes one field of a hash, replicated as HDEL.
    pub fn hash_remove(&self, key: &mut Key, field: &RedisString) {
        if key.kind() != Kind::Hash {
            return;
        }
        key.hash_del(field);
        key.notify(NotifyEvent::HASH, c"hdel");
        if key.kind() == Kind::Empty {
            key.notify(NotifyEvent::GENERIC, c"del");
        }
        self.replicate(c"HDEL", &[key.name().inner, field.inner]);
    }

    /// A fresh token and its session key, opened for writing. With 381
    /// random bits a second draw is already beyond belief; the bound only
    /// guarantees the loop ends.
    pub fn unused_token(&self) -> Result<([u8; TOKEN_LEN], Key), RedisError> {
        for _ in 0..8 {
            let token = token::generate();
            let key = Key::open(self.ctx, &self.keys.session(&token), true);
            if key.kind() == Kind::Empty {
                return Ok((token, key));
            }
        }
        Err(internal("could not draw an unused session token"))
    }

    /// Deletes a key (a session, or a whole index).
    pub fn delete(&self, key: &mut Key) {
        self.remove_key(key, false);
    }

    /// Unlinks a key: deleted now, its memory freed by a background thread
    /// when it is large (a whole index).
    pub fn unlink(&self, key: &mut Key) {
        self.remove_key(key, true);
    }

    fn remove_key(&self, key: &mut Key, unlink: bool) {
        if key.kind() == Kind::Empty {
            return;
        }
        if unlink {
            key.unlink();
        } else {
            key.delete();
        }
        key.notify(NotifyEvent::GENERIC, c"del");
        let command = if unlink { c"UNLINK" } else { c"DEL" };
        self.replicate(command, &[key.name().inner]);
    }

    /// Deletes the session `token` if its key holds a session of user `id`
    /// (a key that holds anything else is not this module's and is left
    /// alone). Tells whether a live session was removed.
    pub fn remove_session(&self, token: &[u8], id: &[u8]) -> Removal {
        self.remove_session_at(token, id, self.now)
    }

    /// `remove_session`, telling whether the session was live at second
    /// `at` (the moment of a kill whose graveyard is freed later).
    pub fn remove_session_at(&self, token: &[u8], id: &[u8], at: i64) -> Removal {
        self.remove_session_if(token, id, at, |_| true)
    }

    /// `remove_session_at` for a kill: a session newer than every kill on
    /// record is not one the kill ended, and stays. A big kill's index may
    /// still list a token that a session created since holds (SESS.CREATE
    /// ... TOKEN: a store derives the same token from the same cookie).
    /// Such a session carries a kill epoch (every session created while the
    /// app has kills on record does); one without is older than any kill
    /// and goes, even when its app's record was lost.
    fn remove_killed_session(&self, token: &[u8], id: &[u8], at: i64) -> Removal {
        self.remove_session_if(token, id, at, |session| {
            session.epoch == 0 || !self.is_live(session)
        })
    }

    fn remove_session_if(
        &self,
        token: &[u8],
        id: &[u8],
        at: i64,
        ended: impl FnOnce(&StoredSession) -> bool,
    ) -> Removal {
        let Ok(mut key) = self.open_session(token, true) else {
            return Removal::NotASession;
        };
        match self.read(&key) {
            Some(session) if session.id.as_slice() == id && ended(&session) => {
                self.delete(&mut key);
                if session.is_live(at) {
                    Removal::Live
                } else {
                    Removal::Expired
                }
            }
            _ => Removal::NotASession,
        }
    }

    /// Deletes every session listed in a user's index but `keep`, then the
    /// index itself (or, keeping one, the other entries). Returns how many of
    /// them were live.
    pub fn remove_user(&self, user: &mut Key, id: &[u8], keep: Option<&[u8]>) -> i64 {
        let tokens: Vec<_> = user
            .zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX)
            .into_iter()
            .filter(|(t, _)| Some(t.as_slice()) != keep)
            .collect();
        self.remove_listed(user, &tokens, id, self.now, keep.is_none())
    }

    /// Deletes the sessions `tokens` of user `id` listed in `index` (a hash
    /// holding anything else is not ours and stays), and their entries: the
    /// whole index with `whole_index`, else entry by entry. Returns how many
    /// were live at second `at` (now, or the moment of a big kill freed later,
    /// graves/); each is announced `sess.killed` and counted.
    pub fn remove_listed(
        &self,
        index: &mut Key,
        tokens: &[(RedisString, f64)],
        id: &[u8],
        at: i64,
        whole_index: bool,
    ) -> i64 {
        let mut live = 0;
        for (token, _) in tokens {
            if self.remove_killed_session(token.as_slice(), id, at) == Removal::Live {
                live += 1;
                self.announce(c"sess.killed", id);
            }
            if !whole_index {
                self.index_remove(index, token);
            }
        }
        if whole_index {
            self.delete(index);
        }
        stats::KILLED.add(live);
        live
    }

    // ----- indexes ----------------------------------------------------------

    /// Sets a member's score in an index; replicated only if it changed.
    pub fn index_set(&self, index: &mut Key, member: &RedisString, score: i64) {
        self.index_write(index, member, score as f64, ScoreMove::Any, || {
            self.int(score)
        });
    }

    /// Writes a member's score, and only if it changed, announces and
    /// replicates it (`text` makes the score's exact text for replicas).
    fn index_write(
        &self,
        index: &mut Key,
        member: &RedisString,
        score: f64,
        when: ScoreMove,
        text: impl FnOnce() -> RedisString,
    ) {
        if index.zset_add(score, member, when) {
            let text = text();
            index.notify(NotifyEvent::ZSET, c"zadd");
            self.replicate(c"ZADD", &[index.name().inner, text.inner, member.inner]);
        }
    }

    /// Removes a member from an index, if present.
    pub fn index_remove(&self, index: &mut Key, member: &RedisString) {
        if index.zset_rem(member) {
            index.notify(NotifyEvent::ZSET, c"zrem");
            if index.kind() == Kind::Empty {
                index.notify(NotifyEvent::GENERIC, c"del");
            }
            self.replicate(c"ZREM", &[index.name().inner, member.inner]);
        }
    }

    /// The activity index, opened (and type-checked) only when touching
    /// `session` must refresh it.
    pub fn activity_to_refresh(&self, session: &StoredSession) -> Result<Option<Key>, RedisError> {
        if session.refreshes_activity(self.now) {
            self.open_index(&self.keys.activity(), true).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Marks the user active now (for ACTIVITY and SOAPP). The score never
    /// moves back, and a second touch within the same second finds the same
    /// score: nothing is written or replicated then (see activity_score.rs).
    pub fn record_activity(&self, activity: &mut Key, id: &RedisString) {
        self.record_activity_at(activity, id, self.now);
    }

    /// Marks the user active at `second` unless they were active later.
    pub fn record_activity_at(&self, activity: &mut Key, id: &RedisString, second: i64) {
        let (score, text) = activity_score(second, id.as_slice());
        self.index_write(activity, id, score, ScoreMove::Up, || {
            self.string(text().as_bytes())
        });
    }

    /// Puts the user in the expiry index at the earliest bound of their
    /// sessions, or takes them out when they have none left. Returns the
    /// second it scheduled.
    pub fn reschedule_user(&self, expiry: &mut Key, user: &Key, id: &RedisString) -> Option<i64> {
        match user.zset_first() {
            None => {
                self.index_remove(expiry, id);
                None
            }
            Some((_, next)) => {
                let at = self.plausible_bound(next);
                self.index_set(expiry, id, at);
                Some(at)
            }
        }
    }

    /// An expiry bound read from an index, as the second to visit it: one
    /// no session could have (below 0, beyond `latest_bound`, infinite:
    /// written by hand) means now, so the sweeper checks the entry at once
    /// instead of never.
    fn plausible_bound(&self, bound: f64) -> i64 {
        if (0.0..=self.latest_bound()).contains(&bound) {
            bound as i64
        } else {
            self.now
        }
    }

    /// The latest expiry bound a session could have now: its longest ttl
    /// from now, with room to spare.
    pub fn latest_bound(&self) -> f64 {
        (self.now + 2 * crate::args::MAX_SECONDS) as f64
    }

    /// Brings the expiry bounds of session `token` of user `id` forward to
    /// `expires_at` when that is earlier (its ttl shrank), in the user's
    /// index and the app's expiry index, so the sweeper still removes it
    /// on time. Bounds that are already earlier stay.
    pub fn expire_sooner(
        &self,
        (user, expiry): (&mut Key, &mut Key),
        token: &RedisString,
        id: &RedisString,
        expires_at: i64,
    ) {
        self.index_write(user, token, expires_at as f64, ScoreMove::Down, || {
            self.int(expires_at)
        });
        self.schedule_expiry(expiry, id, expires_at);
    }

    /// Lowers the user's entry in the expiry index to `expires_at` if that is
    /// earlier, so the sweeper visits the user no later than that second.
    pub fn schedule_expiry(&self, expiry: &mut Key, id: &RedisString, expires_at: i64) {
        let score = expires_at as f64;
        self.index_write(expiry, id, score, ScoreMove::Down, || self.int(expires_at));
    }

    /// Announces a session event (`sess.created`, `sess.killed`, ...) as a
    /// keyspace notification of the module class on the user's index key:
    /// the user id is in the channel, the token never is. Only commands and
    /// the sweeper on a master raise them (replicas apply plain effects), so
    /// each event is announced once, by the node that owns the app. Costs a
    /// flag test when module events are not enabled.
    pub fn announce(&self, event: &CStr, id: &[u8]) {
        let module_class = NotifyEvent::MODULE.bits();
        // SAFETY: reads the server's notification setting.
        let enabled = unsafe { call!(RedisModule_GetNotifyKeyspaceEvents() or 0) };
        if enabled & module_class == 0 {
            return;
        }
        let name = self.string(&self.keys.user_sessions(id));
        // SAFETY: ctx is live; event is NUL-terminated; name is a valid string.
        unsafe {
            call!(RedisModule_NotifyKeyspaceEvent(
                self.ctx.get_raw(),
                module_class,
                event.as_ptr(),
                name.inner,
            ) or 0)
        };
    }

    /// Writes the fields of `effect` to the hash in one call, and announces
    /// and replicates them as one HSET.
    fn write_effect(&self, key: &mut Key, effect: &Effect) {
        key.hash_set_all(&effect.args()[1..]);
        key.notify(NotifyEvent::HASH, c"hset");
        self.replicate(c"HSET", effect.args());
    }

    /// Sends `command args` to replicas and the AOF as an effect of this
    /// command (or sweeper step).
    pub fn replicate(&self, command: &CStr, args: &[*mut raw::RedisModuleString]) {
        // SAFETY: the "v" format takes an array of Redis strings and its
        // length; Redis keeps its own references to them until propagation.
        unsafe {
            call!(RedisModule_Replicate(
                self.ctx.get_raw(),
                command.as_ptr(),
                c"v".as_ptr(),
                args.as_ptr(),
                args.len(),
            ) or 0)
        };
    }
}

/// The arguments of one HSET, written to the hash in one call and
/// replicated as they are: every field written is also replicated, however many
/// there are (a session has at most 10, which fit on the stack). It borrows
/// each string for as long as it lives, so a temporary string, freed before
/// the effect is replicated, does not compile.
struct Effect<'s> {
    args: InlineVec<*mut raw::RedisModuleString, 21>,
    strings: PhantomData<&'s ()>,
}

impl<'s> Effect<'s> {
    fn new(key: &Key) -> Effect<'s> {
        let mut args = InlineVec::new(std::ptr::null_mut());
        args.extend_from_slice(&[key.name().inner]);
        Effect {
            args,
            strings: PhantomData,
        }
    }

    fn set(&mut self, field: &'s impl AsRedisString, value: &'s impl AsRedisString) {
        self.args
            .extend_from_slice(&[field.redis_string(), value.redis_string()]);
    }

    fn args(&self) -> &[*mut raw::RedisModuleString] {
        self.args.as_slice()
    }
}
