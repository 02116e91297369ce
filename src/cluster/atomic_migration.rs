//! Atomic slot migration of Valkey 9 (`CLUSTER MIGRATESLOTS`).
//!
//! Valkey refuses atomic migrations cluster-wide unless every loaded module
//! declares it understands them. Here is why this module does: the source
//! keeps serving the slot and streams every write, the module's effects
//! included (they stay in the app's slot), to the target, where the keys
//! stay hidden until the hand-over. Commands therefore need nothing special.
//! The sweeper must not act on the keys meanwhile: on the target they are
//! not yet owned (its routing check already refuses them), and on the source
//! they are being copied, so the slots named by the migration events are
//! left alone from the start of a migration to its end or abort.
//!
//! Redis 8.4 has its own atomic migration with other event numbers; no
//! binary of it could be obtained here to test against, so on Redis the
//! module neither declares nor subscribes anything (see docs/cluster.md).

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use redis_module::{raw, Context};

use crate::api::call;
use crate::redis_string::from_bytes;

/// VALKEYMODULE_OPTIONS_HANDLE_ATOMIC_SLOT_MIGRATION.
const HANDLE_ATOMIC_SLOT_MIGRATION: c_int = 1 << 5;
/// ValkeyModuleEvent_AtomicSlotMigration.
const EVENT_ATOMIC_SLOT_MIGRATION: u64 = 19;
const IMPORT_STARTED: u64 = 0;
const EXPORT_STARTED: u64 = 1;

/// ValkeyModuleSlotRange.
#[repr(C)]
struct SlotRange {
    start: c_int,
    end: c_int,
}

/// ValkeyModuleAtomicSlotMigrationInfoV1.
#[repr(C)]
struct MigrationInfo {
    version: u64,
    job_name: [c_char; 41],
    slot_ranges: *const SlotRange,
    num_slot_ranges: u32,
}

/// A migration under way: its job name and its slot ranges (inclusive).
struct Job {
    name: Vec<u8>,
    slots: Vec<(i32, i32)>,
}

static MOVING: Mutex<Vec<Job>> = Mutex::new(Vec::new());

/// The module option that declares atomic slot migration handled: only on
/// Valkey, where the bit has that meaning.
pub fn option(ctx: &Context) -> c_int {
    if crate::server_info::is_valkey(ctx) {
        HANDLE_ATOMIC_SLOT_MIGRATION
    } else {
        0
    }
}

pub fn subscribe(ctx: &Context) {
    if !crate::server_info::is_valkey(ctx) {
        return;
    }
    let event = raw::RedisModuleEvent {
        id: EVENT_ATOMIC_SLOT_MIGRATION,
        dataver: 1,
    };
    // SAFETY: subscribing during load; Valkey before 9.0 refuses an unknown
    // event with an error status, which leaves nothing to follow.
    let status = unsafe {
        call!(RedisModule_SubscribeToServerEvent(ctx.get_raw(), event, Some(on_event))
            or raw::REDISMODULE_ERR as c_int)
    };
    if status != raw::REDISMODULE_OK as c_int {
        ctx.log_notice("this Valkey has no atomic slot migration events");
    }
}

extern "C" fn on_event(
    _ctx: *mut raw::RedisModuleCtx,
    _event: raw::RedisModuleEvent,
    subevent: u64,
    data: *mut c_void,
) {
    if data.is_null() {
        return;
    }
    // SAFETY: for this event Valkey passes its migration info, valid for the
    // duration of the callback.
    let info = unsafe { &*(data as *const MigrationInfo) };
    let name_end = info.job_name.iter().position(|c| *c == 0).unwrap_or(41);
    let job: Vec<u8> = info.job_name[..name_end].iter().map(|c| *c as u8).collect();
    let mut moving = MOVING.lock().unwrap_or_else(|p| p.into_inner());
    moving.retain(|moving| moving.name != job);
    if subevent == IMPORT_STARTED || subevent == EXPORT_STARTED {
        let ranges = if info.version != 1 || info.slot_ranges.is_null() {
            // A layout this module does not know: every slot counts as
            // moving until the job ends, which only pauses the sweeper.
            vec![(0, 16383)]
        } else {
            // SAFETY: Valkey passes num_slot_ranges ranges at slot_ranges.
            unsafe { std::slice::from_raw_parts(info.slot_ranges, info.num_slot_ranges as usize) }
                .iter()
                .map(|range| (range.start, range.end))
                .collect()
        };
        moving.push(Job {
            name: job,
            slots: ranges,
        });
    }
    // Any other sub-event (aborted, completed) ends the job: removed above.
}

/// Whether the app's slot is part of an atomic migration under way.
pub fn in_progress(ctx: &Context, app: &[u8]) -> bool {
    let moving = MOVING.lock().unwrap_or_else(|p| p.into_inner());
    if moving.is_empty() {
        return false;
    }
    let slot = slot_of(ctx, app);
    moving
        .iter()
        .flat_map(|job| &job.slots)
        .any(|(start, end)| (*start..=*end).contains(&slot))
}

/// The cluster slot of the app's keys (the slot of the app name).
fn slot_of(ctx: &Context, app: &[u8]) -> i32 {
    let name = from_bytes(ctx.get_raw(), app);
    // SAFETY: a live string; the call only hashes it.
    unsafe { call!(RedisModule_ClusterKeySlot(name.inner) or 0) as i32 }
}
