//! `SESS.CREATE app id ip [TTL ttl] [DATA json] [NORESAVE] [MAXAGE seconds]
//! [MAXSESSIONS n] [TOKEN token]`: a new session, replied with its token.
//!
//! With TOKEN the caller chooses the token (a store deriving it from its web
//! framework's session id with a one-way function, so that Redis never holds
//! a cookie value): `ERR token in use` while a live session has it; a dead
//! leftover with that token (expired or killed, not yet swept) is removed
//! first.

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::args::{self, TOKEN_LEN};
use crate::config::{DEFAULT_TTL, MAX_DATA_BYTES};
use crate::data::{self, Patch};
use crate::error::syntax;
use crate::redis_key::Key;
use crate::redis_key::Kind;
use crate::registry;
use crate::session::Session;
use crate::stats;
use crate::store::{Store, StoredSession};

pub struct Create<'a> {
    app: &'a [u8],
    id: &'a [u8],
    ip: &'a [u8],
    ttl: Option<i64>,
    data: Option<Patch>,
    no_resave: bool,
    maxage: Option<i64>,
    max_sessions: Option<usize>,
    token: Option<&'a [u8]>,
}

impl<'a> Create<'a> {
    /// Options may come in any order, each at most once, names in any case.
    pub fn parse(args: &[&'a [u8]], max_data_bytes: usize) -> Result<Self, RedisError> {
        let mut create = Create {
            app: args::app(args[0])?,
            id: args::id(args[1])?,
            ip: args::ip(args[2])?,
            ttl: None,
            data: None,
            no_resave: false,
            maxage: None,
            max_sessions: None,
            token: None,
        };
        let mut options = args[3..].iter();
        while let Some(option) = options.next() {
            match option.to_ascii_uppercase().as_slice() {
                b"TTL" if create.ttl.is_none() => {
                    create.ttl = Some(args::ttl(options.next().ok_or_else(syntax)?)?);
                }
                b"DATA" if create.data.is_none() => {
                    let json = options.next().ok_or_else(syntax)?;
                    create.data = Some(data::parse_patch(json, max_data_bytes)?);
                }
                b"NORESAVE" if !create.no_resave => create.no_resave = true,
                b"MAXSESSIONS" if create.max_sessions.is_none() => {
                    let n = options.next().ok_or_else(syntax)?;
                    create.max_sessions = Some(args::max_sessions(n)?);
                }
                b"MAXAGE" if create.maxage.is_none() => {
                    create.maxage = Some(args::maxage(options.next().ok_or_else(syntax)?)?);
                }
                b"TOKEN" if create.token.is_none() => {
                    create.token = Some(args::token(options.next().ok_or_else(syntax)?)?);
                }
                _ => return Err(syntax()),
            }
        }
        Ok(create)
    }

    pub fn run(self, ctx: &Context, default_ttl: i64, max_data_bytes: usize) -> RedisResult {
        let store = Store::new(ctx, self.app);
        let claimed = match self.token {
            Some(token) => Some(claim(&store, token)?),
            None => None,
        };
        // After the token's check, which may refuse: this may move an index
        // (no handle on it is open yet; the claim's is on the session).
        crate::graves::detach_stale_index(&store, self.id)?;
        let mut user = store.open_index(&store.keys.user_sessions(self.id), true)?;
        let mut activity = store.open_index(&store.keys.activity(), true)?;
        let mut expiry = store.open_index(&store.keys.expiry(), true)?;
        // A user whose index is missing and whom the expiry index does not
        // list has no session anywhere, so creating the index here cannot
        // collide with a slot migration: only an index listed but missing
        // may be on the other node. CREATE is routed by the expiry index
        // (cluster/route.rs), so sign-ups keep working during a move.
        let unknown_user = crate::cluster::enabled()
            && user.kind() == Kind::Empty
            && expiry.zset_score(&store.string(self.id)).is_none();
        let needed = [&activity, &expiry].into_iter();
        crate::cluster::need(&store, needed.chain((!unknown_user).then_some(&user)))?;
        if self.max_sessions.is_some() {
            crate::cluster::need_sessions(&store, &user)?;
        }
        // The index of a leftover of another user, checked before any write.
        let mut leftover_index = match claimed.as_ref().and_then(|c| c.leftover.as_ref()) {
            Some(old) if old.id.as_slice() != self.id => {
                Some(store.open_index(&store.keys.user_sessions(old.id.as_slice()), true)?)
            }
            _ => None,
        };
        let data = match self.data {
            Some(patch) => data::apply(None, patch, max_data_bytes)?,
            None => None,
        };
        let (token, mut key) = match claimed {
            Some(mut claim) => {
                if let Some(old) = &claim.leftover {
                    store.delete(&mut claim.key);
                    let index = leftover_index.as_mut().unwrap_or(&mut user);
                    store.index_remove(index, &store.string(&claim.token));
                    if index.kind() == Kind::Empty {
                        store.index_remove(&mut expiry, &old.id);
                    }
                }
                (claim.token, claim.key)
            }
            None => store.unused_token()?,
        };

        // Each string is made once and serves as hash value, index member
        // and replicated argument alike.
        let session = Session {
            id: store.string(self.id),
            r: 1,
            w: 1,
            ip: store.string(self.ip),
            la: store.now,
            ttl: self.ttl.unwrap_or(default_ttl),
            no_resave: self.no_resave,
            maxage_at: self.maxage.map(|seconds| store.now + seconds),
            d: data.map(|text| store.string(text.as_bytes())),
            epoch: crate::kill_record::stamp(&store),
        };
        let token_string = store.string(&token);
        store.write_new(&mut key, &session);
        store.index_set(&mut user, &token_string, session.expires_at());
        store.schedule_expiry(&mut expiry, &session.id, session.expires_at());
        registry::session_expires(ctx, self.app, session.expires_at());
        store.record_activity(&mut activity, &session.id);
        stats::CREATED.add(1);
        store.announce(c"sess.created", self.id);
        if let Some(max) = self.max_sessions {
            evict_beyond(&store, &mut user, self.id, &token_string, max);
        }
        Ok(RedisValue::StringBuffer(token.to_vec()))
    }
}

/// A caller-chosen token that no live session has, with its session key and
/// the dead leftover found there (expired or killed, not yet swept), which
/// CREATE removes once every key it writes has been checked.
struct Claim {
    token: [u8; TOKEN_LEN],
    key: Key,
    leftover: Option<StoredSession>,
}

/// Checks a caller-chosen token; writes nothing. A live session the Node
/// library still holds (import/) counts as in use, and stays where it is.
fn claim(store: &Store, token: &[u8]) -> Result<Claim, RedisError> {
    let in_use = || RedisError::Str("ERR token in use");
    let key = store.open_session(token, true)?;
    let leftover = if key.kind() == Kind::Empty {
        if crate::import::peek(store, token).is_some() {
            return Err(in_use());
        }
        // In a cluster, a slot being migrated may hold it on the other node.
        crate::cluster::need(store, [&key])?;
        None
    } else {
        match store.read(&key) {
            Some(session) if store.is_live(&session) => return Err(in_use()),
            Some(session) => Some(session),
            // Not a session hash: a key the module did not write.
            None => return Err(in_use()),
        }
    };
    let mut chosen = [0u8; TOKEN_LEN];
    chosen.copy_from_slice(token);
    Ok(Claim {
        token: chosen,
        key,
        leftover,
    })
}

/// Removes the user's least recently active live sessions until `max`
/// remain, never `newest` (the session just created). Ties on the last
/// active second go by token order: a session's creation time is not stored
/// (storing it would change every session's hash).
pub fn evict_beyond(store: &Store, user: &mut Key, id: &[u8], newest: &RedisString, max: usize) {
    let mut others: Vec<(i64, RedisString)> = user
        .zset_range(f64::NEG_INFINITY, f64::INFINITY, usize::MAX)
        .into_iter()
        .filter(|(token, _)| token.as_slice() != newest.as_slice())
        .filter_map(|(token, _)| {
            let key = store.open_session(token.as_slice(), false).ok()?;
            let session = store.read(&key)?;
            (session.id.as_slice() == id && store.is_live(&session)).then_some((session.la, token))
        })
        .collect();
    // The new session counts as one of the `max`.
    let excess = (others.len() + 1).saturating_sub(max);
    if excess == 0 {
        return;
    }
    others.sort_by(|(la_a, a), (la_b, b)| {
        la_a.cmp(la_b).then_with(|| a.as_slice().cmp(b.as_slice()))
    });
    for (_, token) in others.iter().take(excess) {
        store.remove_session(token.as_slice(), id);
        store.index_remove(user, token);
        stats::EVICTED.add(1);
        store.announce(c"sess.evicted", id);
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    // A chosen token is live from this command on: never shown by SLOWLOG
    // or MONITOR (the word after any TOKEN; an option value that happens
    // to read TOKEN only hides one more argument).
    let client_args = crate::cluster::client_args(&args);
    let tokens: Vec<usize> = (3..client_args.len())
        .filter(|&at| client_args[at].as_slice().eq_ignore_ascii_case(b"TOKEN"))
        .map(|at| at + 2)
        .collect();
    if !tokens.is_empty() {
        super::redact(ctx, &args, &tokens);
    }
    let args = super::arguments(&args, 3, usize::MAX)?;
    let max = usize::try_from(MAX_DATA_BYTES.get()).unwrap_or(usize::MAX);
    Create::parse(&args, max)?.run(ctx, DEFAULT_TTL.get(), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&[u8]]) -> Result<Create<'static>, String> {
        let owned: Vec<&'static [u8]> = args
            .iter()
            .map(|a| &*Box::leak(a.to_vec().into_boxed_slice()))
            .collect();
        Create::parse(&owned, 1000).map_err(|e| e.to_string())
    }

