//! The clients waiting for their big kill to be freed, and the count each
//! will be replied.
//!
//! Kept in memory: a waiting client exists only in this process. A
//! graveyard that outlives it (a restart, a failover) is still freed, with
//! nobody to tell.

use std::sync::Mutex;

use redis_module::{
    BlockedClient, Context, ContextFlags, RedisError, RedisValue, ThreadSafeContext,
};

use crate::keys::Keys;
use crate::redis_key::Key;
use crate::store::Store;

/// One graveyard someone waits for, directly or through a KILLALL whose
/// user index CREATE moved to a graveyard of its own.
struct Job {
    db: i32,
    app: Vec<u8>,
    member: Vec<u8>,
    /// The waiting client; None for an adopted graveyard.
    client: Option<BlockedClient>,
    /// For an adopted graveyard, the member of the KILLALL's.
    parent: Option<Vec<u8>>,
    /// Sessions freed so far that were live at the kill.
    live: i64,
    /// Graveyards still to free before the reply: this one and the adopted.
    pending: usize,
}

static JOBS: Mutex<Vec<Job>> = Mutex::new(Vec::new());

fn with<T>(f: impl FnOnce(&mut Vec<Job>) -> T) -> T {
    f(&mut JOBS.lock().unwrap_or_else(|p| p.into_inner()))
}

fn position(jobs: &[Job], db: i32, app: &[u8], member: &[u8]) -> Option<usize> {
    jobs.iter()
        .position(|j| j.db == db && j.app == app && j.member == member)
}

/// Blocks the calling client until the graveyard `member` is freed.
pub fn wait(store: &Store, member: &[u8]) {
    let client = store.ctx().block_client();
    with(|jobs| {
        jobs.push(Job {
            db: db(store.ctx()),
            app: store.keys.app().to_vec(),
            member: member.to_vec(),
            client: Some(client),
            parent: None,
            live: 0,
            pending: 1,
        })
    });
}

/// Makes the graveyard `child` part of `parent`'s kill, if someone waits
/// for that one.
pub fn adopt(store: &Store, child: &[u8], parent: &[u8]) {
    let (db, app) = (db(store.ctx()), store.keys.app());
    with(|jobs| {
        let Some(at) = position(jobs, db, app, parent) else {
            return;
        };
        jobs[at].pending += 1;
        jobs.push(Job {
            db,
            app: app.to_vec(),
            member: child.to_vec(),
            client: None,
            parent: Some(parent.to_vec()),
            live: 0,
            pending: 1,
        });
    });
}

/// Adds `n` sessions live at the kill to the count of `member`'s kill.
pub fn count(store: &Store, member: &[u8], n: i64) {
    let (db, app) = (db(store.ctx()), store.keys.app());
    with(|jobs| {
        let mut at = position(jobs, db, app, member);
        while let Some(i) = at {
            match jobs[i].parent.clone() {
                Some(parent) => at = position(jobs, db, app, &parent),
                None => {
                    jobs[i].live += n;
                    return;
                }
            }
        }
    });
}

/// The graveyard `member` is gone: replies to its client once nothing it
/// adopted is left.
pub fn freed(store: &Store, member: &[u8]) {
    let (db, app) = (db(store.ctx()), store.keys.app());
    let done = with(|jobs| {
        let mut done = Vec::new();
        let mut next = Some(member.to_vec());
        while let Some(member) = next.take() {
            let Some(at) = position(jobs, db, app, &member) else {
                break;
            };
            jobs[at].pending -= 1;
            if jobs[at].pending == 0 {
                let job = jobs.swap_remove(at);
                next = job.parent.clone();
                done.push(job);
            }
        }
        done
    });
    for job in done {
        let live = job.live;
        reply(job, Ok(RedisValue::Integer(live)));
    }
}

/// Each sweeper tick: a client whose graveyard this node no longer frees
/// (it became a replica, or `_graves` was deleted or moved to another node)
/// gets an error rather than waiting forever.
pub fn abandon_lost(ctx: &Context) {
    let master = ctx.get_flags().contains(ContextFlags::MASTER);
    let lost = with(|jobs| {
        let mut lost = Vec::new();
        let mut i = 0;
        while i < jobs.len() {
            if jobs[i].client.is_some() && (!master || !family_listed(ctx, jobs, i)) {
                lost.push(jobs.swap_remove(i));
            } else {
                i += 1;
            }
        }
        // An adopted graveyard counts for its parent's kill only: with the
        // parent's client gone, nobody waits for it (it is still freed).
        let orphans: Vec<bool> = jobs
            .iter()
            .map(|job| {
                job.parent
                    .as_ref()
                    .is_some_and(|parent| position(jobs, job.db, &job.app, parent).is_none())
            })
            .collect();
        let mut orphan = orphans.into_iter();
        jobs.retain(|_| !orphan.next().unwrap_or(false));
        lost
    });
    for job in lost {
        reply(
            job,
            Err(RedisError::Str(
                "ERR the sessions were killed, but the count was lost: this server stopped freeing them (it became a replica, or their keys were deleted or moved to another node)",
            )),
        );
    }
}

/// Whether the graveyard of the job at `at`, or one it adopted (a KILLALL
/// whose own graveyard is freed may still wait for those), is still listed.
fn family_listed(ctx: &Context, jobs: &[Job], at: usize) -> bool {
    let root = &jobs[at];
    listed(ctx, root)
        || jobs.iter().any(|child| {
            child.db == root.db
                && child.app == root.app
                && child.parent.as_deref() == Some(root.member.as_slice())
                && listed(ctx, child)
        })
}

fn listed(ctx: &Context, job: &Job) -> bool {
    if !crate::server::select_db(ctx, job.db) {
        return false;
    }
    let keys = Keys::new(crate::config::prefix(), &job.app);
    let graves = Key::open(ctx, &keys.graves(), false);
    graves
        .zset_score(&crate::redis_string::from_bytes(ctx.get_raw(), &job.member))
        .is_some()
}

fn reply(job: Job, result: Result<RedisValue, RedisError>) {
    if let Some(client) = job.client {
        let ctx = ThreadSafeContext::with_blocked_client(client);
        ctx.reply(result);
    }
}

fn db(ctx: &Context) -> i32 {
    crate::server::selected_db(ctx)
}
