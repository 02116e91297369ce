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
//! | `rs:{app}:_graves`        | zset | graveyards of big kills being freed, score = second of the kill (graves/) |
//! | `rs:{app}:_grave:<name>`  | zset | one graveyard: a renamed `_expiry` or `us:<id>` |
//! | `rs:{app}:_kills`         | hash | kill epochs: `all` (KILLALL), `u:<id>` (KILLSOID), `n` (the latest) |
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
const GRAVES: &[u8] = b"_graves";
const GRAVE: &[u8] = b"_grave:";
const KILLS: &[u8] = b"_kills";

/// Fields of the `_kills` hash: the epoch of the app's last KILLALL, the
/// latest epoch handed out, and (behind `u:`) each user's last KILLSOID.
pub const KILL_OF_APP: &[u8] = b"all";
pub const LATEST_KILL: &[u8] = b"n";
const KILL_OF_USER: &[u8] = b"u:";

/// The `_kills` field of user `id`'s last KILLSOID.
pub fn kill_of_user(id: &[u8]) -> KeyName {
    let mut name = InlineVec::new(0);
    name.extend_from_slice(KILL_OF_USER);
    name.extend_from_slice(id);
    KeyName(name)
}

/// Whether a `_kills` field records a kill (and is not the counter).
pub fn is_kill_field(field: &[u8]) -> bool {
    field == KILL_OF_APP || field.starts_with(KILL_OF_USER)
}

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

    /// The sorted set of the app's graveyards still being freed.
    pub fn graves(&self) -> KeyName {
        self.build(&[GRAVES])
    }

    /// One graveyard, by its member name in `graves()`.
    pub fn grave(&self, name: &[u8]) -> KeyName {
        self.build(&[GRAVE, name])
    }

    /// The hash of the app's kill epochs (kill_record.rs).
    pub fn kills(&self) -> KeyName {
        self.build(&[KILLS])
    }

    /// The app whose keys these are.
    pub fn app(&self) -> &'a [u8] {
        self.app
    }

    /// A name in the app's slot that is no key of the layout, to ask Redis
    /// about the slot (cluster/guard.rs).
    pub fn probe(&self, tail: &[u8]) -> KeyName {
        self.build(&[tail])
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

/// What a key name of the layout is, read back from the name alone.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'k> {
    Session(&'k [u8]),
    UserSessions(&'k [u8]),
    Activity,
    Expiry,
    Graves,
    Grave,
    Kills,
}

/// The app and role of a key of this module's layout, or None for any other
/// key. The sweeper learns apps from keyspace events this way, and the
/// keyspace scan finds sessions whose indexes were lost.
pub fn parse<'k>(prefix: &[u8], key: &'k [u8]) -> Option<(&'k [u8], Parsed<'k>)> {
    let rest = key.strip_prefix(prefix)?.strip_prefix(b":{")?;
    // App names never contain a brace, so the first one closes the tag.
    let close = rest.iter().position(|b| *b == b'}')?;
    let app = crate::args::app(&rest[..close]).ok()?;
    let what = rest[close + 1..].strip_prefix(b":")?;
    let parsed = match what {
        ACTIVITY => Parsed::Activity,
        EXPIRY => Parsed::Expiry,
        GRAVES => Parsed::Graves,
        KILLS => Parsed::Kills,
        _ if what.starts_with(GRAVE) => Parsed::Grave,
        _ => match what.strip_prefix(USER_SESSIONS) {
            Some(id) => Parsed::UserSessions(id),
            None => Parsed::Session(crate::args::token(what).ok()?),
        },
    };
    Some((app, parsed))
}

/// The app whose expiry or activity index, or list of graveyards, `key`
/// is, if it is one: the keys that tell the sweeper an app has work.
pub fn app_of_index_key<'k>(prefix: &[u8], key: &'k [u8]) -> Option<&'k [u8]> {
    match parse(prefix, key)? {
        (app, Parsed::Activity | Parsed::Expiry | Parsed::Graves) => Some(app),
        _ => None,
    }
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
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:_graves"), shop);
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:_grave:a:1"), None);
        assert_eq!(app_of_index_key(b"rs", b"xx:{shop}:_expiry"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{shop}:us:bob"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{s}:_expiry"), None);
        assert_eq!(app_of_index_key(b"rs", b"rs:{a}:us:}:_expiry"), None);
    }

    #[test]
    fn every_key_of_the_layout_is_recognised_and_nothing_else() {
        let token = "aZ09".repeat(16);
        let session = format!("rs:{{shop}}:{token}");
        assert_eq!(
            parse(b"rs", session.as_bytes()),
            Some((&b"shop"[..], Parsed::Session(token.as_bytes())))
        );
        assert_eq!(
            parse(b"rs", b"rs:{shop}:us:a:b {c}"),
            Some((&b"shop"[..], Parsed::UserSessions(b"a:b {c}")))
        );
        for other in [
            &b"rs:{shop}:short"[..],
            b"rs:{shop}",
            b"rs:{sh op}:_users",
            b"rs:shop:_users",
            b"other",
            &session.as_bytes()[..session.len() - 1],
        ] {
            assert_eq!(parse(b"rs", other), None, "{other:?}");
        }
    }
}
