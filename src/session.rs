//! The session record and its time rules, free of any Redis type.
//!
//! Times are whole seconds of the Redis server's clock, read once per command
//! and passed in as `now`, so every rule here is tested with a fixed clock.
//! A session is live while `now - la <= ttl`; from second `la + ttl + 1` on it
//! is expired and no command may return it.

use crate::args::MAX_SECONDS;

/// The fields of a session hash. `B` is the byte container: owned bytes in
/// tests, Redis strings when read from a key (no copies).
#[derive(Debug, Clone, PartialEq)]
pub struct Session<B> {
    pub id: B,
    /// Reads so far (create counts as one).
    pub r: i64,
    /// Writes so far (create counts as one).
    pub w: i64,
    pub ip: B,
    /// Last activity, unix seconds.
    pub la: i64,
    /// Seconds of idleness allowed; for a `no_resave` session, the seconds
    /// left after `la` (so `la + ttl` stays the fixed end of its life).
    pub ttl: i64,
    pub no_resave: bool,
    /// For a session created with MAXAGE: the last second it may live
    /// (unix seconds), whatever its activity.
    pub maxage_at: Option<i64>,
    /// The data object as JSON text, absent when the session has no data.
    pub d: Option<B>,
    /// The kill epoch the session was created after (`kill_epoch.rs`): 0
    /// (no field) when its app had no kill on record at its creation.
    pub epoch: i64,
}

/// Byte access to a stored value, whatever container holds it.
pub trait Bytes {
    fn bytes(&self) -> &[u8];
}

impl Bytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl Bytes for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl Bytes for redis_module::RedisString {
    fn bytes(&self) -> &[u8] {
        self.as_slice()
    }
}

/// What a command writes back when it touches a session: only what
/// changes. Within the second of the last activity nothing does.
#[derive(Debug, PartialEq, Eq)]
pub struct Touch {
    /// The new last activity, if it moves.
    pub la: Option<i64>,
    /// The new stored ttl, only for `no_resave` sessions whose `la` moves
    /// (for the others the ttl never changes).
    pub ttl: Option<i64>,
}

impl<B> Session<B> {
    /// Seconds since the last activity, never negative (the clock may step
    /// back between commands).
    pub fn idle(&self, now: i64) -> i64 {
        now.saturating_sub(self.la).max(0)
    }

    /// Live while idle for at most `ttl` seconds. The arithmetic saturates,
    /// so no stored value can wrap an ancient session into a live one, and a
    /// last activity more than a year ahead of the clock (which this module
    /// never writes; a clock step back is far smaller) counts as expired, so
    /// a tampered `la` cannot make a session immortal either.
    pub fn is_live(&self, now: i64) -> bool {
        let idle = now.saturating_sub(self.la);
        (-MAX_SECONDS..=self.ttl).contains(&idle) && self.maxage_at.is_none_or(|end| now <= end)
    }

    /// Whether a kill recorded with epoch `killed_at` (the latest of its
    /// app's and its user's, 0 for none) ended this session: it did when
    /// the session was created before that kill.
    pub fn killed_by(&self, killed_at: i64) -> bool {
        killed_at > 0 && self.epoch <= killed_at
    }

    /// Whole seconds left of a MAXAGE session's absolute lifetime.
    pub fn maxage_left(&self, now: i64) -> Option<i64> {
        self.maxage_at.map(|end| end.saturating_sub(now).max(0))
    }

    /// The first second at which the session counts as expired; the sweeper
    /// removes it once the clock reaches this.
    pub fn expires_at(&self) -> i64 {
        let idle_end = self.la.saturating_add(self.ttl).saturating_add(1);
        match self.maxage_at {
            Some(end) => idle_end.min(end.saturating_add(1)),
            None => idle_end,
        }
    }

    /// The ttl a client sees: the configured ttl, or for a `no_resave`
    /// session the seconds it has left.
    pub fn visible_ttl(&self, now: i64) -> i64 {
        if self.no_resave {
            self.la.saturating_add(self.ttl).saturating_sub(now).max(0)
        } else {
            self.ttl
        }
    }

    /// Recording activity at `now`: `la` moves to now, which slides the expiry
    /// forward; a `no_resave` session keeps its end by shrinking its ttl.
    pub fn touch(&self, now: i64) -> Touch {
        let moves = self.la != now;
        Touch {
            la: moves.then_some(now),
            ttl: (moves && self.no_resave).then(|| self.visible_ttl(now)),
        }
    }

    /// A touch that also gives the session a new ttl (SET ... TTL): idle for
    /// `ttl` seconds from now on; a `no_resave` session then ends `ttl`
    /// seconds from now.
    pub fn touch_with_ttl(&self, now: i64, ttl: i64) -> Touch {
        Touch {
            la: (self.la != now).then_some(now),
            ttl: Some(ttl),
        }
    }

    /// The session as `touch` leaves it (what a command that wrote the touch
    /// shows, and the expiry bound it schedules).
    pub fn apply(&mut self, touch: &Touch) {
        self.la = touch.la.unwrap_or(self.la);
        self.ttl = touch.ttl.unwrap_or(self.ttl);
    }

    /// Whether this touch must refresh the user's activity entry. The entry
    /// holds the user's latest activity, so it already lies in this second
    /// when this session was active in it.
    pub fn refreshes_activity(&self, now: i64) -> bool {
        self.la != now
    }
}

