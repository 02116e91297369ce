//! `INFO sess`: what the sweeper is doing, for operators and monitoring.
//! Redis prefixes every field with the module name (`apps` → `sess_apps`).
//!
//! - counters since start-up (see `stats.rs`): `sess_created`, `sess_reads`
//!   (GET hits), `sess_read_misses`, `sess_writes` (SET hits), `sess_killed`,
//!   `sess_expired`, `sess_evicted`, `sess_rotated`, `sess_sweep_steps`;
//! - `sess_apps`: apps the sweeper knows of (on a replica: apps whose index
//!   keys exist; it never grows beyond the data).
//! - `sess_sweep_backlog`: 1 while the sweeper is behind (stepping every
//!   millisecond), else 0.

use std::os::raw::{c_int, c_longlong};

use redis_module::{raw, Context};

use crate::api::call;
use crate::import::background as import;
use crate::stats;
use crate::{registry, scheduler};

pub fn register(ctx: &Context) {
    // SAFETY: called from OnLoad with the module's context.
    unsafe { call!(RedisModule_RegisterInfoFunc(ctx.get_raw(), Some(section)) or 0) };
}

extern "C" fn section(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    let counters = stats::ALL.map(|counter| (counter.name, counter.get()));
    let gauges = [
        (c"apps", registry::len() as c_longlong),
        (c"sweep_backlog", c_longlong::from(scheduler::behind())),
        (c"import_remaining", import::remaining() as c_longlong),
        (c"import_done", c_longlong::from(import::done())),
    ];
    // SAFETY: ctx is the live info context; names are NUL-terminated. An
    // empty section name makes the section carry the module's name.
    unsafe {
        call!(RedisModule_InfoAddSection(ctx, c"".as_ptr()) or 0);
        for (name, value) in counters.into_iter().chain(gauges) {
            call!(RedisModule_InfoAddFieldLongLong(ctx, name.as_ptr(), value) or 0);
        }
    }
}
