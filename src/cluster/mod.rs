//! Redis Cluster: keeping every command correct while an app's slot moves.
//!
//! The contract declares `app` as each command's key, but `app` itself is
//! never a Redis key. During a legacy slot migration (`CLUSTER SETSLOT ...
//! MIGRATING` + `MIGRATE`) Redis decides where a command runs by whether its
//! declared keys exist on the node, so with `app` every command would be
//! sent to the importing node by `-ASK`, where half of the app's keys are
//! not yet present. Two parts fix that:
//!
//! - `route.rs`: a command filter, registered only in cluster mode, puts the
//!   command's real key in front of its arguments (the session hash for
//!   token commands, the user's index for SOID and KILLSOID, the expiry
//!   index for CREATE, the activity index for app commands), so Redis
//!   redirects on a key that exists or not.
//! - `guard.rs`: once a command knows every key it will read or write, any
//!   of them missing on this node may be on the other side of a migration;
//!   the command then asks Redis's own routing (an `RM_Call` goes through
//!   the same check as a client's command) whether the slot is settled, and
//!   answers `-TRYAGAIN` when it is not, as Redis does for its own
//!   multi-key commands. The sweeper asks the same before touching an app.
//!
//! Atomic slot migration (Valkey 9) is followed from its server events in
//! `atomic_migration.rs`.

mod atomic_migration;
mod guard;
mod route;

use redis_module::{Context, ContextFlags, RedisString};

pub use atomic_migration::option as atomic_migration_option;
pub use guard::{need, need_sessions, settle, settled};

/// Whether this server runs in cluster mode (fixed for its lifetime).
pub fn enabled() -> bool {
    crate::server::cluster_mode()
}

/// Registers what cluster mode needs. Outside a cluster nothing is
/// registered, so a standalone server pays nothing.
pub fn start(ctx: &Context) -> Result<(), String> {
    if !ctx.get_flags().contains(ContextFlags::CLUSTER) {
        return Ok(());
    }
    crate::server::set_cluster_mode();
    route::register(ctx)?;
    atomic_migration::subscribe(ctx);
    Ok(())
}

/// The arguments a client gave, after the command name: in cluster mode
/// without the routing key the filter put in front of them.
pub fn client_args(args: &[RedisString]) -> &[RedisString] {
    let skip = if enabled() && args.len() >= 2 { 2 } else { 1 };
    args.get(skip..).unwrap_or_default()
}

/// Where the client's argument `position` (1 = the first after the command
/// name) is in the arguments the command received.
pub fn received_position(position: usize) -> usize {
    if enabled() {
        position + 1
    } else {
        position
    }
}
