//! The walk behind SOID and SOAPP, resumable: it reads sessions a chunk at a
//! time and can stop after any chunk and go on in a later step, from where
//! it stood. Nothing here writes.
//!
//! SOID reads every session its user's index lists. SOAPP visits the users
//! the activity index shows in its window, most recently active first, and
//! reads their sessions; with LIMIT it stops at the first user whose
//! sessions can no longer come before the `count` found (a user's sessions
//! are never more recent than the user's activity second), so its work is
//! bounded by `count` and the sessions of the users visited.

use std::collections::HashSet;
use std::time::Instant;

use redis_module::RedisString;

use crate::args::TOKEN_LEN;
use crate::redis_key::{Key, Kind};
use crate::session::Session;
use crate::store::Store;

/// Session indexes read per chunk (about 0.2 ms).
const CHUNK: usize = 100;

/// A session found, owned (it outlives the command that found it), with
/// its user's activity score: sessions of the same second come by their
/// users' activity order.
pub struct Entry {
    pub user_score: f64,
    pub token: Vec<u8>,
    pub session: Session<Vec<u8>>,
}

/// What to list.
pub enum Scope {
    /// SOID: the sessions of one user.
    User(Vec<u8>),
    /// SOAPP: the app's sessions active after this second.
    App { active_after: i64 },
}

/// Where a walk stands.
pub struct Walk {
    pub scope: Scope,
    pub limit: usize,
    /// SOAPP: the last user taken from the activity index (score, id).
    users_after: Option<(f64, Vec<u8>)>,
    /// The user whose sessions are being read, and the last index entry
    /// read (score, token).
    reading: Option<Reading>,
    done: bool,
    pub found: Vec<Entry>,
    /// The `limit`-th entry found so far: (last activity, user score).
    kth: Option<(i64, f64)>,
    /// Every token read so far.
    seen: HashSet<[u8; TOKEN_LEN]>,
    /// SOAPP: the users whose sessions were read or are being read.
    visited: HashSet<Vec<u8>>,
    /// SOAPP: users to read who became active above where the walk of the
    /// activity index stands (id, activity score).
    queue: Vec<(Vec<u8>, f64)>,
    /// Whether entries beyond twice the limit are dropped as the walk goes
    /// (memory bounded by the limit), and whether any were.
    trimming: bool,
    pub trimmed: bool,
}

struct Reading {
    id: Vec<u8>,
    user_score: f64,
    after: Option<(f64, Vec<u8>)>,
}

impl Walk {
    pub fn new(scope: Scope, limit: Option<usize>) -> Walk {
        let reading = match &scope {
            Scope::User(id) => Some(Reading {
                id: id.clone(),
                user_score: 0.0,
                after: None,
            }),
            Scope::App { .. } => None,
        };
        Walk {
            scope,
            limit: limit.unwrap_or(usize::MAX),
            users_after: None,
            reading,
            done: false,
            found: Vec::new(),
            kth: None,
            seen: HashSet::new(),
            visited: HashSet::new(),
            queue: Vec::new(),
            trimming: true,
            trimmed: false,
        }
    }

    /// The same walk from the start; `keep_all`: keeping every entry (after
    /// sessions it kept were killed meanwhile, the ones it had dropped are
    /// needed).
    pub fn restart(&mut self, keep_all: bool) {
        let scope = std::mem::replace(&mut self.scope, Scope::App { active_after: 0 });
        let limit = (self.limit != usize::MAX).then_some(self.limit);
        *self = Walk::new(scope, limit);
        self.trimming = !keep_all;
    }

    /// SOAPP: user `id` became active (activity `score`) while the walk ran;
    /// unless already visited, its sessions are read too. True when the
    /// walk has more to do.
    pub fn revisit(&mut self, id: &[u8], score: f64) -> bool {
        if !matches!(self.scope, Scope::App { .. }) || self.visited.contains(id) {
            return false;
        }
        self.visited.insert(id.to_vec());
        self.queue.push((id.to_vec(), score));
        self.done = false;
        true
    }

