//! Listings (SOID, SOAPP) that never stall the server, whatever the size of
//! a user or an app.
//!
//! A listing first runs within its command for up to `STEP`; nearly all
//! end there, atomic as any command. One that does not (a user with 100,000
//! sessions, a window over a huge app) blocks its client, like a big kill,
//! and goes on in steps on its own timer, at most `STEP` each, while the
//! server serves everyone else. The reply keeps the contract: the sessions
//! live at the moment of the reply, most recently active first. For that,
//! every session hash changed while the listing runs is noted (the module's
//! own writes through change_log.rs; on a replica, the replicated ones
//! through `dirty.rs`) and read again in the last step, with the liveness
//! rule applied then; a reply of up to `REREAD_UP_TO` sessions is read
//! again whole. A big reply is sorted and written by a thread, off the
//! server's main thread, into the blocked client's reply buffer.
//!
//! Inside MULTI or a script (which cannot block) a listing runs to its end
//! within the command, as before.

pub mod dirty;
mod walk;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis_module::{raw, Context, RedisError, RedisResult, RedisValue};

use crate::api::call;
use crate::config;
use crate::keys::{self, Parsed};
use crate::reply::{Format, Reply, View};
use crate::server::{select_db, selected_db};
use crate::store::Store;
pub use walk::Scope;
use walk::{most_recent_first, owned, Entry, Walk};

/// Longest a listing runs within its command: long enough for the usual
/// SOAPP with LIMIT on a big app to end there, atomic.
const IN_COMMAND: Duration = Duration::from_millis(4);
/// Longest one later step holds the server, chunk included; steps come 1 ms
/// apart on the listing's own timer.
const STEP: Duration = Duration::from_millis(2);
/// Listings of up to this many sessions found (a LIMIT of up to 1,000
/// keeps at most twice as many) are read again whole in their last step
/// (about 3 ms), so that even a change no write of the module made (a
/// client's own DEL) is seen.
const REREAD_UP_TO: usize = 2000;
/// Replies of more sessions than this are sorted and written by a thread.
const THREAD_REPLY_FROM: usize = 2000;

/// A listing whose client waits.
struct Job {
    client: *mut raw::RedisModuleBlockedClient,
    db: i32,
    app: Vec<u8>,
    walk: Walk,
    format: Format,
    /// Also list the sessions still in the Node library's keys (import/).
    library: bool,
    /// Session hashes changed since the listing began (tokens).
    dirty: HashSet<Vec<u8>>,
    /// Its client disconnected.
    gone: bool,
    /// Its database was flushed or swapped: the walk starts again.
    restart: bool,
}

// SAFETY: the blocked client handle is only used on the main thread, and
// by one reply thread once the job has left the list.
unsafe impl Send for Job {}

static JOBS: Mutex<Vec<Job>> = Mutex::new(Vec::new());
/// Jobs pending: the event hook does nothing while it is 0.
static PENDING: AtomicUsize = AtomicUsize::new(0);

fn jobs() -> std::sync::MutexGuard<'static, Vec<Job>> {
    JOBS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lists `scope` for the calling command: within the command when it ends
/// within one step or the client cannot wait, else in steps with the client
/// blocked.
pub fn run(
    ctx: &Context,
    store: &Store,
    scope: Scope,
    limit: Option<usize>,
    format: Format,
    library: bool,
) -> RedisResult {
    let mut walk = Walk::new(scope, limit);
    let can_wait = crate::graves::can_wait(ctx);
    let deadline = can_wait.then(|| Instant::now() + IN_COMMAND);
    if walk.run(store, deadline) {
        let limit = walk.limit;
        let mut found = finish(store, &mut walk, None, library);
        most_recent_first(&mut found);
        found.truncate(limit);
        let reply = Reply::new(ctx);
        write_sessions(&reply, format, store.now, &found);
        return Ok(reply.done());
    }
    let mut jobs = jobs();
    if jobs.len() >= MAX_WAITING {
        // Each holds its sessions in memory until it replies.
        return Err(RedisError::Str(
            "ERR too many long listings are running (8): try again in a moment",
        ));
    }
    // SAFETY: ctx is the command's; no reply callback: the reply is written
    // through a thread-safe context before the client is unblocked.
    let client = unsafe {
        call!(RedisModule_BlockClient(ctx.get_raw(), None, None, None, 0) or std::ptr::null_mut())
    };
    if client.is_null() {
        return Err(RedisError::Str(
            "ERR could not block the client for a long listing",
        ));
    }
    // SAFETY: a live handle; the callback only marks the job.
    unsafe { call!(RedisModule_SetDisconnectCallback(client, Some(on_disconnect)) or ()) };
    jobs.push(Job {
        client,
        db: selected_db(ctx),
        app: store.keys.app().to_vec(),
        walk,
        format,
        library,
        dirty: HashSet::new(),
        gone: false,
        restart: false,
    });
    PENDING.store(jobs.len(), Ordering::Relaxed);
    crate::change_log::set_readers(jobs.len());
    dirty::watch(ctx);
    if jobs.len() == 1 {
        // The first job waiting starts the steps; they go on while any wait.
        ctx.create_timer(GAP, tick, ());
    }
    Ok(RedisValue::NoReply)
}

