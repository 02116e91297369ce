//! The server clock. Sessions follow the Redis server's time, never a
//! client's, so one host decides idle and expiry for every application.

use crate::api::call;

/// Unix time in milliseconds.
pub fn now_millis() -> i64 {
    // SAFETY: RM_Milliseconds takes no arguments and only reads the clock.
    unsafe { call!(RedisModule_Milliseconds() or 0) }
}
