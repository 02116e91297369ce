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
//! | `rs:{app}:_users`         | zset | user ids, score = last activity (ACTIVITY)     |
//! | `rs:{app}:_expiry`        | zset | user ids with sessions, score = earliest expiry lower bound (sweeper) |
//!
//! Tokens are 64 alphanumerics and never contain `:` or `_`, so a session key
//! can never collide with the index keys.

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
    pub fn session(&self, token: &[u8]) -> Vec<u8> {
        self.build(&[token])
    }

    /// The sorted set of one user's tokens.
    pub fn user_sessions(&self, id: &[u8]) -> Vec<u8> {
        self.build(&[USER_SESSIONS, id])
    }

    /// The sorted set of user ids by last activity.
    pub fn activity(&self) -> Vec<u8> {
        self.build(&[ACTIVITY])
    }

    /// The sorted set of user ids by when their next session may expire.
    pub fn expiry(&self) -> Vec<u8> {
        self.build(&[EXPIRY])
    }

    fn build(&self, parts: &[&[u8]]) -> Vec<u8> {
        let len =
            self.prefix.len() + self.app.len() + 4 + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut key = Vec::with_capacity(len);
        key.extend_from_slice(self.prefix);
        key.extend_from_slice(b":{");
        key.extend_from_slice(self.app);
        key.extend_from_slice(b"}:");
        for part in parts {
            key.extend_from_slice(part);
        }
        key
    }
}

/// The app whose expiry index `key` is, if it is one. The sweeper uses this to
/// learn of apps from keyspace events, on masters, replicas and while loading.
pub fn app_of_expiry_key<'k>(prefix: &[u8], key: &'k [u8]) -> Option<&'k [u8]> {
    let rest = key.strip_prefix(prefix)?.strip_prefix(b":{")?;
    let app = rest.strip_suffix(b"}:_expiry")?;
    crate::args::app(app).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let k = Keys::new(b"rs", b"shop");
        assert_eq!(k.session(b"TOKEN"), b"rs:{shop}:TOKEN");
        assert_eq!(
            k.user_sessions("a:b {c}".as_bytes()),
            b"rs:{shop}:us:a:b {c}"
        );
        assert_eq!(k.activity(), b"rs:{shop}:_users");
        assert_eq!(k.expiry(), b"rs:{shop}:_expiry");
    }

    #[test]
    fn expiry_keys_are_recognised() {
        assert_eq!(
            app_of_expiry_key(b"rs", b"rs:{shop}:_expiry"),
            Some(&b"shop"[..])
        );
        assert_eq!(app_of_expiry_key(b"rs", b"xx:{shop}:_expiry"), None);
        assert_eq!(app_of_expiry_key(b"rs", b"rs:{shop}:_users"), None);
        assert_eq!(app_of_expiry_key(b"rs", b"rs:{s}:_expiry"), None);
        assert_eq!(app_of_expiry_key(b"rs", b"rs:{a}:us:}:_expiry"), None);
    }
}
