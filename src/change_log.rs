//! The keys the module changes while someone needs to know: long listings
//! (listing/) read again, at their end, every session hash changed while
//! they ran. Off, it costs one atomic load per write; on, it records the
//! database and name of each key a write announces (`Key::notify`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many readers need the log (long listings waiting).
static READERS: AtomicUsize = AtomicUsize::new(0);
static LOG: Mutex<Vec<(i32, Vec<u8>)>> = Mutex::new(Vec::new());

fn log() -> std::sync::MutexGuard<'static, Vec<(i32, Vec<u8>)>> {
    LOG.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets how many readers need the log; with none it is emptied.
pub fn set_readers(n: usize) {
    READERS.store(n, Ordering::Relaxed);
    if n == 0 {
        log().clear();
    }
}

/// Whether the log is on.
pub fn on() -> bool {
    READERS.load(Ordering::Relaxed) > 0
}

/// Records that key `name` of database `db` changed, while the log is on.
pub fn note(db: i32, name: &[u8]) {
    if on() {
        log().push((db, name.to_vec()));
    }
}

/// The changes recorded since the last call.
pub fn take() -> Vec<(i32, Vec<u8>)> {
    std::mem::take(&mut *log())
}
