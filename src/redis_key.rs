//! A small safe wrapper over the Redis module key API for the two types this
//! module keeps: hashes and sorted sets.
//!
//! The native API skips the command table and reply parsing that `RM_Call`
//! pays for; in exchange its writes are neither replicated nor announced, so
//! callers pair every write with an effect (see `store.rs`). Every raw call
//! is made only after the key's type has been checked, because the module API
//! dereferences the key without checking it.

use std::ffi::CStr;
use std::os::raw::c_int;

use redis_module::{raw, Context, NotifyEvent, RedisString};

use crate::api::call;
use crate::redis_string::{from_bytes, AsRedisString};

/// What a key holds, as far as this module cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Empty,
    Hash,
    ZSet,
    Other,
}

/// An open key. Closed when dropped.
///
/// Opening a key for writing changes nothing by itself: the module turns
/// off Redis's implicit "key modified" signal on closing every writable key
/// (see `enable_explicit_signals`), and a key signals only after a write
/// actually changed it. So reads, idle sweeps and commands that find nothing
/// to do never abort a client's WATCH or invalidate client-side caches.
pub struct Key {
    ctx: *mut raw::RedisModuleCtx,
    name: RedisString,
    ptr: *mut raw::RedisModuleKey,
    kind: Kind,
    modified: bool,
}

/// The marker value that makes `RM_HashSet` delete a field
/// (`REDISMODULE_HASH_DELETE` in redismodule.h, a cast the bindings lack).
/// It must be exactly 1, which `ptr::dangling_mut` does not promise.
#[allow(clippy::manual_dangling_ptr)]
const HASH_DELETE: *mut raw::RedisModuleString = 1 as *mut raw::RedisModuleString;

const END: *mut raw::RedisModuleString = std::ptr::null_mut();