    /// The oldest last activity a session listed may have, exclusive.
    pub fn active_after(&self) -> i64 {
        match self.scope {
            Scope::User(_) => i64::MIN,
            Scope::App { active_after } => active_after,
        }
    }

    /// Walks on until the end or until `deadline` (None: to the end); true
    /// once the walk is complete.
    pub fn run(&mut self, store: &Store, deadline: Option<Instant>) -> bool {
        while !self.done {
            if self.reading.is_none() && !self.next_user(store) {
                self.done = true;
                break;
            }
            self.read_chunk(store);
            if deadline.is_some_and(|end| Instant::now() >= end) {
                break;
            }
        }
        self.done
    }

    /// SOAPP: takes the next user of the window, unless none can qualify.
    fn next_user(&mut self, store: &Store) -> bool {
        let Scope::App { active_after } = self.scope else {
            return false; // SOID: its one user is read
        };
        if let Some((id, user_score)) = self.queue.pop() {
            self.reading = Some(Reading {
                id,
                user_score,
                after: None,
            });
            return true;
        }
        let Ok(activity) = store.open_index(&store.keys.activity(), false) else {
            return false;
        };
        let max = self.users_after.as_ref().map_or(f64::INFINITY, |(s, _)| *s);
        let mut next = None;
        let visited = &self.visited;
        activity.zset_visit_highest((active_after + 1) as f64, max, |id, score| {
            let passed = self
                .users_after
                .as_ref()
                .is_some_and(|(s, m)| score == *s && id.as_slice() >= m.as_slice());
            // (A user read already, through `revisit`, is passed over.)
            if !passed && !visited.contains(id.as_slice()) {
                next = Some((id, score));
                return false;
            }
            true
        });
        let Some((id, score)) = next else {
            return false;
        };
        // Users not yet visited have no session newer than this second, and
        // within it they come after the users visited (lower score).
        if self.kth.is_some_and(|(la, user_score)| {
            la > score.floor() as i64 || (la == score.floor() as i64 && user_score > score)
        }) {
            return false;
        }
        let id = id.as_slice().to_vec();
        self.users_after = Some((score, id.clone()));
        self.visited.insert(id.clone());
        self.reading = Some(Reading {
            id,
            user_score: score,
            after: None,
        });
        true
    }

    /// Reads the next chunk of the current user's index.
    fn read_chunk(&mut self, store: &Store) {
        let active_after = self.active_after();
        let Some(reading) = &mut self.reading else {
            return;
        };
        let user = Key::open(store.ctx(), &store.keys.user_sessions(&reading.id), false);
        if reading.after.is_none() {
            // Room for the whole user at once: growing a set or a list of
            // 100,000 entries later would copy it within one step.
            self.seen.reserve(user.size());
            self.found
                .reserve(user.size().min(self.limit.saturating_mul(2)));
        }
        let chunk =
            if user.kind() != Kind::ZSet || !crate::graves::index_current(store, &reading.id) {
                // No index, or the dead index of a KILLALL not yet freed.
                Vec::new()
            } else {
                match &reading.after {
                    None => user.zset_range(f64::NEG_INFINITY, f64::INFINITY, CHUNK),
                    Some((score, token)) => chunk_after(store, &user, *score, token),
                }
            };
        let killed_at = store.kill_epoch(&reading.id);
        for (token, _) in &chunk {
            // Read once: an entry the sweeper re-scored after it was read
            // comes again further on.
            let Ok(whole) = <[u8; TOKEN_LEN]>::try_from(token.as_slice()) else {
                continue; // not a token: names no session
            };
            if !self.seen.insert(whole) {
                continue;
            }
            if let Some(session) = qualifying(store, token, &reading.id, active_after, killed_at) {
                self.found.push(Entry {
                    user_score: reading.user_score,
                    token: token.as_slice().to_vec(),
                    session,
                });
            }
        }
        match chunk.last() {
            Some((token, score)) if chunk.len() == CHUNK => {
                reading.after = Some((*score, token.as_slice().to_vec()));
            }
            _ => self.reading = None,
        }
        self.trim();
    }

