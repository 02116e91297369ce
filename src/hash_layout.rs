//! Which way of reading a session hash costs less: the answer depends on
//! how Redis holds the hash, which the module API does not tell.
//!
//! A small hash is a listpack, where one scan of its entries
//! (`RM_ScanKey`) beats a lookup per field (each a linear search of the
//! entries: 40% more instructions for a session, under callgrind). A hash
//! with a value longer than `hash-max-listpack-value` (64 bytes by default:
//! any express-session session, whose cookie alone is about 100) is a
//! dictionary, where ten lookups (`RM_HashGet`) cost 30% less than the scan,
//! which makes two strings per field. The reader guesses from the session it
//! read last: a workload's sessions are alike. A wrong guess costs time,
//! never a wrong answer: both ways read the same fields.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use redis_module::{Context, RedisString};

/// The server's `hash-max-listpack-value`, read every few seconds.
static LISTPACK_VALUE_LIMIT: AtomicUsize = AtomicUsize::new(64);
/// Whether the last session read had a value beyond that limit.
static LAST_WAS_DICTIONARY: AtomicBool = AtomicBool::new(false);
/// When the limit was last read (unix seconds).
static READ_AT: AtomicI64 = AtomicI64::new(0);
const REREAD_EVERY_SECONDS: i64 = 10;

/// Whether to read the next session field by field.
pub fn expect_dictionary() -> bool {
    LAST_WAS_DICTIONARY.load(Ordering::Relaxed)
}

/// Notes the longest value of the session just read.
pub fn note_read(longest_value: usize) {
    let dictionary = longest_value > LISTPACK_VALUE_LIMIT.load(Ordering::Relaxed);
    if dictionary != expect_dictionary() {
        LAST_WAS_DICTIONARY.store(dictionary, Ordering::Relaxed);
    }
}

/// Reads the server's limit again when it is due (the scheduler calls it).
/// Where CONFIG is renamed away, the default stays.
pub fn refresh(ctx: &Context, now: i64) {
    if now - READ_AT.load(Ordering::Relaxed) < REREAD_EVERY_SECONDS {
        return;
    }
    READ_AT.store(now, Ordering::Relaxed);
    let get = RedisString::create(None, "GET");
    let name = RedisString::create(None, "hash-max-listpack-value");
    let Ok(reply) = crate::redis_call::run(ctx, c"CONFIG", &[&get, &name]) else {
        return;
    };
    let limit = reply
        .strings()
        .get(1)
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok());
    if let Some(limit) = limit {
        LISTPACK_VALUE_LIMIT.store(limit, Ordering::Relaxed);
    }
}
