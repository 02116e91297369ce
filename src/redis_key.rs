//! A small safe wrapper over the Redis module key API for the two types this
//! module keeps: hashes and sorted sets.
//!
//! The native API skips the command table and reply parsing that `RM_Call`
//! pays for; in exchange its writes are neither replicated nor announced, so
//! callers pair every write with an effect (see `effects.rs`). Every raw call
//! is made only after the key's type has been checked, because the module API
//! dereferences the key without checking it.

use std::ffi::CStr;
use std::os::raw::c_int;

use redis_module::{raw, Context, NotifyEvent, RedisString};

/// What a key holds, as far as this module cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Empty,
    Hash,
    ZSet,
    Other,
}

/// An open key. Closed when dropped.
pub struct Key {
    ctx: *mut raw::RedisModuleCtx,
    name: RedisString,
    ptr: *mut raw::RedisModuleKey,
    kind: Kind,
}

/// The marker value that makes `RM_HashSet` delete a field
/// (`REDISMODULE_HASH_DELETE` in redismodule.h, a cast the bindings lack).
/// It must be exactly 1, which `ptr::dangling_mut` does not promise.
#[allow(clippy::manual_dangling_ptr)]
const HASH_DELETE: *mut raw::RedisModuleString = 1 as *mut raw::RedisModuleString;

impl Key {
    /// Opens `name` for reading, or for reading and writing.
    pub fn open(ctx: &Context, name: &[u8], writable: bool) -> Key {
        let ctx = ctx.get_raw();
        let name = RedisString::create_from_slice(ctx, name);
        let mode = if writable {
            raw::REDISMODULE_READ | raw::REDISMODULE_WRITE
        } else {
            raw::REDISMODULE_READ
        };
        // SAFETY: ctx is the live context of the running command or callback,
        // and name is a valid string owned by this struct.
        let ptr = unsafe { raw::RedisModule_OpenKey.unwrap()(ctx, name.inner, mode as c_int) };
        let mut key = Key {
            ctx,
            name,
            ptr,
            kind: Kind::Empty,
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
        let kind = unsafe { raw::RedisModule_KeyType.unwrap()(self.ptr) } as isize;
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
            unsafe { raw::RedisModule_DeleteKey.unwrap()(self.ptr) };
            self.kind = Kind::Empty;
        }
    }

    /// Announces a change to keyspace-event subscribers, as a built-in command
    /// would.
    pub fn notify(&self, class: NotifyEvent, event: &CStr) {
        // SAFETY: ctx is live; event is a NUL-terminated constant.
        unsafe {
            raw::RedisModule_NotifyKeyspaceEvent.unwrap()(
                self.ctx,
                class.bits(),
                event.as_ptr(),
                self.name.inner,
            )
        };
    }

    // ----- hashes -------------------------------------------------------

    /// The value of one hash field, if the key is a hash and has it.
    pub fn hash_get(&self, field: &CStr) -> Option<RedisString> {
        if self.kind != Kind::Hash {
            return None;
        }
        let mut value: *mut raw::RedisModuleString = std::ptr::null_mut();
        // SAFETY: the key is a hash; field is NUL-terminated; the variadic
        // list is (field, out-pointer) followed by NULL as the API requires.
        unsafe {
            raw::RedisModule_HashGet.unwrap()(
                self.ptr,
                raw::REDISMODULE_HASH_CFIELDS as c_int,
                field.as_ptr(),
                &mut value as *mut *mut raw::RedisModuleString,
                std::ptr::null_mut::<std::os::raw::c_char>(),
            )
        };
        (!value.is_null()).then(|| RedisString::from_redis_module_string(self.ctx, value))
    }

    /// Sets one hash field, creating the hash when the key is missing.
    pub fn hash_set(&mut self, field: &CStr, value: &[u8]) {
        if !self.is_empty_or(Kind::Hash) {
            return;
        }
        let value = RedisString::create_from_slice(self.ctx, value);
        // SAFETY: the key is open for writing and empty or a hash.
        unsafe {
            raw::RedisModule_HashSet.unwrap()(
                self.ptr,
                raw::REDISMODULE_HASH_CFIELDS as c_int,
                field.as_ptr(),
                value.inner,
                std::ptr::null_mut::<std::os::raw::c_char>(),
            )
        };
        self.kind = Kind::Hash;
    }

