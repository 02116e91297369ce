//! The import in the background: while `sess.import-namespace` is set, the
//! scheduler moves the library's sessions in by itself, a bounded batch a
//! step, on a master that accepts writes and is not out of memory.
//! `SESS.IMPORT` remains for those who want to drive it.
//!
//! The apps to import are found by the keyspace scan, which reports every
//! library session list `<ns>:<app>:_sessions` it meets (`discover`).
//! Discovery is complete once two full passes have ended since the
//! namespace was set (the first may have begun before); from then on,
//! `INFO sess` says `import_done:1` when no library session remains.

use std::collections::BTreeMap;
use std::sync::Mutex;

use redis_module::{Context, ContextFlags};

pub use super::library::prefix;
use super::library::Library;
use crate::config::IMPORT_BATCH;
use crate::server::select_db;
use crate::store::Store;

/// The time one step may spend, whatever `import-batch` says (100
/// sessions, the default, take about 3 ms).
const STEP_TIME_MS: i64 = 5;

#[derive(Default)]
struct State {
    /// The namespace the apps below were found under.
    namespace: Vec<u8>,
    /// Scan passes ended since the namespace was set.
    passes: u32,
    /// Whether the scan found library apps in its current pass, and in the
    /// last one it ended.
    found_in_pass: bool,
    found_in_last_pass: bool,
    /// Apps with library sessions (database, app), with how many remain
    /// (-1: not counted yet).
    apps: BTreeMap<(i32, Vec<u8>), i64>,
    /// Apps left alone: one of their own indexes holds another type.
    stuck: BTreeMap<(i32, Vec<u8>), ()>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(State::default))
}

/// The app whose library session list `key` is, if it is one.
pub fn app_of_list<'k>(prefix: &[u8], key: &'k [u8]) -> Option<&'k [u8]> {
    let app = key.strip_prefix(prefix)?.strip_suffix(b":_sessions")?;
    crate::args::app(app).ok()
}

/// The scan met the library's session list of `app` in database `db`.
pub fn discover(db: i32, app: &[u8]) {
    with(|s| {
        s.found_in_pass = true;
        s.apps.entry((db, app.to_vec())).or_insert(-1);
    });
}

/// A full pass of the keyspace scan has ended.
pub fn pass_ended() {
    with(|s| {
        s.passes = s.passes.saturating_add(1);
        s.found_in_last_pass = std::mem::take(&mut s.found_in_pass);
    });
}

/// Sessions known to remain in the library's keys (INFO sess).
pub fn remaining() -> i64 {
    with(|s| s.apps.values().map(|n| n.max(&0)).sum())
}

/// Whether the import is still looking for or moving library sessions: the
/// keyspace scan then runs at the backlog's pace, so that the import starts
/// within a second of the namespace being set, and `done` follows within a
/// second of the last move, rather than a regular pass later.
pub fn discovering() -> bool {
    let moving = IMPORT_BATCH.get() > 0;
    prefix().is_some()
        && with(|s| s.passes < 2 || (moving && (s.found_in_last_pass || !s.apps.is_empty())))
}

/// Whether the import is on, has nothing left to move, and the last full
/// pass of the keyspace scan found no library session list: no library
/// session remains (unless the Node library, still running somewhere,
/// writes new ones).
pub fn done() -> bool {
    prefix().is_some() && with(|s| s.passes >= 2 && s.apps.is_empty() && !s.found_in_last_pass)
}

/// One step: a batch of each app found, within the step's time. Returns
/// true while sessions remain to move.
pub fn step(ctx: &Context) -> bool {
    let Some(prefix) = prefix() else {
        with(|s| *s = State::default());
        return false;
    };
    let apps: Vec<_> = with(|s| {
        if s.namespace != prefix {
            *s = State {
                namespace: prefix,
                ..State::default()
            };
        }
        s.apps.keys().cloned().collect()
    });
    let per_step = IMPORT_BATCH.get().max(0) as usize;
    // Out of memory or turned off: the apps are only counted.
    let moving = per_step > 0 && !ctx.get_flags().contains(ContextFlags::OOM);
    let started = crate::clock::now_millis();
    let mut more = false;
    for app in apps {
        if crate::clock::now_millis() - started >= STEP_TIME_MS {
            return true;
        }
        if !select_db(ctx, app.0) {
            with(|s| s.apps.remove(&app));
            continue;
        }
        let store = Store::new(ctx, &app.1);
        let Some(library) = Library::of(&store) else {
            return false;
        };
        let stuck = with(|s| s.stuck.contains_key(&app));
        let remaining = if !moving || stuck {
            library.remaining() as i64
        } else {
            match super::batch(&store, &library, per_step) {
                Ok(batch) => batch.remaining,
                Err(problem) => {
                    // One of the app's own indexes holds another type: the
                    // operator has to look; SESS.IMPORT says the same.
                    ctx.log_warning(&format!(
                        "import: app {} left alone: {problem}",
                        String::from_utf8_lossy(&app.1)
                    ));
                    with(|s| s.stuck.insert(app.clone(), ()));
                    library.remaining() as i64
                }
            }
        };
        with(|s| {
            if remaining == 0 {
                s.apps.remove(&app);
            } else {
                s.apps.insert(app, remaining);
            }
        });
        more |= moving && !stuck && remaining > 0;
    }
    more
}
