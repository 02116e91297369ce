//! The apps the sweeper knows of, per database, and where it stopped.
//!
//! Kept in memory, not in a Redis key: a global key would live in one
//! cluster slot and could not list apps that other nodes own. The registry is
//! rebuilt from keyspace events, so it needs no persistence of its own. It is
//! never locked across a Redis call, because Redis calls can raise the very
//! events that update it.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A database number and an app name.
pub type AppRef = (i32, Vec<u8>);

/// Sweeper state kept per app.
#[derive(Default, Clone)]
pub struct AppState {
    /// Where the last activity-horizon pass stopped: the (score, member) of
    /// the last entry kept because the user still has sessions.
    pub horizon_cursor: Option<(f64, Vec<u8>)>,
    /// The second at which the next horizon pass may run.
    pub next_horizon_pass: i64,
}

#[derive(Default)]
struct Registry {
    apps: BTreeMap<AppRef, AppState>,
    /// The app a step should start with, so that a backlog in one app does
    /// not starve the apps after it.
    resume_at: Option<AppRef>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut guard = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(guard.get_or_insert_with(Registry::default))
}

pub fn learn(db: i32, app: &[u8]) {
    with(|r| {
        r.apps.entry((db, app.to_vec())).or_default();
    });
}

pub fn forget(app: &AppRef) {
    with(|r| {
        r.apps.remove(app);
    });
}

/// Every known app with its state, starting where the last step stopped.
pub fn round() -> Vec<(AppRef, AppState)> {
    with(|r| {
        let all = r.apps.iter().map(|(k, v)| (k.clone(), v.clone()));
        match &r.resume_at {
            Some(start) => {
                let (before, after): (Vec<_>, Vec<_>) = all.partition(|(k, _)| k < start);
                after.into_iter().chain(before).collect()
            }
            None => all.collect(),
        }
    })
}

pub fn resume_at(app: Option<AppRef>) {
    with(|r| r.resume_at = app);
}

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

    #[test]
    fn rounds_resume_where_the_last_step_stopped() {
        for app in [&b"aaa"[..], b"bbb", b"ccc"] {
            learn(0, app);
        }
        learn(0, b"aaa");
        let names = |round: Vec<(AppRef, AppState)>| -> Vec<Vec<u8>> {
            round.into_iter().map(|((_, a), _)| a).collect()
        };
        assert_eq!(
            names(round()),
            vec![b"aaa".to_vec(), b"bbb".to_vec(), b"ccc".to_vec()]
        );
        resume_at(Some((0, b"bbb".to_vec())));
        assert_eq!(
            names(round()),
            vec![b"bbb".to_vec(), b"ccc".to_vec(), b"aaa".to_vec()]
        );
        forget(&(0, b"bbb".to_vec()));
        assert_eq!(names(round()), vec![b"ccc".to_vec(), b"aaa".to_vec()]);
    }
}