/// Whether a kill epoch read from a key is one this module could have
/// written by `now_ms`: positive and at most a year ahead of the clock (a
/// clock step back is far smaller). Any other value is ignored, so that a
/// tampered record can neither end every future session nor spare one.
pub fn plausible_epoch(epoch: i64, now_ms: i64) -> bool {
    epoch > 0 && epoch <= now_ms.saturating_add(MAX_SECONDS * 1000)
}

/// Parses a stored counter or time. A hash that does not hold a well-formed
/// integer in every required field is not a session.
pub fn parse_int(raw: &[u8]) -> Option<i64> {
    std::str::from_utf8(raw).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(la: i64, ttl: i64, no_resave: bool) -> Session<Vec<u8>> {
        Session {
            id: b"u".to_vec(),
            r: 1,
            w: 1,
            ip: b"1.2.3.4".to_vec(),
            la,
            ttl,
            no_resave,
            maxage_at: None,
            d: None,
            epoch: 0,
        }
    }

    #[test]
    fn a_kill_ends_the_sessions_created_before_it() {
        let mut s = session(1000, 10, false);
        assert!(!s.killed_by(0), "no kill on record");
        assert!(s.killed_by(1), "a session older than any record");
        s.epoch = 5;
        assert!(s.killed_by(5));
        assert!(s.killed_by(9));
        assert!(!s.killed_by(4));
    }

    #[test]
    fn live_until_idle_exceeds_ttl() {
        let s = session(1000, 10, false);
        assert!(s.is_live(1000));
        assert!(s.is_live(1010));
        assert!(!s.is_live(1011));
        assert_eq!(s.expires_at(), 1011);
        assert_eq!(s.idle(1007), 7);
        assert_eq!(s.idle(990), 0);
    }

    #[test]
    fn a_session_after_its_touch_ends_where_the_touch_says() {
        let mut s = session(1000, 10, true);
        s.apply(&s.touch(1004));
        assert_eq!((s.la, s.ttl, s.expires_at()), (1004, 6, 1011));
        let mut s = session(1000, 10, false);
        s.apply(&s.touch_with_ttl(1000, 60));
        assert_eq!((s.la, s.ttl, s.expires_at()), (1000, 60, 1061));
    }

    #[test]
    fn touching_slides_the_expiry() {
        let s = session(1000, 10, false);
        assert_eq!(
            s.touch(1008),
            Touch {
                la: Some(1008),
                ttl: None
            }
        );
        assert_eq!(s.visible_ttl(1008), 10);
        assert!(s.refreshes_activity(1008));
    }

    #[test]
    fn a_second_touch_within_the_same_second_writes_nothing() {
        for no_resave in [false, true] {
            let s = session(1000, 10, no_resave);
            assert_eq!(
                s.touch(1000),
                Touch {
                    la: None,
                    ttl: None
                }
            );
            assert!(!s.refreshes_activity(1000));
        }
    }

    #[test]
    fn no_resave_keeps_its_end_however_often_touched() {
        let s = session(1000, 10, true);
        assert_eq!(s.visible_ttl(1006), 4);
        let t = s.touch(1006);
        assert_eq!(
            t,
            Touch {
                la: Some(1006),
                ttl: Some(4)
            }
        );
        let after = session(t.la.unwrap(), t.ttl.unwrap(), true);
        assert_eq!(after.expires_at(), s.expires_at());
        assert!(after.is_live(1010));
        assert!(!after.is_live(1011));
    }

    #[test]
    fn extreme_stored_values_never_wrap() {
        let ancient = session(i64::MIN, 10, false);
        assert!(!ancient.is_live(1000));
        assert_eq!(ancient.idle(1000), i64::MAX);
        let future = session(i64::MAX, 10, true);
        assert!(
            !future.is_live(1000),
            "a last activity far ahead is not live"
        );
        assert_eq!(future.visible_ttl(1000), i64::MAX - 1000);
        assert_eq!(future.expires_at(), i64::MAX);
        let huge_ttl = session(1000, i64::MAX, true);
        assert!(huge_ttl.is_live(2000));
        assert_eq!(huge_ttl.expires_at(), i64::MAX);
        let clock_stepped_back = session(1005, 10, false);
        assert!(clock_stepped_back.is_live(1000));
        assert_eq!(clock_stepped_back.idle(1000), 0);
    }

    #[test]
    fn maxage_ends_a_session_however_active() {
        let mut s = session(1000, 600, false);
        s.maxage_at = Some(1030);
        assert!(s.is_live(1030));
        assert!(!s.is_live(1031));
        assert_eq!(s.expires_at(), 1031);
        assert_eq!(s.maxage_left(1010), Some(20));
        assert_eq!(s.maxage_left(2000), Some(0));
        s.la = 1029;
        assert!(!s.is_live(1031), "activity does not extend it");
        s.maxage_at = Some(i64::MAX);
        assert_eq!(s.expires_at(), 1029 + 600 + 1);
        assert_eq!(session(1000, 10, false).maxage_left(1000), None);
    }

    #[test]
    fn only_plausible_epochs_count() {
        let now = 1_800_000_000_000;
        assert!(plausible_epoch(now, now));
        assert!(plausible_epoch(1, now));
        assert!(plausible_epoch(now + 1000, now));
        assert!(!plausible_epoch(0, now));
        assert!(!plausible_epoch(-5, now));
        assert!(!plausible_epoch(i64::MAX, now));
        assert!(!plausible_epoch(now + 2 * MAX_SECONDS * 1000, now));
    }

    #[test]
    fn stored_integers() {
        assert_eq!(parse_int(b"42"), Some(42));
        assert_eq!(parse_int(b"-3"), Some(-3));
        assert_eq!(parse_int(b"4.5"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b"\xff"), None);
    }
}
