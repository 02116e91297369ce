//! The keys redis-sessions keeps for one app, read and cleaned up with the
//! same replicated effects as the module's own writes.

use redis_module::RedisString;

use crate::config::IMPORT_NAMESPACE;
use crate::redis_key::{Key, Kind};
use crate::store::{Store, StoredSession};

pub struct Library<'s, 'a> {
    store: &'s Store<'a>,
    /// `<ns>:`
    namespace: Vec<u8>,
}

impl<'s, 'a> Library<'s, 'a> {
    /// The library's keys for the store's app, or None while the import is
    /// off (no namespace set, or a cluster).
    pub fn of(store: &'s Store<'a>) -> Option<Library<'s, 'a>> {
        let namespace = prefix()?;
        Some(Library { store, namespace })
    }

    /// `<ns>:<app>:<tail>`
    fn app_key(&self, tail: &[&[u8]]) -> Vec<u8> {
        let mut name = self.namespace.clone();
        name.extend_from_slice(self.store.keys.app());
        name.push(b':');
        for part in tail {
            name.extend_from_slice(part);
        }
        name
    }

    fn sessions_key(&self) -> Vec<u8> {
        self.app_key(&[b"_sessions"])
    }

    fn users_key(&self) -> Vec<u8> {
        self.app_key(&[b"_users"])
    }

    fn user_key(&self, id: &[u8]) -> Vec<u8> {
        self.app_key(&[b"us:", id])
    }

    /// The library's session hash `token` and what it holds, when it is a
    /// readable session. A token read from the library's lists is another
    /// program's data: one that breaks the token rule names no key here.
    pub fn session(&self, token: &[u8], writable: bool) -> Option<(Key, StoredSession)> {
        crate::args::token(token).ok()?;
        let key = Key::open(self.store.ctx(), &self.app_key(&[token]), writable);
        if key.kind() != Kind::Hash {
            return None;
        }
        let session = self.store.read_library(&key)?;
        Some((key, session))
    }

    /// The tokens the library lists for user `id`.
    pub fn user_tokens(&self, id: &[u8]) -> Vec<Vec<u8>> {
        let name = self.store.string(&self.user_key(id));
        match crate::redis_call::run(self.store.ctx(), c"SMEMBERS", &[&name]) {
            Ok(reply) if !reply.is_error() => reply.strings(),
            _ => Vec::new(),
        }
    }

    /// The users the library's activity index lists as active after second
    /// `after`, with their scores (the second of their last activity), the
    /// most recently active first.
    pub fn active_users(&self, after: i64) -> Vec<(RedisString, f64)> {
        let users = Key::open(self.store.ctx(), &self.users_key(), false);
        let mut active = users.zset_range((after + 1) as f64, f64::INFINITY, usize::MAX);
        active.reverse();
        active
    }

    /// Up to `count` entries of the app's session list.
    pub fn listed(&self, count: usize) -> Vec<Listed> {
        let sessions = Key::open(self.store.ctx(), &self.sessions_key(), false);
        sessions
            .zset_range(f64::NEG_INFINITY, f64::INFINITY, count)
            .into_iter()
            .map(|(member, _)| {
                let (token, id) = split_member(member.as_slice());
                Listed {
                    member: member.as_slice().to_vec(),
                    token,
                    id,
                }
            })
            .collect()
    }

    /// How many sessions the app's session list still holds.
    pub fn remaining(&self) -> usize {
        let sessions = Key::open(self.store.ctx(), &self.sessions_key(), false);
        if sessions.kind() == Kind::ZSet {
            sessions.size()
        } else {
            0
        }
    }

