//! Redis strings made without waste: from bytes or integers, and a few
//! shared for the module's lifetime (hash field names).
//!
//! Every Redis string is a heap object, and allocations dominate the cost of
//! a session read, so the hot paths create each string once and pass it on:
//! the same object becomes a hash value, a sorted-set member and an argument
//! of the replicated effect (Redis only takes a reference).

use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};

use redis_module::{raw, RedisString};

use crate::api::call;

/// A new Redis string holding `bytes`.
pub fn from_bytes(ctx: *mut raw::RedisModuleCtx, bytes: &[u8]) -> RedisString {
    RedisString::create_from_slice(ctx, bytes)
}

/// A new Redis string holding the decimal text of `n`.
pub fn from_int(ctx: *mut raw::RedisModuleCtx, n: i64) -> RedisString {
    // SAFETY: plain constructor; the result is owned by the returned value.
    let inner =
        unsafe { call!(RedisModule_CreateStringFromLongLong(ctx, n) or std::ptr::null_mut()) };
    RedisString::from_redis_module_string(ctx, inner)
}

/// A Redis string tied to no context: whoever holds it frees it, or keeps
/// it for the module's lifetime.
pub fn detached(bytes: &[u8]) -> *mut raw::RedisModuleString {
    // SAFETY: a plain constructor with no context.
    unsafe {
        call!(RedisModule_CreateString(std::ptr::null_mut(), bytes.as_ptr().cast(), bytes.len())
            or std::ptr::null_mut())
    }
}

/// Anything that is, or holds, a Redis string object.
pub trait AsRedisString {
    fn redis_string(&self) -> *mut raw::RedisModuleString;
}

impl AsRedisString for RedisString {
    fn redis_string(&self) -> *mut raw::RedisModuleString {
        self.inner
    }
}

/// A Redis string created on first use and kept for the module's lifetime.
/// Only the main thread touches these (commands, timers and events all run
/// there), which is what makes the lazy creation sound.
pub struct StaticString {
    text: &'static CStr,
    ptr: AtomicPtr<raw::RedisModuleString>,
}

impl StaticString {
    pub const fn new(text: &'static CStr) -> StaticString {
        StaticString {
            text,
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    pub fn bytes(&self) -> &'static [u8] {
        self.text.to_bytes()
    }
}

impl AsRedisString for StaticString {
    fn redis_string(&self) -> *mut raw::RedisModuleString {
        let ptr = self.ptr.load(Ordering::Relaxed);
        if !ptr.is_null() {
            return ptr;
        }
        // Never freed: it lives as long as the module.
        let fresh = detached(self.bytes());
        self.ptr.store(fresh, Ordering::Relaxed);
        fresh
    }
}
