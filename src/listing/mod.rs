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
use crate::reply::{Reply, View};
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
/// Listings of up to this many sessions (a LIMIT's) are read again whole
/// in their last step (about 1.5 ms), so that even a change no write of the
/// module made (a client's own DEL) is seen.
const REREAD_UP_TO: usize = 1000;
/// Replies of more sessions than this are sorted and written by a thread.
const THREAD_REPLY_FROM: usize = 2000;

/// A listing whose client waits.
struct Job {
    client: *mut raw::RedisModuleBlockedClient,
    db: i32,
    app: Vec<u8>,
    walk: Walk,
    /// Also list the sessions still in the Node library's keys (import/).
    library: bool,
    /// Session hashes changed since the listing began (tokens).
    dirty: HashSet<Vec<u8>>,
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
    library: bool,
) -> RedisResult {
    let mut walk = Walk::new(scope, limit);
    let can_wait = crate::graves::can_wait(ctx);
    let deadline = can_wait.then(|| Instant::now() + IN_COMMAND);
    if walk.run(store, deadline) {
        let limit = walk.limit;
        let mut found = finish(store, walk, None, library);
        most_recent_first(&mut found);
        found.truncate(limit);
        let reply = Reply::new(ctx);
        write_sessions(&reply, store.now, &found);
        return Ok(reply.done());
    }
    // SAFETY: ctx is the command's; no callbacks: the reply is written
    // through a thread-safe context before the client is unblocked.
    let client = unsafe {
        call!(RedisModule_BlockClient(ctx.get_raw(), None, None, None, 0) or std::ptr::null_mut())
    };
    if client.is_null() {
        return Err(RedisError::Str(
            "ERR could not block the client for a long listing",
        ));
    }
    let mut jobs = jobs();
    jobs.push(Job {
        client,
        db: selected_db(ctx),
        app: store.keys.app().to_vec(),
        walk,
        library,
        dirty: HashSet::new(),
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
    let done = select_db(ctx, job.db) && {
        let store = Store::new(ctx, &job.app);
        job.walk.run(&store, deadline)
    };
    if !done {
        // Its turn comes again after the others'.
        let mut jobs = jobs();
        jobs.push(job);
        PENDING.store(jobs.len(), Ordering::Relaxed);
        return true;
    }
    let store = Store::new(ctx, &job.app);
    // The changes noted at this step's start are all there are: the walk
    // only reads, and nothing else runs before the snapshot is taken.
    let dirty = std::mem::take(&mut job.dirty);
    let settled = crate::cluster::settled(ctx, &job.app);
    let limit = job.walk.limit;
    let found = finish(&store, job.walk, Some(dirty), job.library);
    let answer = Answer {
        client: job.client,
        now: store.now,
        found,
        limit,
        settled,
    };
    let pending = {
        let jobs = jobs();
        PENDING.store(jobs.len(), Ordering::Relaxed);
        crate::change_log::set_readers(jobs.len());
        !jobs.is_empty()
    };
    if answer.found.len() > THREAD_REPLY_FROM {
        std::thread::spawn(move || answer.send());
    } else {
        answer.send();
    }
    pending
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
fn finish(store: &Store, walk: Walk, dirty: Option<HashSet<Vec<u8>>>, library: bool) -> Vec<Entry> {
    let active_after = walk.active_after();
    let mut found = walk.found;
    let scope = walk.scope;
    let dirty = dirty.map(|mut dirty| {
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
            let user_score = match &scope {
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
        add_library(store, &scope, active_after, &mut found);
    }
    found
}

/// The sessions still in the Node library's keys (import/), shown where
/// they are.
fn add_library(store: &Store, scope: &Scope, active_after: i64, found: &mut Vec<Entry>) {
    let users = match scope {
        Scope::User(id) => vec![(id.clone(), 0.0)],
        Scope::App { .. } => crate::import::active_users(store, active_after)
            .into_iter()
            .map(|(id, score)| (id.as_slice().to_vec(), score))
            .collect(),
    };
    for (id, user_score) in users {
        for (token, session) in crate::import::user_sessions(store, &id) {
            if session.la > active_after {
                found.push(Entry {
                    user_score,
                    token: token.as_slice().to_vec(),
                    session: owned(&session),
                });
            }
        }
    }
}

/// The listing reply: the sessions, most recent first, with their tokens.
fn write_sessions(reply: &Reply, now: i64, found: &[Entry]) {
    reply.array(found.len());
    for e in found {
        reply.session(Some(&e.token), &View::stored(&e.session, now));
    }
}

/// The reply of a finished listing to its blocked client, sent from the
/// main thread or a reply thread.
struct Answer {
    client: *mut raw::RedisModuleBlockedClient,
    now: i64,
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
                    write_sessions(&reply, self.now, &self.found);
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
