//! One file per SESS.* command. Each has a `parse` step (argument bytes to a
//! struct, pure and unit-tested) and a `run` step (the struct applied to the
//! app's keys, then the reply). A command checks every key it will write
//! before its first write, so a failing command changes nothing.

use redis_module::{Context, RedisError, RedisString};

use crate::api::call;
use crate::args;
use crate::inline_vec::InlineVec;

pub mod activity;
pub mod assign;
pub mod create;
pub mod get;
pub mod import;
pub mod kill;
pub mod killall;
pub mod killsoid;
pub mod peek;
pub mod rotate;
pub mod set;
pub mod soapp;
pub mod soid;

/// The client's arguments after the command name (in a cluster, without
/// the routing key, see cluster/route.rs), checked against the command's
/// argument count.
/// On the stack up to 12 (every command's usual count), so that reading
/// them allocates nothing.
pub fn arguments(
    args: &[RedisString],
    min: usize,
    max: usize,
) -> Result<InlineVec<&[u8], 12>, RedisError> {
    let rest = crate::cluster::client_args(args);
    if !(min..=max).contains(&rest.len()) {
        return Err(RedisError::WrongArity);
    }
    let mut bytes = InlineVec::new(&[][..]);
    for arg in rest {
        bytes.extend_from_slice(&[arg.as_slice()]);
    }
    Ok(bytes)
}

/// The `app token` pair that GET, PEEK and KILL take.
pub struct AppToken<'a> {
    pub app: &'a [u8],
    pub token: &'a [u8],
}

impl<'a> AppToken<'a> {
    /// Checks the app first, then the token.
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        Ok(AppToken {
            app: args::app(args[0])?,
            token: args::token(args[1])?,
        })
    }
}

/// Replaces the client's arguments at `positions` (1 is the app) with
/// "(redacted)" in what SLOWLOG and MONITOR show, so an operator's tools
/// never display a live token. In a cluster the routing key in front is
/// redacted too when it is made of the token (position 2, `app token`).
/// Done first, before any check can fail.
pub fn redact(ctx: &Context, args: &[RedisString], positions: &[usize]) {
    let route_holds_token = crate::cluster::enabled() && positions.contains(&2);
    let received = positions
        .iter()
        .map(|&p| crate::cluster::received_position(p))
        .chain(route_holds_token.then_some(1));
    for position in received.filter(|&p| p < args.len()) {
        // SAFETY: ctx is the live context of the running command; Redis
        // ignores positions it does not have.
        unsafe {
            call!(RedisModule_RedactClientCommandArgument(ctx.get_raw(), position as i32) or 0)
        };
    }
}