/// Most listings waiting at once: each holds the sessions it found (about
/// 300 bytes each, so some 30 MB for a user of 100,000) until it replies.
const MAX_WAITING: usize = 8;

/// A waiting client disconnected: its listing stops at its next step
/// (Redis wants the handle unblocked after this callback, not in it).
extern "C" fn on_disconnect(
    _ctx: *mut raw::RedisModuleCtx,
    client: *mut raw::RedisModuleBlockedClient,
) {
    for job in jobs().iter_mut().filter(|j| j.client == client) {
        job.gone = true;
    }
}

/// Subscribes to FLUSHALL, FLUSHDB and SWAPDB at load: a listing whose
/// database changed wholesale starts again.
pub fn subscribe(ctx: &Context) {
    for id in [
        raw::REDISMODULE_EVENT_FLUSHDB,
        raw::REDISMODULE_EVENT_SWAPDB,
    ] {
        let event = raw::RedisModuleEvent { id, dataver: 1 };
        // SAFETY: subscribing during load with a callback that lives as long
        // as the module.
        unsafe {
            call!(RedisModule_SubscribeToServerEvent(ctx.get_raw(), event, Some(on_server_event)) or 0)
        };
    }
}

extern "C" fn on_server_event(
    _ctx: *mut raw::RedisModuleCtx,
    event: raw::RedisModuleEvent,
    _subevent: u64,
    data: *mut std::ffi::c_void,
) {
    if event.id == raw::REDISMODULE_EVENT_SWAPDB {
        // A rare key may move into a database the keyspace scan has already
        // passed: it must not conclude that none exists.
        crate::registry::KILL_RECORDS.appeared();
        crate::registry::GRAVEYARDS.appeared();
    }
    if data.is_null() || !any_pending() {
        return;
    }
    // SAFETY: Redis passes the info struct of the event's kind.
    let touched: Vec<i32> = unsafe {
        if event.id == raw::REDISMODULE_EVENT_FLUSHDB {
            vec![(*(data as *const raw::RedisModuleFlushInfoV1)).dbnum]
        } else {
            let swap = &*(data as *const raw::RedisModuleSwapDbInfoV1);
            vec![swap.dbnum_first, swap.dbnum_second]
        }
    };
    for job in jobs().iter_mut() {
        // (dbnum -1: FLUSHALL.)
        if touched.iter().any(|db| *db == -1 || *db == job.db) {
            job.restart = true;
        }
    }
}

/// Whether any listing waits.
fn any_pending() -> bool {
    PENDING.load(Ordering::Relaxed) > 0
}

/// Time between two steps, for the server to serve others.
const GAP: Duration = Duration::from_millis(1);

fn tick(ctx: &Context, _: ()) {
    if step(ctx) {
        ctx.create_timer(GAP, tick, ());
    }
}

