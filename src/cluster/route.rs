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
use crate::keys::{KeyName, Keys};
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

/// Which commands are routed, and by what.
const ROUTED: [(&[u8], RouteBy); 13] = [
    (b"sess.get", RouteBy::Token),
    (b"sess.peek", RouteBy::Token),
    (b"sess.set", RouteBy::Token),
    (b"sess.kill", RouteBy::Token),
    (b"sess.rotate", RouteBy::Token),
    (b"sess.assign", RouteBy::Token),
    (b"sess.create", RouteBy::Expiry),
    (b"sess.soid", RouteBy::Id),
    (b"sess.killsoid", RouteBy::Id),
    (b"sess.killall", RouteBy::App),
    (b"sess.soapp", RouteBy::App),
    (b"sess.activity", RouteBy::App),
    (b"sess.import", RouteBy::App),
];

fn route_by(name: &[u8]) -> Option<RouteBy> {
    // Every other command pays this length test and one 5-byte compare.
    if !(8..=13).contains(&name.len()) || !name[..5].eq_ignore_ascii_case(b"sess.") {
        return None;
    }
    ROUTED
        .iter()
        .find(|(routed, _)| routed.eq_ignore_ascii_case(name))
        .map(|(_, by)| *by)
}

/// A routing key: a key of the app, or the app argument itself when it is
/// not a valid app (the command then fails with `ERR invalid app` wherever
/// it lands). Built on the stack for each command and used at once, so the
/// size of the key variant costs nothing (boxing it would cost a heap
/// allocation per command).
#[allow(clippy::large_enum_variant)]
enum Route<'a> {
    Key(KeyName),
    InvalidApp(&'a [u8]),
}

impl Route<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Route::Key(name) => name,
            Route::InvalidApp(app) => app,
        }
    }
}

/// The routing key for a command whose client arguments start with `app`
/// and `second`. An invalid token or id falls back to the activity index,
/// in the app's slot all the same.
fn routing_key<'a>(by: RouteBy, app: &'a [u8], second: Option<&[u8]>) -> Route<'a> {
    let Ok(app) = args::app(app) else {
        return Route::InvalidApp(app);
    };
    let keys = Keys::new(config::prefix(), app);
    Route::Key(match (by, second) {
        (RouteBy::Token, Some(token)) if args::token(token).is_ok() => keys.session(token),
        (RouteBy::Id, Some(id)) if args::id(id).is_ok() => keys.user_sessions(id),
        (RouteBy::Expiry, _) => keys.expiry(),
        _ => keys.activity(),
    })
}

/// The key to put in front of a command whose arguments after the name
/// start with `first`, `second`, `third`; None when there is no argument or
/// the command already has its key. Redis 7.0 runs filters again on a
/// command it re-processes after a client pause, so a command filtered once
/// is recognised: a valid app is never a routing key (keys hold ':' and
/// '{'), so only a first argument that is not a valid app needs the full
/// comparison.
fn key_to_insert<'a>(
    by: RouteBy,
    first: Option<&'a [u8]>,
    second: Option<&'a [u8]>,
    third: Option<&'a [u8]>,
) -> Option<Route<'a>> {
    let first = first?;
    if args::app(first).is_err() {
        if let Some(app) = second {
            if first == routing_key(by, app, third).bytes() {
                return None;
            }
        }
    }
    Some(routing_key(by, first, second))
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
    let Some(key) = key_to_insert(by, arg(fctx, 1), arg(fctx, 2), arg(fctx, 3)) else {
        return;
    };
    let string = detached(key.bytes());
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

    /// Applies the filter's decision to `args` (after the command name).
    fn filtered(by: RouteBy, args: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let get = |i: usize| args.get(i).copied();
        if let Some(key) = key_to_insert(by, get(0), get(1), get(2)) {
            out.insert(0, key.bytes().to_vec());
        }
        out
    }

    #[test]
    fn the_routing_key_goes_in_front_once() {
        let token = [b'T'; 64];
        let once = filtered(RouteBy::Token, &[b"shop", &token]);
        let mut session = b"rs:{shop}:".to_vec();
        session.extend_from_slice(&token);
        assert_eq!(once, vec![session, b"shop".to_vec(), token.to_vec()]);
        let as_slices: Vec<&[u8]> = once.iter().map(Vec::as_slice).collect();
        assert_eq!(filtered(RouteBy::Token, &as_slices), once, "filtered twice");

        let once = filtered(RouteBy::Id, &[b"shop", b"alice:{x}"]);
        assert_eq!(once[0], b"rs:{shop}:us:alice:{x}");
        let as_slices: Vec<&[u8]> = once.iter().map(Vec::as_slice).collect();
        assert_eq!(filtered(RouteBy::Id, &as_slices), once);

        assert_eq!(
            filtered(RouteBy::Expiry, &[b"shop", b"u", b"ip"])[0],
            b"rs:{shop}:_expiry"
        );
        assert_eq!(
            filtered(RouteBy::App, &[b"shop", b"60"])[0],
            b"rs:{shop}:_users"
        );
        // A bad token still routes to the app's slot.
        assert_eq!(
            filtered(RouteBy::Token, &[b"shop", b"short"])[0],
            b"rs:{shop}:_users"
        );
    }

    #[test]
    fn an_invalid_app_is_its_own_key_once() {
        let once = filtered(RouteBy::Token, &[b"bad!", b"tok"]);
        assert_eq!(
            once,
            vec![b"bad!".to_vec(), b"bad!".to_vec(), b"tok".to_vec()]
        );
        let as_slices: Vec<&[u8]> = once.iter().map(Vec::as_slice).collect();
        assert_eq!(filtered(RouteBy::Token, &as_slices), once);
        assert!(key_to_insert(RouteBy::App, None, None, None).is_none());
    }

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
