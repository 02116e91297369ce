//! The apps the sweeper knows of, per database, with when each next needs
//! work, and where the last step stopped: the notice board between the
//! commands, which post what they did (`session_expires`), and the
//! scheduler, which reads it.
//!
//! Kept in memory, not in a Redis key: a global key would live in one
//! cluster slot and could not list apps that other nodes own. The registry is
//! rebuilt from keyspace events, so it needs no persistence of its own. It is
//! never locked across a Redis call, because Redis calls can raise the very
//! events that update it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use redis_module::{Context, NotifyEvent};

use crate::config;
use crate::keys;
use crate::server::selected_db;

/// Keyspace-event hook: remembers every app whose expiry or activity index
/// appears, in whichever database it appears.
pub fn on_key_event(ctx: &Context, _event: NotifyEvent, _name: &str, key: &[u8]) {
    if let Some(app) = keys::app_of_index_key(config::prefix(), key) {
        learn(selected_db(ctx), app);
    }
    // Whatever the prefix: such a key may appear under one it is set to.
    if key.ends_with(b"}:_kills") {
        KILL_RECORDS.appeared();
    } else if key.ends_with(b"}:_graves") {
        GRAVEYARDS.appeared();
    }
}

/// Whether some database may hold a key of one rare kind: kill records
/// (`_kills`, kill_record.rs) or graveyards of big kills (`_graves`,
/// graves/). While none can, the commands skip looking for one: GET and
/// CREATE on an app that never killed open no key for them. Each starts
/// true (a module loaded into a server with data), turns true whenever such
/// a key is created or loaded by any means (a command, replication,
/// RESTORE, RENAME, COPY, MOVE, an RDB or AOF load: each raises the `new` or
/// `loaded` event) or databases are swapped, and turns false only when a
/// full pass of the keyspace scan found none and none appeared meanwhile.
/// Events and the scan both run on the main thread, so no notice can come
/// between a pass's check and its conclusion.
pub struct Presence {
    may_exist: AtomicBool,
    /// How many times one may have appeared: a scan pass compares it at
    /// its start and end.
    notices: AtomicU64,
}

pub static KILL_RECORDS: Presence = Presence::new();
pub static GRAVEYARDS: Presence = Presence::new();

impl Presence {
    const fn new() -> Presence {
        Presence {
            may_exist: AtomicBool::new(true),
            notices: AtomicU64::new(0),
        }
    }

    pub fn may_exist(&self) -> bool {
        self.may_exist.load(Ordering::Relaxed)
    }

    pub fn appeared(&self) {
        self.notices.fetch_add(1, Ordering::Relaxed);
        self.may_exist.store(true, Ordering::Relaxed);
    }

    pub fn notices(&self) -> u64 {
        self.notices.load(Ordering::Relaxed)
    }

    /// A full scan pass, begun at notice count `since`, found none.
    pub fn none_found(&self, since: u64) {
        if self.notices() == since {
            self.may_exist.store(false, Ordering::Relaxed);
        }
    }
}

/// Tells the sweeper that a session of `app` may expire at `second`, so
/// that it does not wait for its next planned visit of the app.
pub fn session_expires(ctx: &Context, app: &[u8], second: i64) {
    due_by(selected_db(ctx), app, second);
}

/// A database number and an app name.
pub type AppRef = (i32, Vec<u8>);

/// Sweeper state kept per app. Zero times mean "look now".
#[derive(Default, Clone, Debug, PartialEq)]
pub struct AppState {
    /// The earliest second a session of the app may expire, as far as the
    /// sweeper knows (the lowest score of the app's expiry index).
    pub next_due: i64,
    /// The second at which the next activity-horizon pass may run.
    pub next_horizon_pass: i64,
    /// Where the last horizon pass stopped: the (score, member) of the last
    /// entry kept because the user still has sessions.
    pub horizon_cursor: Option<(f64, Vec<u8>)>,
}

impl AppState {
    fn needs_work(&self, now: i64) -> bool {
        self.next_due <= now || self.next_horizon_pass <= now
    }
}

#[derive(Default)]
struct Registry {
    apps: BTreeMap<AppRef, AppState>,
    /// The app a step should start with, so that a backlog in one app does
    /// not starve the apps after it.
    resume_at: Option<AppRef>,
    /// Where the last read-only prune on a replica stopped.
    prune_after: Option<AppRef>,
    /// Whether the last step ran on a master. The times above are only
    /// trusted while it did: a replica's indexes change under it without
    /// the sweeper hearing of it.
    sweeping: bool,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut guard = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(guard.get_or_insert_with(Registry::default))
}

/// Remembers an app, to be looked at on the next step.
pub fn learn(db: i32, app: &[u8]) {
    with(|r| {
        r.apps.entry((db, app.to_vec())).or_default().next_due = 0;
    });
}

/// Remembers an app found by the keyspace scan, unless already known (a
/// known app keeps its schedule).
pub fn discover(db: i32, app: &[u8]) {
    with(|r| {
        r.apps.entry((db, app.to_vec())).or_default();
    });
}

