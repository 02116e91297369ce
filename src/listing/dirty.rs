//! Which session hashes change while a listing runs in steps: a keyspace
//! event hook, so that the module's own writes, clients' writes and a
//! replica's replicated writes all count. It costs one atomic load per
//! event while no listing waits.

use std::os::raw::{c_char, c_int};

use redis_module::{raw, Context, NotifyEvent, RedisString};

use crate::api::call;
use crate::config;
use crate::keys::{self, Parsed};
use crate::server::selected_db;

/// Subscribes the hook at load.
pub fn subscribe(ctx: &Context) {
    let events =
        NotifyEvent::HASH | NotifyEvent::GENERIC | NotifyEvent::EVICTED | NotifyEvent::EXPIRED;
    // SAFETY: called from OnLoad with the module's context.
    unsafe {
        call!(RedisModule_SubscribeToKeyspaceEvents(ctx.get_raw(), events.bits(), Some(on_event)) or 0)
    };
}

extern "C" fn on_event(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    _event: *const c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    if !super::any_pending() {
        return 0;
    }
    let name = RedisString::string_as_slice(key);
    if let Some((app, Parsed::Session(token))) = keys::parse(config::prefix(), name) {
        let ctx = Context::new(ctx);
        super::touched(selected_db(&ctx), app, token);
    }
    0
}