/// One step of the pending listings, `STEP` in all. Returns true while
/// some remain.
fn step(ctx: &Context) -> bool {
    if PENDING.load(Ordering::Relaxed) == 0 {
        return false;
    }
    let deadline = Some(Instant::now() + STEP);
    let mut job = {
        let mut jobs = jobs();
        if jobs.is_empty() {
            return false;
        }
        note_changes(&mut jobs);
        jobs.remove(0)
    };
    if job.gone {
        // Its client disconnected: nobody to answer; the handle is freed.
        // SAFETY: the blocked client handle is live until this call.
        unsafe { call!(RedisModule_UnblockClient(job.client, std::ptr::null_mut()) or 0) };
        return count_pending();
    }
    if job.restart {
        // Its database was flushed or swapped: what it read is gone.
        job.walk.restart(false);
        job.dirty.clear();
        job.restart = false;
    }
    if !select_db(ctx, job.db) {
        job.gone = true;
        return put_back(job);
    }
    let app = job.app.clone();
    let store = Store::new(ctx, &app);
    if !job.walk.run(&store, deadline) || revisit_active_users(&store, &mut job) {
        return put_back(job);
    }
    // The changes noted at this step's start are all there are: the walk
    // only reads, and nothing else runs before the snapshot is taken.
    let found = finish(&store, &mut job.walk, Some(&job.dirty), job.library);
    if found.len() < job.walk.limit && job.walk.trimmed {
        // Sessions it kept were killed meanwhile, and it had dropped the
        // ones that now come next: once more, keeping every session.
        job.walk.restart(true);
        job.dirty.clear();
        return put_back(job);
    }
    let answer = Answer {
        client: job.client,
        now: store.now,
        format: job.format,
        found,
        limit: job.walk.limit,
        settled: crate::cluster::settled(ctx, &app),
    };
    let pending = count_pending();
    if answer.found.len() > THREAD_REPLY_FROM {
        std::thread::spawn(move || answer.send());
    } else {
        answer.send();
    }
    pending
}

/// Puts a job back in the queue: its turn comes again after the others'.
fn put_back(job: Job) -> bool {
    let mut jobs = jobs();
    jobs.push(job);
    PENDING.store(jobs.len(), Ordering::Relaxed);
    true
}

/// Updates the count of waiting listings; true while any wait.
fn count_pending() -> bool {
    let jobs = jobs();
    PENDING.store(jobs.len(), Ordering::Relaxed);
    crate::change_log::set_readers(jobs.len());
    !jobs.is_empty()
}

/// SOAPP: the users of the sessions changed meanwhile that the walk has
/// not visited (a user not yet reached became active, a new user signed
/// in) are visited too. True when that gives the walk more to do.
fn revisit_active_users(store: &Store, job: &mut Job) -> bool {
    let Scope::App { active_after } = job.walk.scope else {
        return false;
    };
    let activity = crate::redis_key::Key::open(store.ctx(), &store.keys.activity(), false);
    let mut more = false;
    for token in &job.dirty {
        let Some(session) = store
            .open_session(token, false)
            .ok()
            .and_then(|key| store.read(&key))
        else {
            continue;
        };
        if session.la > active_after {
            let score = activity
                .zset_score(&session.id)
                .unwrap_or(session.la as f64);
            more |= job.walk.revisit(session.id.as_slice(), score);
        }
    }
    more
}

/// Gives each job the session hashes of its app changed since the last
/// step.
fn note_changes(jobs: &mut [Job]) {
    for (db, name) in crate::change_log::take() {
        if let Some((app, Parsed::Session(token))) = keys::parse(config::prefix(), &name) {
            for job in jobs.iter_mut().filter(|j| j.db == db && j.app == app) {
                job.dirty.insert(token.to_vec());
            }
        }
    }
}