    /// Removes one hash field; the key disappears with its last field.
    pub fn hash_del(&mut self, field: &CStr) {
        if self.kind != Kind::Hash {
            return;
        }
        // SAFETY: the key is an open hash; HASH_DELETE is the API's marker.
        unsafe {
            raw::RedisModule_HashSet.unwrap()(
                self.ptr,
                raw::REDISMODULE_HASH_CFIELDS as c_int,
                field.as_ptr(),
                HASH_DELETE,
                std::ptr::null_mut::<std::os::raw::c_char>(),
            )
        };
        self.kind = self.read_kind();
    }

    // ----- sorted sets ----------------------------------------------------

    /// Adds or updates a member, creating the set when the key is missing.
    pub fn zset_add(&mut self, score: f64, member: &[u8]) {
        if !self.is_empty_or(Kind::ZSet) {
            return;
        }
        let member = RedisString::create_from_slice(self.ctx, member);
        let mut flags: c_int = 0;
        // SAFETY: the key is open for writing and empty or a sorted set.
        unsafe { raw::RedisModule_ZsetAdd.unwrap()(self.ptr, score, member.inner, &mut flags) };
        self.kind = Kind::ZSet;
    }

    /// The score of a member, if present.
    pub fn zset_score(&self, member: &[u8]) -> Option<f64> {
        if self.kind != Kind::ZSet {
            return None;
        }
        let member = RedisString::create_from_slice(self.ctx, member);
        let mut score = 0.0;
        // SAFETY: the key is an open sorted set.
        let status =
            unsafe { raw::RedisModule_ZsetScore.unwrap()(self.ptr, member.inner, &mut score) };
        (status == raw::REDISMODULE_OK as c_int).then_some(score)
    }

    /// Removes a member; true if it was there. The key disappears with its
    /// last member.
    pub fn zset_rem(&mut self, member: &[u8]) -> bool {
        if self.kind != Kind::ZSet {
            return false;
        }
        let member = RedisString::create_from_slice(self.ctx, member);
        let mut deleted: c_int = 0;
        // SAFETY: the key is an open sorted set, opened for writing.
        unsafe { raw::RedisModule_ZsetRem.unwrap()(self.ptr, member.inner, &mut deleted) };
        self.kind = self.read_kind();
        deleted != 0
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
        let api = |f: Option<unsafe extern "C" fn(*mut raw::RedisModuleKey) -> c_int>| f.unwrap();
        // SAFETY: the key is an open sorted set; the range iterator is always
        // stopped before returning, and nothing writes to the key meanwhile.
        unsafe {
            let start = raw::RedisModule_ZsetFirstInScoreRange.unwrap();
            if start(self.ptr, min, max, 0, 0) != raw::REDISMODULE_OK as c_int {
                return out;
            }
            while out.len() < limit && api(raw::RedisModule_ZsetRangeEndReached)(self.ptr) == 0 {
                let mut score = 0.0;
                let member =
                    raw::RedisModule_ZsetRangeCurrentElement.unwrap()(self.ptr, &mut score);
                if member.is_null() {
                    break;
                }
                let member = RedisString::from_redis_module_string(self.ctx, member);
                let skip = after.is_some_and(|after| score == min && member.as_slice() <= after);
                if !skip {
                    out.push((member, score));
                }
                if api(raw::RedisModule_ZsetRangeNext)(self.ptr) == 0 {
                    break;
                }
            }
            raw::RedisModule_ZsetRangeStop.unwrap()(self.ptr);
        }
        out
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: ptr was returned by RM_OpenKey and is closed only here.
            unsafe { raw::RedisModule_CloseKey.unwrap()(self.ptr) };
        }
    }
}
