//! The maxmemory policy, checked at start-up and after every keyspace pass,
//! so that an operator learns from the log when the configured policy can
//! evict the module's keys.
//!
//! The module's keys carry no TTL, so `noeviction` and every `volatile-*`
//! policy never evict them (when memory is full, CREATE and SET are refused
//! instead). An `allkeys-*` policy may evict any key: a session hash (the user
//! is logged out) or an index (its sessions become orphans, which the keyspace
//! scan removes once they expire).

use std::sync::Mutex;

use redis_module::Context;

/// The policy last seen, so each change is logged once.
static LAST_SEEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub fn check(ctx: &Context) {
    let Some(policy) = current(ctx) else {
        return;
    };
    let mut last = LAST_SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if *last == policy {
        return;
    }
    let evicts = policy.starts_with(b"allkeys-");
    *last = policy;
    if evicts {
        ctx.log_warning(&format!(
            "maxmemory-policy {} can evict the module's keys: an evicted session logs its user out, and sessions whose index keys were evicted are found by the keyspace scan and removed once they expire. Use noeviction or a volatile-* policy to keep every session until it expires.",
            String::from_utf8_lossy(&last)
        ));
    }
}

/// `maxmemory_policy` from INFO memory.
fn current(ctx: &Context) -> Option<Vec<u8>> {
    crate::server_info::field(ctx, c"memory", c"maxmemory_policy")
}
