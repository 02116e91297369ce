//! Counters since start-up for `INFO sess`. Commands, the sweeper and the
//! keyspace scan all run on Redis's main thread; atomics only make the
//! statics shareable.

use std::sync::atomic::{AtomicI64, Ordering};

pub struct Counter {
    pub name: &'static std::ffi::CStr,
    value: AtomicI64,
}

impl Counter {
    const fn new(name: &'static std::ffi::CStr) -> Counter {
        Counter {
            name,
            value: AtomicI64::new(0),
        }
    }

    pub fn add(&self, n: i64) {
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

// Field names without the `sess_` that Redis prefixes to every field of the
// module's section.
pub static CREATED: Counter = Counter::new(c"created");
pub static READS: Counter = Counter::new(c"reads");
pub static READ_MISSES: Counter = Counter::new(c"read_misses");
pub static WRITES: Counter = Counter::new(c"writes");
pub static KILLED: Counter = Counter::new(c"killed");
pub static EXPIRED: Counter = Counter::new(c"expired");
pub static EVICTED: Counter = Counter::new(c"evicted");
pub static ROTATED: Counter = Counter::new(c"rotated");
pub static SWEEP_STEPS: Counter = Counter::new(c"sweep_steps");
/// Sessions moved from redis-sessions' keys (import/).
pub static IMPORTED: Counter = Counter::new(c"imported");

/// In the order INFO shows them.
pub const ALL: [&Counter; 10] = [
    &CREATED,
    &READS,
    &READ_MISSES,
    &WRITES,
    &KILLED,
    &EXPIRED,
    &EVICTED,
    &ROTATED,
    &SWEEP_STEPS,
    &IMPORTED,
];
