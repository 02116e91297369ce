//! Which session hashes change while a listing runs in steps. On a master
//! every change of a session is the module's own (`Key::notify` records it
//! in change_log.rs). On a replica the changes arrive as replicated
//! commands, which only keyspace events reveal: the first long listing on a
//! replica subscribes this hook (Redis has no way to unsubscribe). The hook
//! then costs the replica one call per hash or key event, and records
//! nothing while no listing waits.

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicBool, Ordering};

use redis_module::{raw, Context, ContextFlags, NotifyEvent, RedisString};

use crate::api::call;
use crate::server::selected_db;

static SUBSCRIBED: AtomicBool = AtomicBool::new(false);

/// Makes sure the changes a listing must see are recorded: on a replica,
/// by subscribing the hook once.
pub fn watch(ctx: &Context) {
    if ctx.get_flags().contains(ContextFlags::MASTER) || SUBSCRIBED.swap(true, Ordering::Relaxed) {
        return;
    }
    let events =
        NotifyEvent::HASH | NotifyEvent::GENERIC | NotifyEvent::EVICTED | NotifyEvent::EXPIRED;
    // SAFETY: ctx is the command's; the callback lives as long as the module.
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
    if crate::change_log::on() {
        let ctx = Context::new(ctx);
        crate::change_log::note(selected_db(&ctx), RedisString::string_as_slice(key));
    }
    0
}