/// The walk's sessions as they stand now: the changed ones read again, the
/// liveness rule applied at this instant, and the library's sessions added.
fn finish(
    store: &Store,
    walk: &mut Walk,
    dirty: Option<&HashSet<Vec<u8>>>,
    library: bool,
) -> Vec<Entry> {
    let active_after = walk.active_after();
    let mut found = std::mem::take(&mut walk.found);
    let scope = &walk.scope;
    let dirty = dirty.map(|dirty| {
        let mut dirty = dirty.clone();
        if found.len() <= REREAD_UP_TO {
            dirty.extend(found.iter().map(|e| e.token.clone()));
        }
        dirty
    });
    if let Some(dirty) = dirty.filter(|d| !d.is_empty()) {
        found.retain(|e| !dirty.contains(&e.token));
        let activity = crate::redis_key::Key::open(store.ctx(), &store.keys.activity(), false);
        for token in dirty {
            let Ok(key) = store.open_session(&token, false) else {
                continue;
            };
            let Some(session) = store.read(&key) else {
                continue;
            };
            let user_score = match scope {
                Scope::User(id) if session.id.as_slice() != id.as_slice() => continue,
                Scope::User(_) => 0.0,
                Scope::App { .. } => activity
                    .zset_score(&session.id)
                    .unwrap_or(session.la as f64),
            };
            if session.la > active_after {
                found.push(Entry {
                    user_score,
                    token,
                    session: owned(&session),
                });
            }
        }
    }
    // Expired or killed since it was read: the rule at this instant.
    let mut epochs: HashMap<Vec<u8>, i64> = HashMap::new();
    found.retain(|e| {
        let epoch = *epochs
            .entry(e.session.id.clone())
            .or_insert_with(|| store.kill_epoch(&e.session.id));
        e.session.is_live(store.now) && !e.session.killed_by(epoch)
    });
    if library {
        add_library(store, scope, active_after, walk.limit, &mut found);
    }
    found
}

/// The sessions still in the Node library's keys (import/), shown where
/// they are. With a LIMIT, the library's users are visited most recent
/// first and the visit stops, as the walk's does, at the first user whose
/// sessions can no longer enter the reply.
fn add_library(
    store: &Store,
    scope: &Scope,
    active_after: i64,
    limit: usize,
    found: &mut Vec<Entry>,
) {
    let users = match scope {
        Scope::User(id) => vec![(id.clone(), 0.0)],
        Scope::App { .. } => crate::import::active_users(store, active_after)
            .into_iter()
            .map(|(id, score)| (id.as_slice().to_vec(), score))
            .collect(),
    };
    let mut kth: Option<i64> = None;
    if found.len() >= limit {
        most_recent_first(found);
        kth = found.get(limit - 1).map(|e| e.session.la);
    }
    for (id, user_score) in users {
        if kth.is_some_and(|la| (user_score.floor() as i64) < la) {
            break;
        }
        for (token, session) in crate::import::user_sessions(store, &id) {
            if session.la > active_after {
                found.push(Entry {
                    user_score,
                    token: token.as_slice().to_vec(),
                    session: owned(&session),
                });
            }
        }
        if found.len() >= limit.saturating_mul(2) {
            most_recent_first(found);
            found.truncate(limit);
            kth = found.last().map(|e| e.session.la);
        }
    }
}

/// The listing reply: the sessions, most recent first, with their tokens.
fn write_sessions(reply: &Reply, format: Format, now: i64, found: &[Entry]) {
    reply.array(found.len());
    for e in found {
        reply.session(format, Some(&e.token), &View::stored(&e.session, now));
    }
}

/// The reply of a finished listing to its blocked client, sent from the
/// main thread or a reply thread.
struct Answer {
    client: *mut raw::RedisModuleBlockedClient,
    now: i64,
    format: Format,
    found: Vec<Entry>,
    limit: usize,
    /// False when the app's slot moved meanwhile: the client retries.
    settled: bool,
}

// SAFETY: Redis allows a thread-safe context bound to a blocked client,
// its replies and the unblock from any thread; the sessions are owned.
unsafe impl Send for Answer {}

impl Answer {
    fn send(mut self) {
        // SAFETY: the handle is live until RM_UnblockClient below; the
        // thread-safe context writes to the blocked client's own reply
        // buffer, which Redis hands to the client on unblocking.
        unsafe {
            let ctx = call!(RedisModule_GetThreadSafeContext(self.client) or std::ptr::null_mut());
            if !ctx.is_null() {
                let reply = Reply::raw(ctx);
                if self.settled {
                    most_recent_first(&mut self.found);
                    self.found.truncate(self.limit);
                    write_sessions(&reply, self.format, self.now, &self.found);
                } else {
                    reply.error(
                        "TRYAGAIN the app's slot moved while its sessions were listed; try again",
                    );
                }
                call!(RedisModule_FreeThreadSafeContext(ctx) or ());
            }
            call!(RedisModule_UnblockClient(self.client, std::ptr::null_mut()) or 0);
        }
    }
}