    #[test]
    fn options_in_any_order_and_case() {
        let c = parse(&[
            b"app",
            b"u1",
            b"ip",
            b"noresave",
            b"data",
            br#"{"a":1}"#,
            b"Ttl",
            b"60",
        ])
        .unwrap();
        assert_eq!(c.ttl, Some(60));
        assert!(c.no_resave);
        assert!(c.data.is_some());
        let plain = parse(&[b"app", b"u1", b"ip"]).unwrap();
        assert_eq!(
            (plain.ttl, plain.no_resave, plain.data.is_none()),
            (None, false, true)
        );
    }

    #[test]
    fn repeated_unknown_or_incomplete_options_are_syntax_errors() {
        for bad in [
            &[&b"app"[..], b"u", b"ip", b"TTL", b"60", b"TTL", b"60"][..],
            &[b"app", b"u", b"ip", b"NORESAVE", b"NORESAVE"],
            &[b"app", b"u", b"ip", b"FOREVER"],
            &[b"app", b"u", b"ip", b"TTL"],
            &[b"app", b"u", b"ip", b"DATA"],
        ] {
            assert_eq!(parse(bad).err().unwrap(), "ERR syntax error", "{bad:?}");
        }
    }

    #[test]
    fn arguments_are_checked_in_order() {
        assert!(parse(&[b"a", b"", b""])
            .err()
            .unwrap()
            .starts_with("ERR invalid app"));
        assert!(parse(&[b"app", b"", b""])
            .err()
            .unwrap()
            .starts_with("ERR invalid id"));
        assert!(parse(&[b"app", b"u", b""])
            .err()
            .unwrap()
            .starts_with("ERR invalid ip"));
        assert!(parse(&[b"app", b"u", b"ip", b"TTL", b"5"])
            .err()
            .unwrap()
            .starts_with("ERR invalid ttl"));
        assert_eq!(
            parse(&[b"app", b"u", b"ip", b"DATA", b"{}"]).err().unwrap(),
            "ERR invalid json: the object has no keys"
        );
    }
}