    /// Removes every trace of session `token` from the library's keys: its
    /// hash (`found`, or whatever hash is there), its entries in
    /// `_sessions`, `SESSIONS` and `us:<id>` under each of `ids` (the id
    /// listed and the id its hash holds may differ), the raw list entry
    /// `member` (which may be malformed), and each user's entry in `_users`
    /// once they have no session left there.
    pub fn forget(&self, found: Option<Key>, token: &[u8], ids: &[&[u8]], member: Option<&[u8]>) {
        let store = self.store;
        // Only a valid token names a session hash: `_users` or `us:bob`
        // would name the library's indexes.
        let hash = found.or_else(|| {
            crate::args::token(token).ok()?;
            Some(Key::open(store.ctx(), &self.app_key(&[token]), true))
        });
        if let Some(mut hash) = hash.filter(|hash| hash.kind() == Kind::Hash) {
            store.delete(&mut hash);
        }
        let mut global = self.namespace.clone();
        global.extend_from_slice(b"SESSIONS");
        let mut members: Vec<Vec<u8>> = ids.iter().map(|id| [token, b":", id].concat()).collect();
        members.extend(member.map(<[u8]>::to_vec));
        for member in &members {
            self.remove_member(&self.sessions_key(), member);
            self.remove_member(&global, &[store.keys.app(), b":", member].concat());
        }
        for id in ids {
            self.forget_user_entry(token, id);
        }
    }

    /// Takes `token` out of the library's set of user `id`, and the user
    /// out of `_users` once the set is gone.
    fn forget_user_entry(&self, token: &[u8], id: &[u8]) {
        let store = self.store;
        let user = store.string(&self.user_key(id));
        let removed = crate::redis_call::run(store.ctx(), c"SREM", &[&user, &store.string(token)])
            .map(|reply| reply.integer())
            .unwrap_or(0);
        if removed > 0 {
            store.replicate(c"SREM", &[user.inner, store.string(token).inner]);
        }
        if Key::open(store.ctx(), user.as_slice(), false).kind() == Kind::Empty {
            self.keep_activity(id);
            self.remove_member(&self.users_key(), id);
        }
    }

    /// Carries the user's last activity from the library's activity index
    /// to the module's before the user leaves the library's: ACTIVITY keeps
    /// counting a user whose last library session expired, as it does for
    /// the module's own sessions.
    fn keep_activity(&self, id: &[u8]) {
        let store = self.store;
        let library_users = Key::open(store.ctx(), &self.users_key(), false);
        let Some(score) = library_users.zset_score(&store.string(id)) else {
            return;
        };
        let second = score.floor();
        // A second no session could have had is no activity to keep.
        if !(0.0..=(store.now + crate::args::MAX_SECONDS) as f64).contains(&second) {
            return;
        }
        if let Ok(mut activity) = store.open_index(&store.keys.activity(), true) {
            store.record_activity_at(&mut activity, &store.string(id), second as i64);
        }
    }

    /// Drops the app's session list and activity index (once nothing is
    /// listed there, or after KILLALL).
    pub fn forget_app(&self) {
        for name in [self.sessions_key(), self.users_key()] {
            let mut key = Key::open(self.store.ctx(), &name, true);
            if key.kind() == Kind::ZSet {
                self.store.unlink(&mut key);
            }
        }
    }

    fn remove_member(&self, index: &[u8], member: &[u8]) {
        let mut key = Key::open(self.store.ctx(), index, true);
        if key.kind() == Kind::ZSet {
            self.store
                .index_remove(&mut key, &self.store.string(member));
        }
    }
}

/// The namespace's key prefix `<ns>:` while the import is on (a namespace
/// set, and no cluster).
pub fn prefix() -> Option<Vec<u8>> {
    if !IMPORT_NAMESPACE.is_set() || crate::server::cluster_mode() {
        return None;
    }
    let mut prefix = IMPORT_NAMESPACE.get();
    if prefix.is_empty() {
        return None;
    }
    prefix.push(b':');
    Some(prefix)
}

/// One entry of the library's session list of an app.
pub struct Listed {
    /// The member as stored, `<token>:<id>` unless another program wrote it.
    pub member: Vec<u8>,
    pub token: Vec<u8>,
    pub id: Vec<u8>,
}

/// `<token>:<id>`: tokens hold no colon, ids may.
fn split_member(member: &[u8]) -> (Vec<u8>, Vec<u8>) {
    match member.iter().position(|b| *b == b':') {
        Some(at) => (member[..at].to_vec(), member[at + 1..].to_vec()),
        None => (member.to_vec(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_split_at_the_first_colon() {
        assert_eq!(
            split_member(b"tok:alice"),
            (b"tok".to_vec(), b"alice".to_vec())
        );
        assert_eq!(
            split_member(b"tok:a:b:c"),
            (b"tok".to_vec(), b"a:b:c".to_vec())
        );
        assert_eq!(split_member(b"tok"), (b"tok".to_vec(), Vec::new()));
    }
}
