//! What a client sees of a session, which depends on the command: GET shows
//! the counters before its own read, SET shows them after its write. Both
//! reply forms (reply.rs: a map; session_json.rs: one JSON text) render it.

use crate::session::{Bytes, Session};

/// The numbers a client sees, which depend on the command: GET shows the
/// counters before its own read, SET shows them after its write.
pub struct View<'a, B> {
    pub session: &'a Session<B>,
    pub r: i64,
    pub w: i64,
    pub ttl: i64,
    pub idle: i64,
    /// Seconds left of a MAXAGE session's absolute lifetime.
    pub maxage: Option<i64>,
    pub d: Option<&'a [u8]>,
}

impl<'a, B: Bytes> View<'a, B> {
    /// The session as stored, seen at `now`.
    pub fn stored(session: &'a Session<B>, now: i64) -> Self {
        View {
            session,
            r: session.r,
            w: session.w,
            ttl: session.visible_ttl(now),
            idle: session.idle(now),
            maxage: session.maxage_left(now),
            d: session.d.as_ref().map(Bytes::bytes),
        }
    }
}
