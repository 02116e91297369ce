//! Frees an app's graveyards, a bounded number of sessions per sweeper step,
//! oldest kill first.

use redis_module::RedisString;

use super::{parse_member, waiting, Grave};
use crate::redis_key::{Key, Kind};
use crate::store::Store;

/// What one step did for an app.
pub struct Reaped {
    /// Sessions (or index entries) examined, out of the step's budget.
    pub used: usize,
    /// Whether graveyards remain.
    pub more: bool,
}

/// Frees up to `budget` sessions of the app's graveyards.
pub fn step(store: &Store, budget: usize) -> Reaped {
    let mut graves = Key::open(store.ctx(), &store.keys.graves(), true);
    let mut used = 0;
    while graves.kind() == Kind::ZSet && used < budget {
        let Some((member, killed_at)) = graves.zset_first() else {
            break;
        };
        let killed_at = killed_at as i64;
        let finished = match parse_member(member.as_slice()) {
            // Not a member this module wrote: dropped.
            None => true,
            Some(Grave::User(id)) => {
                let mut grave = Key::open(store.ctx(), &store.keys.grave(member.as_slice()), true);
                let emptied = free_index(store, &mut grave, id, killed_at, budget - used);
                used += emptied.used;
                waiting::count(store, member.as_slice(), emptied.live);
                grave.kind() != Kind::ZSet
            }
            Some(Grave::App) => free_app(store, &member, killed_at, &mut used, budget),
        };
        if !finished {
            break;
        }
        store.index_remove(&mut graves, &member);
        waiting::freed(store, member.as_slice());
        used += 1;
    }
    Reaped {
        used: used.min(budget),
        more: graves.kind() == Kind::ZSet,
    }
}

/// Frees the indexes of the users a KILLALL's graveyard lists. A user listed
/// in `_expiry` again signed in after the kill: CREATE moved their dead index
/// to a graveyard of its own, so only the entry goes. Returns whether the
/// graveyard is empty.
fn free_app(
    store: &Store,
    member: &RedisString,
    killed_at: i64,
    used: &mut usize,
    budget: usize,
) -> bool {
    let mut grave = Key::open(store.ctx(), &store.keys.grave(member.as_slice()), true);
    let expiry = Key::open(store.ctx(), &store.keys.expiry(), false);
    while *used < budget {
        let Some((id, _)) = grave.zset_first() else {
            return true;
        };
        *used += 1;
        if expiry.zset_score(&id).is_none() {
            let name = store.keys.user_sessions(id.as_slice());
            let mut user = Key::open(store.ctx(), &name, true);
            if user.kind() == Kind::ZSet {
                let emptied =
                    free_index(store, &mut user, id.as_slice(), killed_at, budget - *used);
                *used += emptied.used;
                waiting::count(store, member.as_slice(), emptied.live);
                if user.kind() == Kind::ZSet {
                    return false;
                }
            }
        }
        store.index_remove(&mut grave, &id);
    }
    grave.kind() != Kind::ZSet
}

struct Emptied {
    used: usize,
    /// Sessions that were live at the kill.
    live: i64,
}

/// Deletes up to `budget` sessions of one dead index of user `id`, with
/// their entries (the whole index when it holds no more). Only a hash that
/// holds a session of that user is deleted: any other key is not ours.
fn free_index(store: &Store, index: &mut Key, id: &[u8], killed_at: i64, budget: usize) -> Emptied {
    let limit = budget.max(1);
    let tokens = index.zset_range(f64::NEG_INFINITY, f64::INFINITY, limit);
    let all = tokens.len() < limit;
    let live = store.remove_listed(index, &tokens, id, killed_at, all);
    Emptied {
        used: tokens.len(),
        live,
    }
}