/// Up to `n` known apps, continuing after those the last call returned and
/// starting over at the end: a replica checks its registry this way, a few
/// apps a step, to forget apps whose keys the master deleted.
pub fn next_to_prune(n: usize) -> Vec<AppRef> {
    with(|r| {
        let start = r.prune_after.take();
        let mut apps: Vec<AppRef> = match &start {
            Some(after) => r
                .apps
                .range::<AppRef, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
                .take(n)
                .map(|(app, _)| app.clone())
                .collect(),
            None => r.apps.keys().take(n).cloned().collect(),
        };
        // Starting over at the front, never visiting an app twice in a call.
        let wanted = n.min(r.apps.len());
        if apps.len() < wanted && start.is_some() {
            let more = wanted - apps.len();
            apps.extend(r.apps.keys().take(more).cloned());
        }
        r.prune_after = apps.last().cloned();
        apps
    })
}

/// How many apps are known.
pub fn len() -> usize {
    with(|r| r.apps.len())
}

/// Notes that a session of the app may expire at `second`.
pub fn due_by(db: i32, app: &[u8], second: i64) {
    with(|r| {
        let state = r.apps.entry((db, app.to_vec())).or_default();
        state.next_due = state.next_due.min(second);
    });
}

pub fn forget(app: &AppRef) {
    with(|r| {
        r.apps.remove(app);
    });
}

/// Records whether this node sweeps. Returning to sweeping (a replica
/// promoted, a restart) clears every time, so each app is looked at afresh.
pub fn set_sweeping(sweeping: bool) {
    with(|r| {
        if sweeping && !r.sweeping {
            for state in r.apps.values_mut() {
                *state = AppState {
                    horizon_cursor: state.horizon_cursor.take(),
                    ..AppState::default()
                };
            }
        }
        r.sweeping = sweeping;
    });
}

/// The apps that need work at `now`, starting where the last step stopped.
pub fn due(now: i64) -> Vec<(AppRef, AppState)> {
    with(|r| {
        let due = r
            .apps
            .iter()
            .filter(|(_, state)| state.needs_work(now))
            .map(|(app, state)| (app.clone(), state.clone()));
        match &r.resume_at {
            Some(start) => {
                let (before, after): (Vec<_>, Vec<_>) = due.partition(|(app, _)| app < start);
                after.into_iter().chain(before).collect()
            }
            None => due.collect(),
        }
    })
}

pub fn resume_at(app: Option<AppRef>) {
    with(|r| r.resume_at = app);
}

/// Stores what a step learnt about an app. (No command runs during a step,
/// so nothing can have been noted about the app meanwhile.)
pub fn update(app: &AppRef, state: AppState) {
    with(|r| {
        if let Some(slot) = r.apps.get_mut(app) {
            *slot = state;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(apps: Vec<(AppRef, AppState)>) -> Vec<&'static str> {
        apps.into_iter()
            .map(|((_, a), _)| match a.as_slice() {
                b"aaa" => "aaa",
                b"bbb" => "bbb",
                b"ccc" => "ccc",
                _ => "?",
            })
            .collect()
    }

    // One test, because the registry is process-wide.
    #[test]
    fn apps_are_visited_when_due_starting_where_the_last_step_stopped() {
        set_sweeping(true);
        for app in [&b"aaa"[..], b"bbb", b"ccc"] {
            learn(0, app);
        }
        assert_eq!(
            names(due(100)),
            ["aaa", "bbb", "ccc"],
            "new apps are due at once"
        );

        resume_at(Some((0, b"bbb".to_vec())));
        assert_eq!(names(due(100)), ["bbb", "ccc", "aaa"]);
        resume_at(None);

        let later = AppState {
            next_due: 150,
            next_horizon_pass: 110,
            horizon_cursor: None,
        };
        for app in [&b"aaa"[..], b"bbb", b"ccc"] {
            update(&(0, app.to_vec()), later.clone());
        }
        assert!(due(105).is_empty());
        assert_eq!(names(due(110)).len(), 3, "the horizon pass is due");

        due_by(0, b"bbb", 104);
        assert_eq!(
            names(due(105)),
            ["bbb"],
            "a new session that expires sooner"
        );
        due_by(0, b"bbb", 300);
        assert_eq!(
            names(due(105)),
            ["bbb"],
            "a later expiry does not postpone the visit"
        );

        set_sweeping(false);
        set_sweeping(true);
        assert_eq!(
            names(due(105)),
            ["aaa", "bbb", "ccc"],
            "a promoted node looks afresh"
        );

        forget(&(0, b"bbb".to_vec()));
        assert_eq!(names(due(105)), ["aaa", "ccc"]);

        discover(0, b"aaa");
        assert_eq!(
            names(due(105)),
            ["aaa", "ccc"],
            "a known app keeps its schedule"
        );
        let page = |n| {
            next_to_prune(n)
                .into_iter()
                .map(|app| (app, AppState::default()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(page(1)), ["aaa"]);
        assert_eq!(names(page(1)), ["ccc"]);
        assert_eq!(names(page(1)), ["aaa"], "pruning starts over at the end");
        assert_eq!(names(page(5)), ["ccc", "aaa"]);
        assert_eq!(len(), 2);
    }
}
