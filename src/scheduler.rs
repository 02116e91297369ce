//! The scheduler: one timer drives all background work, each step bounded.
//!
//! A step, on a master that is not loading and accepts writes:
//! 1. answers the clients whose big kill this server stopped freeing
//!    (graves/waiting.rs);
//! 2. runs a slice of the keyspace scan (expiry/scan.rs);
//! 3. visits the apps that are due (registry.rs): frees their graveyards
//!    first (graves/reaper.rs), since clients wait for them, then removes
//!    expired sessions and stale activity (expiry/sweep.rs);
//! 4. moves sessions in from redis-sessions' keys (import/background.rs),
//!    while `sess.import-namespace` is set.
//!
//! (A long listing, whose client waits, is a command's continuation rather
//! than background work: listing/ steps it on its own timer.)
//!
//! At most `sess.sweep-batch` sessions a step; steps run every
//! `sess.sweep-interval` ms, or 1 ms apart while a backlog remains, so the
//! server keeps serving clients between steps. Only a master writes;
//! replicas receive the effects. Redis refuses `MODULE UNLOAD` while a timer
//! is pending, so the module stays loaded until the server stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis_module::{Context, ContextFlags};

use crate::cluster;
use crate::config::{SWEEP_BATCH, SWEEP_INTERVAL_MS};
use crate::expiry::{memory_policy, scan, sweep};
use crate::import::background as import;
use crate::redis_key::{Key, Kind};
use crate::registry;
use crate::server::{select_db, writes_paused};
use crate::stats;
use crate::store::Store;

/// Starts the periodic steps.
pub fn start(ctx: &Context) {
    memory_policy::check(ctx);
    schedule(ctx, interval());
}

/// Whether the last step ran out of budget (INFO sess).
pub fn behind() -> bool {
    BEHIND.load(Ordering::Relaxed)
}

static BEHIND: AtomicBool = AtomicBool::new(false);

fn interval() -> Duration {
    Duration::from_millis(SWEEP_INTERVAL_MS.get().max(1) as u64)
}

fn schedule(ctx: &Context, delay: Duration) {
    ctx.create_timer(delay, tick, ());
}

fn tick(ctx: &Context, _: ()) {
    let backlog = step(ctx);
    BEHIND.store(backlog, Ordering::Relaxed);
    let delay = if backlog {
        Duration::from_millis(1)
    } else {
        interval()
    };
    schedule(ctx, delay);
}

/// Runs one step. Returns true when it stopped for lack of budget, so the
/// next step comes right away.
fn step(ctx: &Context) -> bool {
    let flags = ctx.get_flags();
    let sweeping = flags.contains(ContextFlags::MASTER) && !flags.contains(ContextFlags::LOADING);
    registry::set_sweeping(sweeping);
    if flags.contains(ContextFlags::LOADING) {
        return false;
    }
    crate::hash_layout::refresh(ctx, crate::clock::now_millis().div_euclid(1000));
    let budget = SWEEP_BATCH.get().max(1) as usize;
    crate::graves::waiting::abandon_lost(ctx);

    if !sweeping {
        prune_registry(ctx, budget);
        return false;
    }
    if writes_paused() {
        return false;
    }
    stats::SWEEP_STEPS.add(1);
    let now_ms = crate::clock::now_millis();
    let discovering = import::discovering();
    if scan::step(ctx, now_ms, budget, discovering) {
        memory_policy::check(ctx);
        import::pass_ended();
    }
    let mut budget = budget;
    let now = now_ms.div_euclid(1000);
    for (app, state) in registry::due(now) {
        select_db(ctx, app.0);
        let store = Store::new(ctx, &app.1);
        if !cluster::settled(ctx, &app.1) {
            // Its slot is moving or not ours: hands off until it settles,
            // and forgotten once its keys have left this node.
            if !has_indexes(&store) {
                registry::forget(&app);
            }
            continue;
        }
        // Big kills first: their clients are waiting.
        let reaped = crate::graves::reaper::step(&store, budget);
        budget -= reaped.used;
        let Some(state) = sweep::visit(&store, state, &mut budget, reaped.more) else {
            registry::forget(&app);
            continue;
        };
        registry::update(&app, state);
        if budget == 0 {
            registry::resume_at(Some(app));
            return true;
        }
    }
    registry::resume_at(None);
    import::step(ctx) | discovering
}

fn has_indexes(store: &Store) -> bool {
    [
        store.keys.expiry(),
        store.keys.activity(),
        store.keys.graves(),
    ]
    .iter()
    .any(|name| Key::open(store.ctx(), name, false).kind() != Kind::Empty)
}

/// On a replica: forgets apps whose index keys are gone (the master deleted
/// them), checking a few apps a step read-only, so the registry stays as
/// large as the data and no larger. A master forgets apps as it visits them.
fn prune_registry(ctx: &Context, budget: usize) {
    for app in registry::next_to_prune(budget.div_ceil(100)) {
        select_db(ctx, app.0);
        let keys = crate::keys::Keys::new(crate::config::prefix(), &app.1);
        let gone = |name: &[u8]| Key::open(ctx, name, false).kind() == Kind::Empty;
        if gone(&keys.expiry()) && gone(&keys.activity()) && gone(&keys.graves()) {
            registry::forget(&app);
        }
    }
}
