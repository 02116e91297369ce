//! The server's state, at the bottom of the module: the database a context
//! is on, whether writes are paused, and whether this is a cluster. Every
//! layer may ask; nothing here knows of sessions.

use std::sync::atomic::{AtomicBool, Ordering};

use redis_module::Context;

use crate::api::call;

static CLUSTER_MODE: AtomicBool = AtomicBool::new(false);

/// Whether this server runs in cluster mode (fixed for its lifetime; set
/// once at load by `cluster::start`).
pub fn cluster_mode() -> bool {
    CLUSTER_MODE.load(Ordering::Relaxed)
}

pub fn set_cluster_mode() {
    CLUSTER_MODE.store(true, Ordering::Relaxed);
}

/// True while the server forbids writes: CLIENT PAUSE WRITE or ALL, SHUTDOWN
/// waiting for lagging replicas, FAILOVER and CLUSTER FAILOVER. The dataset
/// must stay fixed then (a failover would lose what is written), and Redis
/// aborts if a write is propagated to a replica or the AOF meanwhile. This
/// call reports exactly the condition of that assertion (`areClientsPaused()`
/// on 7.0, the paused replica action from 7.2 on), and ends a pause whose
/// time is up.
pub fn writes_paused() -> bool {
    // SAFETY: takes no arguments and only reads the server's pause state.
    unsafe { call!(RedisModule_AvoidReplicaTraffic() or 0) != 0 }
}

/// Selects database `db` for a timer's context; false when the server has
/// no such database.
pub fn select_db(ctx: &Context, db: i32) -> bool {
    // SAFETY: a timer context may select any database; an out-of-range
    // number is refused with an error status.
    let status = unsafe {
        call!(RedisModule_SelectDb(ctx.get_raw(), db) or redis_module::raw::REDISMODULE_ERR as i32)
    };
    status == redis_module::raw::REDISMODULE_OK as i32
}

pub fn selected_db(ctx: &Context) -> i32 {
    // SAFETY: ctx is a live context; a notification's is selected on the
    // key's database, a command's on the client's.
    unsafe { call!(RedisModule_GetSelectedDb(ctx.get_raw()) or 0) }
}
