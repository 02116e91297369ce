//! A Redis module that keeps user sessions: the `SESS.*` commands.
//!
//! This file is the table of contents: what is registered and how. Every
//! command declares its `app` argument as its only key (first 1, last 1,
//! step 1), so cluster clients route it to the slot of the app, where all of
//! the app's keys live (see `keys.rs`). In cluster mode a command filter puts
//! the command's real key in that position before Redis routes it, so slot
//! migrations see real keys (see `cluster/`).
//!
//! Flags: CREATE and SET may grow memory and are refused under OOM
//! (`deny-oom`); GET only rewrites counters, so sessions stay readable when
//! the server is full. PEEK, SOID, SOAPP and ACTIVITY are read-only and also
//! run on replicas.
//!
//! Layers, top to bottom; a file uses only the layers below it (and its
//! neighbours in its own layer), never one above:
//!
//! 1. `lib.rs`: registration.
//! 2. `commands/`: one file per command, parse then run.
//! 3. `scheduler.rs`: the one timer that drives all background work, in
//!    bounded steps: the keyspace scan and expiry (`expiry/`), the freeing of
//!    big kills (`graves/reaper.rs`), the background import
//!    (`import/background.rs`).
//! 4. Services: `listing/` (SOID and SOAPP, in steps on their own timer when
//!    long), `expiry/` (sweep of an app, keyspace scan, memory policy),
//!    `graves/` (bury, adopt, wait, reap), `import/` (the Node library's
//!    layout, and its background move), `cluster/` (routing filter, slot
//!    guard), `kill_record.rs` (kill epochs).
//! 5. `store.rs`: one app's keys: reads, writes with their effects, removal
//!    loops, and the liveness rule every command and service asks.
//! 6. Primitives: `registry.rs` (the apps the scheduler knows; commands post
//!    notices to it), `keys.rs`, `redis_key.rs`, `session.rs`, `data.rs`,
//!    `args.rs`, `reply.rs` (with `view.rs`, `session_json.rs`), `config.rs`, `server.rs` (database selection,
//!    paused writes, cluster mode), `change_log.rs` (keys written while a
//!    listing waits), `hash_layout.rs` (how to read a session hash), `stats.rs`, and the small helpers.

mod activity_score;
mod api;
mod args;
mod change_log;
mod clock;
mod cluster;
mod command_docs;
mod commands;
mod config;
mod data;
mod error;
mod expiry;
mod graves;
mod hash_layout;
mod import;
mod info;
mod inline_vec;
mod keys;
mod kill_record;
mod listing;
mod panic_hook;
mod redis_call;
mod redis_key;
mod redis_string;
mod registry;
mod reply;
mod scheduler;
mod server;
mod server_info;
mod session;
mod session_json;
mod stats;
mod store;
mod text_setting;
mod token;
mod view;

use redis_module::{redis_module, Context, RedisString, Status};

use commands::{
    activity, assign, create, get, kill, killall, killsoid, peek, rotate, set, soapp, soid,
};

// Unit tests run outside Redis, where the Redis allocator does not exist.
#[cfg(not(test))]
type Allocator = redis_module::alloc::RedisAlloc;
#[cfg(not(test))]
const ALLOCATOR: Allocator = redis_module::alloc::RedisAlloc;
#[cfg(test)]
type Allocator = std::alloc::System;
#[cfg(test)]
const ALLOCATOR: Allocator = std::alloc::System;

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    panic_hook::install();
    let missing = api::missing();
    if !missing.is_empty() {
        ctx.log_warning(&format!(
            "refusing to load: this Redis lacks {} (the module needs Redis 7.0 or newer)",
            missing.join(", ")
        ));
        return Status::Err;
    }
    set_module_options(ctx);
    let started = config::load(ctx, args)
        .and_then(|()| cluster::start(ctx))
        .and_then(|()| config::check_in_cluster());
    if let Err(problem) = started {
        ctx.log_warning(&format!("refusing to load: {problem}"));
        return Status::Err;
    }
    info::register(ctx);
    command_docs::register(ctx);
    listing::subscribe(ctx);
    scheduler::start(ctx);
    ctx.log_notice(&format!("ready: {}", config::describe()));
    Status::Ok
}

fn set_module_options(ctx: &Context) {
    let options = redis_key::EXPLICIT_SIGNALS | cluster::atomic_migration_option(ctx);
    // SAFETY: called from OnLoad with the module's context.
    unsafe { api::call!(RedisModule_SetModuleOptions(ctx.get_raw(), options) or ()) };
}

redis_module! {
    name: "sess",
    version: 100,
    allocator: (Allocator, ALLOCATOR),
    data_types: [],
    init: init,
    commands: [
        // name            handler            flags                    keys     ACL
        ["sess.create",   create::command,   "write deny-oom fast",   1, 1, 1, ""],
        ["sess.get",      get::command,      "write fast",            1, 1, 1, ""],
        ["sess.peek",     peek::command,     "readonly fast",         1, 1, 1, ""],
        ["sess.set",      set::command,      "write deny-oom fast",   1, 1, 1, ""],
        ["sess.rotate",   rotate::command,   "write deny-oom fast",   1, 1, 1, ""],
        ["sess.assign",   assign::command,   "write deny-oom fast",   1, 1, 1, ""],
        ["sess.kill",     kill::command,     "write fast",            1, 1, 1, ""],
        ["sess.killall",  killall::command,  "write",                 1, 1, 1, ""],
        ["sess.killsoid", killsoid::command, "write",                 1, 1, 1, ""],
        ["sess.soid",     soid::command,     "readonly",              1, 1, 1, ""],
        ["sess.soapp",    soapp::command,    "readonly",              1, 1, 1, ""],
        ["sess.activity", activity::command, "readonly fast",         1, 1, 1, ""],
        ["sess.import",   commands::import::command, "write deny-oom",    1, 1, 1, ""],
    ],
    event_handlers: [
        [@NEW @LOADED: registry::on_key_event],
    ],
}
