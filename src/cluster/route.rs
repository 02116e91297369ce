//! The command filter that gives every SESS.* command a real key to be
//! routed by (see `mod.rs`).
//!
//! `SESS.GET app token` becomes `SESS.GET <prefix>:{app}:<token> app token`
//! before Redis routes it. The inserted key is in the slot of `app` (its
//! hash tag), so a client that routes by `app` reaches the same node, and
//! `COMMAND INFO` still declares argument 1 as the key. The commands drop it
//! again (`client_args`) and redact it where it holds a token.

use redis_module::raw::RedisModuleCommandFilterCtx;
use redis_module::Context;

use crate::api::call;
use crate::args;
use crate::config;
use crate::keys::Keys;
use crate::redis_string::detached;

/// What a command's routing key is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RouteBy {
    /// `app token ...`: the session hash.
    Token,
    /// `app id ...`: the user's index.
    Id,
    /// `app ...`: the app's expiry index, which lists every user with a
    /// session (CREATE: so that a new user can be told from a user whose
    /// index is on the other node of a migration, see commands/create.rs).
    Expiry,
    /// `app ...`: the app's activity index.
    App,
}

pub fn register(ctx: &Context) -> Result<(), String> {
    // SAFETY: registering a filter during load; flags 0 (the module's own
    // RM_Call commands are filtered too, and none of them is SESS.*).
    let filter = unsafe {
        call!(RedisModule_RegisterCommandFilter(ctx.get_raw(), Some(route), 0)
            or std::ptr::null_mut())
    };
    if filter.is_null() {
        return Err("could not register the cluster command filter".into());
    }
    Ok(())
}

fn route_by(name: &[u8]) -> Option<RouteBy> {
    // Every other command pays this length test and one 5-byte compare.
    if !(8..=13).contains(&name.len()) || !name[..5].eq_ignore_ascii_case(b"sess.") {
        return None;
    }
    let by = match name[5..].to_ascii_lowercase().as_slice() {
        b"get" | b"peek" | b"set" | b"kill" | b"rotate" => RouteBy::Token,
        b"create" => RouteBy::Expiry,
        b"soid" | b"killsoid" => RouteBy::Id,
        b"killall" | b"soapp" | b"activity" => RouteBy::App,
        _ => return None,
    };
    Some(by)
}

/// The routing key for a command whose client arguments start with `app`
/// and `second`. A command whose app is invalid keeps the app as its key (it
/// fails with `ERR invalid app` wherever it lands); an invalid token or id
/// falls back to the activity index, in the app's slot all the same.
fn routing_key(by: RouteBy, app: &[u8], second: Option<&[u8]>) -> Vec<u8> {
    let Ok(app) = args::app(app) else {
        return app.to_vec();
    };
    let keys = Keys::new(config::prefix(), app);
    let name = match (by, second) {
        (RouteBy::Token, Some(token)) if args::token(token).is_ok() => keys.session(token),
        (RouteBy::Id, Some(id)) if args::id(id).is_ok() => keys.user_sessions(id),
        (RouteBy::Expiry, _) => keys.expiry(),
        _ => keys.activity(),
    };
    name.to_vec()
}

extern "C" fn route(fctx: *mut RedisModuleCommandFilterCtx) {
    // SAFETY (all calls below): fctx is the live filter context Redis
    // passes; argument strings are only read while the filter runs.
    let argc = unsafe { call!(RedisModule_CommandFilterArgsCount(fctx) or 0) };
    if argc < 2 {
        return; // no app: nothing to route by, the command reports the arity
    }
    let Some(by) = arg(fctx, 0).and_then(route_by) else {
        return;
    };
    // Redis 7.0 runs filters again on a command it re-processes after a
    // client pause: a command that already has its key is left alone.
    if argc >= 3 {
        if let (Some(first), Some(app)) = (arg(fctx, 1), arg(fctx, 2)) {
            if first == routing_key(by, app, arg(fctx, 3)).as_slice() {
                return;
            }
        }
    }
    let Some(app) = arg(fctx, 1) else {
        return;
    };
    let key = routing_key(by, app, arg(fctx, 2));
    let string = detached(&key);
    if !string.is_null() {
        // Redis takes ownership of the inserted string.
        unsafe { call!(RedisModule_CommandFilterArgInsert(fctx, 1, string) or 0) };
    }
}

/// Argument `position` of the filtered command, as bytes.
fn arg<'a>(fctx: *mut RedisModuleCommandFilterCtx, position: i32) -> Option<&'a [u8]> {
    // SAFETY: see `route`; a position past the end gives NULL.
    unsafe {
        let string = call!(RedisModule_CommandFilterArgGet(fctx, position) or std::ptr::null_mut());
        if string.is_null() {
            return None;
        }
        let mut len = 0;
        let ptr = call!(RedisModule_StringPtrLen(string, &mut len) or std::ptr::null());
        (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr.cast::<u8>(), len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sess_commands_are_routed() {
        assert_eq!(route_by(b"SESS.GET"), Some(RouteBy::Token));
        assert_eq!(route_by(b"sess.Rotate"), Some(RouteBy::Token));
        assert_eq!(route_by(b"sess.killsoid"), Some(RouteBy::Id));
        assert_eq!(route_by(b"SESS.CREATE"), Some(RouteBy::Expiry));
        assert_eq!(route_by(b"sess.activity"), Some(RouteBy::App));
        assert_eq!(route_by(b"sess.other"), None);
        assert_eq!(route_by(b"get"), None);
        assert_eq!(route_by(b"sessxget"), None);
    }
}