impl Key {
    /// Opens `name` for reading, or for reading and writing.
    pub fn open(ctx: &Context, name: &[u8], writable: bool) -> Key {
        let ctx = ctx.get_raw();
        let name = from_bytes(ctx, name);
        let mode = if writable {
            raw::REDISMODULE_READ | raw::REDISMODULE_WRITE
        } else {
            raw::REDISMODULE_READ
        };
        // SAFETY: ctx is the live context of the running command or callback,
        // and name is a valid string owned by this struct.
        let ptr = unsafe {
            call!(RedisModule_OpenKey(ctx, name.inner, mode as c_int) or std::ptr::null_mut())
        };
        let mut key = Key {
            ctx,
            name,
            ptr,
            kind: Kind::Empty,
            modified: false,
        };
        key.kind = key.read_kind();
        key
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// True when the key is missing or holds `wanted`.
    pub fn is_empty_or(&self, wanted: Kind) -> bool {
        self.kind == Kind::Empty || self.kind == wanted
    }

    pub fn name(&self) -> &RedisString {
        &self.name
    }

    fn read_kind(&self) -> Kind {
        if self.ptr.is_null() {
            return Kind::Empty;
        }
        // SAFETY: ptr is an open key.
        let kind = unsafe { call!(RedisModule_KeyType(self.ptr) or 0) } as isize;
        match kind {
            raw::REDISMODULE_KEYTYPE_EMPTY => Kind::Empty,
            raw::REDISMODULE_KEYTYPE_HASH => Kind::Hash,
            raw::REDISMODULE_KEYTYPE_ZSET => Kind::ZSet,
            _ => Kind::Other,
        }
    }

    /// Deletes the key, whatever it holds.
    pub fn delete(&mut self) {
        if self.kind != Kind::Empty {
            // SAFETY: ptr is a key opened for writing (only writers delete).
            unsafe { call!(RedisModule_DeleteKey(self.ptr) or 0) };
            self.kind = Kind::Empty;
            self.modified = true;
        }
    }

    /// Deletes the key and leaves freeing its value to a background thread
    /// when that is large (what UNLINK does), so that a big index goes in
    /// constant time.
    pub fn unlink(&mut self) {
        if self.kind != Kind::Empty {
            // SAFETY: ptr is a key opened for writing (only writers unlink).
            unsafe { call!(RedisModule_UnlinkKey(self.ptr) or 0) };
            self.kind = Kind::Empty;
            self.modified = true;
        }
    }

    /// The number of members of a sorted set (fields of a hash), 0 when the
    /// key is missing.
    pub fn size(&self) -> usize {
        if self.kind == Kind::Empty {
            return 0;
        }
        // SAFETY: ptr is an open key of a known type.
        unsafe { call!(RedisModule_ValueLength(self.ptr) or 0) }
    }

    /// Announces a change to keyspace-event subscribers, as a built-in command
    /// would.
    pub fn notify(&self, class: NotifyEvent, event: &CStr) {
        if crate::change_log::on() {
            // SAFETY: ctx is live.
            let db = unsafe { call!(RedisModule_GetSelectedDb(self.ctx) or 0) };
            crate::change_log::note(db, self.name.as_slice());
        }
        // SAFETY: ctx is live; event is a NUL-terminated constant.
        unsafe {
            call!(RedisModule_NotifyKeyspaceEvent(
                self.ctx,
                class.bits(),
                event.as_ptr(),
                self.name.inner,
            ) or 0)
        };
    }

    // ----- hashes -------------------------------------------------------

    /// Visits every field of a hash with its value. On a small (listpack)
    /// hash this is one pass over the entries, where a lookup per field
    /// would scan the entries once per field. The value is lent to the
    /// visitor; `keep` turns it into an owned string.
    pub fn hash_scan(&self, mut visit: impl FnMut(&[u8], Borrowed)) {
        if self.kind != Kind::Hash {
            return;
        }
        let mut visit: &mut dyn FnMut(&[u8], Borrowed) = &mut visit;
        extern "C" fn each(
            _key: *mut raw::RedisModuleKey,
            field: *mut raw::RedisModuleString,
            value: *mut raw::RedisModuleString,
            privdata: *mut std::os::raw::c_void,
        ) {
            // SAFETY: privdata is the visitor passed below, alive for the
            // whole scan; field and value are valid during this call.
            let visit = unsafe { &mut *(privdata as *mut &mut dyn FnMut(&[u8], Borrowed)) };
            visit(RedisString::string_as_slice(field), Borrowed(value));
        }
        // SAFETY: the key is an open hash; the cursor is destroyed below; a
        // scan returns 0 once every element has been visited.
        unsafe {
            let cursor = call!(RedisModule_ScanCursorCreate() or std::ptr::null_mut());
            let privdata =
                &mut visit as *mut &mut dyn FnMut(&[u8], Borrowed) as *mut std::os::raw::c_void;
            while call!(RedisModule_ScanKey(self.ptr, cursor, Some(each), privdata) or 0) != 0 {}
            call!(RedisModule_ScanCursorDestroy(cursor) or ());
        }
    }

    /// One field of a hash, or None when the key is no hash or lacks it.
    /// One lookup: for the few fields of a small index, not for a session
    /// (see `hash_scan`).
    pub fn hash_get(&self, field: &impl AsRedisString) -> Option<RedisString> {
        if self.kind != Kind::Hash {
            return None;
        }
        let mut value: *mut raw::RedisModuleString = std::ptr::null_mut();
        // SAFETY: the key is an open hash; the variadic list is (field,
        // out-pointer) followed by NULL; the value returned is ours to free
        // (RM_FreeString also takes it out of auto memory, where enabled).
        unsafe {
            call!(RedisModule_HashGet(
                self.ptr,
                raw::REDISMODULE_HASH_NONE as c_int,
                field.redis_string(),
                &mut value as *mut *mut raw::RedisModuleString,
                END,
            ) or 0)
        };
        if value.is_null() {
            return None;
        }
        Some(RedisString::from_redis_module_string(self.ctx, value))
    }

    /// Ten fields of a hash in one call, named by Redis strings made once
    /// (no string per name): a dictionary lookup each on a big hash.
    pub fn hash_get_ten(
        &self,
        fields: [*mut raw::RedisModuleString; 10],
    ) -> [Option<RedisString>; 10] {
        let mut v: [*mut raw::RedisModuleString; 10] = [std::ptr::null_mut(); 10];
        if self.kind == Kind::Hash {
            let f = fields;
            // SAFETY: the key is an open hash; the variadic list is (field,
            // out-pointer) pairs followed by NULL; the values returned are
            // ours to free (see `hash_get`).
            unsafe {
                let [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9] = &mut v;
                call!(RedisModule_HashGet(
                    self.ptr,
                    raw::REDISMODULE_HASH_NONE as c_int,
                    f[0], v0 as *mut _, f[1], v1 as *mut _, f[2], v2 as *mut _,
                    f[3], v3 as *mut _, f[4], v4 as *mut _, f[5], v5 as *mut _,
                    f[6], v6 as *mut _, f[7], v7 as *mut _, f[8], v8 as *mut _,
                    f[9], v9 as *mut _,
                    END,
                ) or 0);
            }
        }
        v.map(|value| {
            (!value.is_null()).then(|| RedisString::from_redis_module_string(self.ctx, value))
        })
    }

    /// Two fields of a hash by their names as C strings, in one call and
    /// without a Redis string per name (the fields of `_kills` a GET reads).
    /// A name holding a NUL byte matches no field.
    pub fn hash_get_two(&self, a: &[u8], b: &[u8]) -> [Option<RedisString>; 2] {
        if self.kind != Kind::Hash {
            return [None, None];
        }
        let terminated = |name: &[u8]| -> Option<crate::inline_vec::InlineVec<u8, 160>> {
            if name.contains(&0) {
                return None;
            }
            let mut c = crate::inline_vec::InlineVec::new(0);
            c.extend_from_slice(name);
            c.extend_from_slice(&[0]);
            Some(c)
        };
        let (Some(ca), cb) = (terminated(a), terminated(b)) else {
            return [None, None];
        };
        let mut values: [*mut raw::RedisModuleString; 2] = [std::ptr::null_mut(); 2];
        // SAFETY: the key is an open hash; with REDISMODULE_HASH_CFIELDS the
        // variadic list is (C string, out-pointer) pairs followed by NULL;
        // the values returned are ours to free (see `hash_get`).
        unsafe {
            let flags = (raw::REDISMODULE_HASH_NONE | raw::REDISMODULE_HASH_CFIELDS) as c_int;
            match &cb {
                Some(cb) => call!(RedisModule_HashGet(
                    self.ptr,
                    flags,
                    ca.as_slice().as_ptr(),
                    &mut values[0] as *mut *mut raw::RedisModuleString,
                    cb.as_slice().as_ptr(),
                    &mut values[1] as *mut *mut raw::RedisModuleString,
                    END,
                ) or 0),
                None => call!(RedisModule_HashGet(
                    self.ptr,
                    flags,
                    ca.as_slice().as_ptr(),
                    &mut values[0] as *mut *mut raw::RedisModuleString,
                    END,
                ) or 0),
            };
        }
        values.map(|v| (!v.is_null()).then(|| RedisString::from_redis_module_string(self.ctx, v)))
    }

    /// Sets hash fields given as `[field, value, field, value, ...]` in one
    /// call (up to 10 pairs; more go in several), creating the hash when the
    /// key is missing.
    pub fn hash_set_all(&mut self, pairs: &[*mut raw::RedisModuleString]) {
        if !self.is_empty_or(Kind::Hash) || pairs.is_empty() {
            return;
        }
        for chunk in pairs.chunks(20) {
            self.raw_hash_set_many(chunk);
        }
        self.kind = Kind::Hash;
        self.modified = true;
    }

    /// Removes one hash field; the key disappears with its last field.
    pub fn hash_del(&mut self, field: &impl AsRedisString) {
        if self.kind == Kind::Hash {
            self.raw_hash_set(field.redis_string(), HASH_DELETE);
            self.kind = self.read_kind();
            self.modified = true;
        }
    }

    /// One `RM_HashSet` of up to 10 (field, value) pairs: the variadic list
    /// is written out for each count.
    fn raw_hash_set_many(&mut self, p: &[*mut raw::RedisModuleString]) {
        macro_rules! hash_set {
            ($($i:literal)*) => {
                // SAFETY: the key is open for writing and empty or a hash;
                // the variadic list is (field, value) pairs then NULL.
                unsafe {
                    call!(RedisModule_HashSet(
                        self.ptr,
                        raw::REDISMODULE_HASH_NONE as c_int,
                        $(p[$i],)*
                        END,
                    ) or 0)
                }
            };
        }
        match p.len() {
            2 => hash_set!(0 1),
            4 => hash_set!(0 1 2 3),
            6 => hash_set!(0 1 2 3 4 5),
            8 => hash_set!(0 1 2 3 4 5 6 7),
            10 => hash_set!(0 1 2 3 4 5 6 7 8 9),
            12 => hash_set!(0 1 2 3 4 5 6 7 8 9 10 11),
            14 => hash_set!(0 1 2 3 4 5 6 7 8 9 10 11 12 13),
            16 => hash_set!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15),
            18 => hash_set!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17),
            20 => hash_set!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19),
            _ => {
                for pair in p.chunks_exact(2) {
                    self.raw_hash_set(pair[0], pair[1]);
                }
                0
            }
        };
    }

    fn raw_hash_set(
        &mut self,
        field: *mut raw::RedisModuleString,
        value: *mut raw::RedisModuleString,
    ) {
        // SAFETY: the key is open for writing and empty or a hash; the
        // variadic list is (field, value) followed by NULL.
        unsafe {
            call!(RedisModule_HashSet(
                self.ptr,
                raw::REDISMODULE_HASH_NONE as c_int,
                field,
                value,
                END,
            ) or 0)
        };
    }

    // ----- sorted sets ----------------------------------------------------

    /// Sets a member's score (an existing member only when `when` allows),
    /// creating the set when the key is missing. Returns whether anything
    /// changed (a new member or a new score). One lookup either way.
    pub fn zset_add(&mut self, score: f64, member: &impl AsRedisString, when: ScoreMove) -> bool {
        if !self.is_empty_or(Kind::ZSet) {
            return false;
        }
        let mut flags = match when {
            ScoreMove::Any => 0,
            ScoreMove::Up => raw::REDISMODULE_ZADD_GT as c_int,
            ScoreMove::Down => raw::REDISMODULE_ZADD_LT as c_int,
        };
        // SAFETY: the key is open for writing and empty or a sorted set.
        unsafe {
            call!(RedisModule_ZsetAdd(self.ptr, score, member.redis_string(), &mut flags) or 0)
        };
        self.kind = Kind::ZSet;
        let changed =
            flags & (raw::REDISMODULE_ZADD_ADDED | raw::REDISMODULE_ZADD_UPDATED) as c_int != 0;
        self.modified |= changed;
        changed
    }

    /// Removes a member; true if it was there. The key disappears with its
    /// last member.
    pub fn zset_rem(&mut self, member: &impl AsRedisString) -> bool {
        if self.kind != Kind::ZSet {
            return false;
        }
        let mut deleted: c_int = 0;
        // SAFETY: the key is an open sorted set, opened for writing.
        unsafe { call!(RedisModule_ZsetRem(self.ptr, member.redis_string(), &mut deleted) or 0) };
        self.kind = self.read_kind();
        self.modified |= deleted != 0;
        deleted != 0
    }

    /// The score of a member, if it is in the set.
    pub fn zset_score(&self, member: &impl AsRedisString) -> Option<f64> {
        if self.kind != Kind::ZSet {
            return None;
        }
        let mut score = 0.0;
        // SAFETY: the key is an open sorted set.
        let status = unsafe {
            call!(RedisModule_ZsetScore(self.ptr, member.redis_string(), &mut score)
                or raw::REDISMODULE_ERR as c_int)
        };
        (status == raw::REDISMODULE_OK as c_int).then_some(score)
    }

    /// Members with `min <= score <= max`, lowest score first, at most `limit`.
    pub fn zset_range(&self, min: f64, max: f64, limit: usize) -> Vec<(RedisString, f64)> {
        self.zset_walk(min, max, None, limit)
    }

    /// Like `zset_range`, but starting after the member `after` of score
    /// `min`: Redis orders equal scores by member bytes, so this resumes a
    /// walk exactly where an earlier one stopped.
    pub fn zset_range_after(
        &self,
        min: f64,
        after: &[u8],
        max: f64,
        limit: usize,
    ) -> Vec<(RedisString, f64)> {
        self.zset_walk(min, max, Some(after), limit)
    }

    /// Visits members with `min <= score <= max`, highest score first, until
    /// `visit` answers false.
    pub fn zset_visit_highest(
        &self,
        min: f64,
        max: f64,
        mut visit: impl FnMut(RedisString, f64) -> bool,
    ) {
        if self.kind != Kind::ZSet {
            return;
        }
        // SAFETY: the key is an open sorted set; the range iterator is always
        // stopped before returning, and `visit` only reads other keys.
        unsafe {
            if call!(RedisModule_ZsetLastInScoreRange(self.ptr, min, max, 0, 0) or raw::REDISMODULE_ERR as c_int)
                != raw::REDISMODULE_OK as c_int
            {
                return;
            }
            while call!(RedisModule_ZsetRangeEndReached(self.ptr) or 1) == 0 {
                let mut score = 0.0;
                let member = call!(RedisModule_ZsetRangeCurrentElement(self.ptr, &mut score) or std::ptr::null_mut());
                if member.is_null() {
                    break;
                }
                let member = RedisString::from_redis_module_string(self.ctx, member);
                if !visit(member, score) || call!(RedisModule_ZsetRangePrev(self.ptr) or 0) == 0 {
                    break;
                }
            }
            call!(RedisModule_ZsetRangeStop(self.ptr) or ());
        }
    }

    /// The member with the lowest score.
    pub fn zset_first(&self) -> Option<(RedisString, f64)> {
        self.zset_range(f64::NEG_INFINITY, f64::INFINITY, 1).pop()
    }

    fn zset_walk(
        &self,
        min: f64,
        max: f64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(RedisString, f64)> {
        let mut out = Vec::new();
        if self.kind != Kind::ZSet || limit == 0 {
            return out;
        }
        // SAFETY: the key is an open sorted set; the range iterator is always
        // stopped before returning, and nothing writes to the key meanwhile.
        unsafe {
            if call!(RedisModule_ZsetFirstInScoreRange(self.ptr, min, max, 0, 0) or raw::REDISMODULE_ERR as c_int)
                != raw::REDISMODULE_OK as c_int
            {
                return out;
            }
            while out.len() < limit && call!(RedisModule_ZsetRangeEndReached(self.ptr) or 1) == 0 {
                let mut score = 0.0;
                let member = call!(RedisModule_ZsetRangeCurrentElement(self.ptr, &mut score) or std::ptr::null_mut());
                if member.is_null() {
                    break;
                }
                let member = RedisString::from_redis_module_string(self.ctx, member);
                let skip = after.is_some_and(|after| score == min && member.as_slice() <= after);
                if !skip {
                    out.push((member, score));
                }
                if call!(RedisModule_ZsetRangeNext(self.ptr) or 0) == 0 {
                    break;
                }
            }
            call!(RedisModule_ZsetRangeStop(self.ptr) or ());
        }
        out
    }
}

/// Which way `zset_add` may move an existing member's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMove {
    Any,
    Up,
    Down,
}

/// A Redis string lent for the duration of a callback.
pub struct Borrowed(*mut raw::RedisModuleString);

impl Borrowed {
    pub fn bytes(&self) -> &[u8] {
        RedisString::string_as_slice(self.0)
    }

    /// Takes a reference of our own, so the string outlives the callback.
    pub fn keep(&self, ctx: &Context) -> RedisString {
        RedisString::new(std::ptr::NonNull::new(ctx.get_raw()), self.0)
    }
}

/// The module option that turns off the signal Redis sends for every key a
/// module closed after opening it for writing; `Key` signals its real
/// changes instead.
pub const EXPLICIT_SIGNALS: c_int = raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED as c_int;

impl Drop for Key {
    fn drop(&mut self) {
        if self.modified {
            // SAFETY: ctx is live and selected on the key's database.
            unsafe { call!(RedisModule_SignalModifiedKey(self.ctx, self.name.inner) or 0) };
        }
        if !self.ptr.is_null() {
            // SAFETY: ptr was returned by RM_OpenKey and is closed only here.
            unsafe { call!(RedisModule_CloseKey(self.ptr) or ()) };
        }
    }
}
