//! The key layout: the one place that knows Redis key names.
//!
//! Every key of an app carries the app as its hash tag, `<prefix>:{<app>}:...`,
//! so in a cluster all of an app's keys live in the slot of the app name itself,
//! which is the key each SESS.* command declares. A cluster client therefore
//! routes a command by its `app` argument and the command never leaves its slot.
//!
//! | key                       | type | holds                                          |
//! |---------------------------|------|------------------------------------------------|
//! | `rs:{app}:<token>`        | hash | one session: id r w ip la ttl [d] [no_resave]  |
//! | `rs:{app}:us:<id>`        | zset | the user's tokens, score = expiry lower bound  |
//! | `rs:{app}:_users`         | zset | user ids, score = last activity second + per-user fraction (activity_score.rs) |
//! | `rs:{app}:_expiry`        | zset | user ids with sessions, score = earliest expiry lower bound (sweeper) |
//!
//! Tokens are 64 alphanumerics and never contain `:` or `_`, so a session key
//! can never collide with the index keys.

use std::ops::Deref;

use crate::inline_vec::InlineVec;

pub struct Keys<'a> {
    prefix: &'a [u8],
    app: &'a [u8],
}

const USER_SESSIONS: &[u8] = b"us:";
const ACTIVITY: &[u8] = b"_users";
const EXPIRY: &[u8] = b"_expiry";

impl<'a> Keys<'a> {
    pub fn new(prefix: &'a [u8], app: &'a [u8]) -> Self {
        Keys { prefix, app }
    }

    /// The session hash of `token`.
    pub fn session(&self, token: &[u8]) -> KeyName {
        self.build(&[token])
    }

    /// The sorted set of one user's tokens.
    pub fn user_sessions(&self, id: &[u8]) -> KeyName {
        self.build(&[USER_SESSIONS, id])
    }

    /// The sorted set of user ids by last activity.
    pub fn activity(&self) -> KeyName {
        self.build(&[ACTIVITY])
    }

    /// The sorted set of user ids by when their next session may expire.
    pub fn expiry(&self) -> KeyName {
        self.build(&[EXPIRY])
    }

    fn build(&self, parts: &[&[u8]]) -> KeyName {
        let mut name = InlineVec::new(0);
        for part in [self.prefix, &b":{"[..], self.app, &b"}:"[..]]
            .iter()
            .chain(parts)
        {
            name.extend_from_slice(part);
        }
        KeyName(name)
    }
}

/// A key name, built on the stack: with every part validated a name is at
/// most 219 bytes (prefix 64, app 20, id 128, separators), so the heap is
/// only a fallback.
pub struct KeyName(InlineVec<u8, 240>);

impl Deref for KeyName {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// The app whose expiry or activity index `key` is, if it is one. The
/// sweeper uses this to learn of apps from keyspace events, on masters,
/// replicas and while loading.
pub fn app_of_index_key<'k>(prefix: &[u8], key: &'k [u8]) -> Option<&'k [u8]> {
    let rest = key.strip_prefix(prefix)?.strip_prefix(b":{")?;
    let app = rest
        .strip_suffix(b"}:_expiry")
        .or_else(|| rest.strip_suffix(b"}:_users"))?;
    crate::args::app(app).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let k = Keys::new(b"rs", b"shop");
        assert_eq!(&*k.session(b"TOKEN"), b"rs:{shop}:TOKEN");
        assert_eq!(
            &*k.user_sessions("a:b {c}".as_bytes()),
            b"rs:{shop}:us:a:b {c}"
        );
        assert_eq!(&*k.activity(), b"rs:{shop}:_users");
        assert_eq!(&*k.expiry(), b"rs:{shop}:_expiry");
    }

    #[test]
    fn names_longer_than_the_inline_buffer_spill_to_the_heap() {
        let prefix = [b'p'; 64];
        let k = Keys::new(&prefix, b"a2345678901234567890");
        let id = "\u{e9}".repeat(64);
        let name = k.user_sessions(id.as_bytes());
        assert_eq!(name.len(), 64 + 2 + 20 + 2 + 3 + 128);
        assert!(name.ends_with(id.as_bytes()));
        let huge = vec![b'x'; 1000];
        assert_eq!(k.user_sessions(&huge).len(), 64 + 2 + 20 + 2 + 3 + 1000);
    }

    #[test]
    fn index_keys_are_recognised() {
        let shop = Some(&b"shop"[..]);
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:_expiry"), shop);
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:_users"), shop);
        assert_eq!(app_of_index_key(b"rs", b"xx:{shop}:_expiry"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:us:bob"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{s}:_expiry"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{a}:us:}:_expiry"), None);
    }
}
