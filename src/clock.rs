//! The server clock. Sessions follow the Redis server's time, never a
//! client's, so one host decides idle and expiry for every application.

use redis_module::raw;

/// Unix time in whole seconds.
pub fn now_seconds() -> i64 {
    // SAFETY: RM_Milliseconds takes no arguments and only reads the clock.
    unsafe { raw::RedisModule_Milliseconds.unwrap()() / 1000 }
}
