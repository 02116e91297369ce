//! One file per SESS.* command. Each has a `parse` step (argument bytes to a
//! struct, pure and unit-tested) and a `run` step (the struct applied to the
//! app's keys, then the reply). A command checks every key it will write
//! before its first write, so a failing command changes nothing.

use redis_module::{RedisError, RedisString};

pub mod activity;
pub mod create;
pub mod get;
pub mod kill;
pub mod killall;
pub mod killsoid;
pub mod set;
pub mod soapp;
pub mod soid;

/// The arguments after the command name, checked against the command's
/// argument count.
pub fn arguments(args: &[RedisString], min: usize, max: usize) -> Result<Vec<&[u8]>, RedisError> {
    let rest = args.get(1..).unwrap_or_default();
    if (min..=max).contains(&rest.len()) {
        Ok(rest.iter().map(RedisString::as_slice).collect())
    } else {
        Err(RedisError::WrongArity)
    }
}