    /// Keeps no more than twice `limit` entries, the most recent.
    fn trim(&mut self) {
        let limit = self.limit;
        if self.trimming
            && self.found.len() >= limit
            && (self.kth.is_none() || self.found.len() >= limit.saturating_mul(2))
        {
            most_recent_first(&mut self.found);
            self.trimmed |= self.found.len() > limit;
            self.found.truncate(limit);
            self.kth = self.found.last().map(|e| (e.session.la, e.user_score));
        }
    }
}

/// The next chunk of a user's index after the entry (`score`, `token`), in
/// the index's order. The key API can only seek a score, and a whale's
/// sessions created in one second share one: ZRANK finds the entry in
/// O(log n), and ZRANGE by rank reads on from there. When the entry has
/// left the index meanwhile, the walk seeks its score and skips what came
/// before it there.
fn chunk_after(store: &Store, user: &Key, score: f64, token: &[u8]) -> Vec<(RedisString, f64)> {
    use crate::redis_call::run;
    let name = user.name();
    let member = store.string(token);
    let rank = match run(store.ctx(), c"ZRANK", &[name, &member]) {
        Ok(reply) if !reply.is_error() && !reply.is_null() => reply.integer(),
        _ => return user.zset_range_after(score, token, f64::INFINITY, CHUNK),
    };
    let (from, to) = (store.int(rank + 1), store.int(rank + CHUNK as i64));
    let withscores = store.string(b"WITHSCORES");
    // (Renamed or disabled by rename-command: the slower seek still works.)
    let reply = match run(store.ctx(), c"ZRANGE", &[name, &from, &to, &withscores]) {
        Ok(reply) if !reply.is_error() => reply,
        _ => return user.zset_range_after(score, token, f64::INFINITY, CHUNK),
    };
    reply
        .strings()
        .chunks(2)
        .filter_map(|pair| {
            let score = std::str::from_utf8(pair.get(1)?).ok()?.parse().ok()?;
            Some((store.string(&pair[0]), score))
        })
        .collect()
}

/// The live session `token` of user `id` active after `active_after`, as
/// an owned copy.
/// `killed_at` is the user's latest kill epoch (`Store::kill_epoch`), read
/// once per chunk rather than once per session.
fn qualifying(
    store: &Store,
    token: &RedisString,
    id: &[u8],
    active_after: i64,
    killed_at: i64,
) -> Option<Session<Vec<u8>>> {
    let key = store.open_session(token.as_slice(), false).ok()?;
    let session = store.read(&key)?;
    let live = session.is_live(store.now) && !session.killed_by(killed_at);
    (session.id.as_slice() == id && session.la > active_after && live).then(|| owned(&session))
}

/// A session read from a key, copied out of Redis's strings.
pub fn owned(s: &Session<RedisString>) -> Session<Vec<u8>> {
    Session {
        id: s.id.as_slice().to_vec(),
        r: s.r,
        w: s.w,
        ip: s.ip.as_slice().to_vec(),
        la: s.la,
        ttl: s.ttl,
        no_resave: s.no_resave,
        maxage_at: s.maxage_at,
        d: s.d.as_ref().map(|d| d.as_slice().to_vec()),
        epoch: s.epoch,
    }
}

/// Most recent activity first; within one second the more recently active
/// user first, then by token.
pub fn most_recent_first(found: &mut [Entry]) {
    found.sort_by(|a, b| {
        b.session
            .la
            .cmp(&a.session.la)
            .then_with(|| b.user_score.total_cmp(&a.user_score))
            .then_with(|| a.token.cmp(&b.token))
    });
}
