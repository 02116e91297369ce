//! `RM_Call`: running a Redis command from the module, for the few things
//! the key API cannot do (RENAME, sets, asking Redis's own routing). The
//! reply is freed when dropped. Nothing is replicated by the call itself:
//! callers replicate the effect they mean.

use std::ffi::CStr;
use std::io;

use redis_module::{raw, Context, RedisString};

use crate::api::call;

pub struct CallReply(*mut raw::RedisModuleCallReply);

/// Runs `command args`. An error of the call itself (a redirection in a
/// cluster, an unknown or renamed command) is the errno Redis set.
pub fn run(ctx: &Context, command: &CStr, args: &[&RedisString]) -> io::Result<CallReply> {
    let argv: Vec<*mut raw::RedisModuleString> = args.iter().map(|s| s.inner).collect();
    // SAFETY: a variadic call with the "v" format: an array of strings and
    // its length, alive for the call.
    let reply = unsafe {
        call!(RedisModule_Call(
            ctx.get_raw(),
            command.as_ptr(),
            c"v".as_ptr(),
            argv.as_ptr(),
            argv.len()
        ) or std::ptr::null_mut())
    };
    if reply.is_null() {
        Err(io::Error::last_os_error())
    } else {
        Ok(CallReply(reply))
    }
}

impl CallReply {
    pub fn is_error(&self) -> bool {
        // SAFETY: a live reply.
        let kind = unsafe { call!(RedisModule_CallReplyType(self.0) or 0) };
        kind == raw::REDISMODULE_REPLY_ERROR as i32
    }

    /// Whether the reply is nil (ZRANK of a missing member).
    pub fn is_null(&self) -> bool {
        // SAFETY: a live reply.
        let kind = unsafe { call!(RedisModule_CallReplyType(self.0) or 0) };
        kind == raw::REDISMODULE_REPLY_NULL as i32
    }

    /// The reply as an integer, 0 if it is none.
    pub fn integer(&self) -> i64 {
        // SAFETY: a live reply; a non-integer reply gives LLONG_MIN, mapped to 0.
        let n = unsafe { call!(RedisModule_CallReplyInteger(self.0) or 0) };
        if n == i64::MIN {
            0
        } else {
            n
        }
    }

    /// The elements of an array reply of strings.
    pub fn strings(&self) -> Vec<Vec<u8>> {
        // SAFETY: a live reply; elements are owned by it and copied out.
        unsafe {
            let n = call!(RedisModule_CallReplyLength(self.0) or 0);
            (0..n)
                .filter_map(|i| {
                    let element = call!(RedisModule_CallReplyArrayElement(self.0, i) or std::ptr::null_mut());
                    if element.is_null() {
                        return None;
                    }
                    let mut len = 0;
                    let ptr = call!(RedisModule_CallReplyStringPtr(element, &mut len) or std::ptr::null());
                    (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr as *const u8, len).to_vec())
                })
                .collect()
        }
    }
}

impl Drop for CallReply {
    fn drop(&mut self) {
        // SAFETY: a reply of RM_Call, freed once.
        unsafe { call!(RedisModule_FreeCallReply(self.0) or ()) };
    }
}
