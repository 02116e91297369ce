//! Replies written straight to the client with the module reply API.
//!
//! A session is a map with a fixed field order; `redis-module`'s map values
//! are either unordered or sorted by key, so the map is written by hand.
//! `RM_ReplyWithMap` sends a RESP3 map, or to RESP2 clients the flat
//! field/value array that HGETALL also returns.

use std::os::raw::c_long;

use redis_module::{raw, Context, RedisValue};

use crate::api::call;
pub use crate::args::Format;
use crate::session::Bytes;
use crate::session_json;
pub use crate::view::View;

/// Where replies go.
pub struct Reply {
    ctx: *mut raw::RedisModuleCtx,
}

impl Reply {
    pub fn new(ctx: &Context) -> Reply {
        Reply { ctx: ctx.get_raw() }
    }

    /// Replies through a raw context: the thread-safe context of a blocked
    /// client, whose replies Redis hands over when it unblocks the client.
    ///
    /// # Safety
    /// `ctx` must stay live while the replies are written.
    pub unsafe fn raw(ctx: *mut raw::RedisModuleCtx) -> Reply {
        Reply { ctx }
    }

    /// An error reply (`text` starts with its code, as `TRYAGAIN ...`).
    pub fn error(&self, text: &str) {
        let text = std::ffi::CString::new(text).unwrap_or_default();
        unsafe { call!(RedisModule_ReplyWithError(self.ctx, text.as_ptr()) or 0) };
    }

    pub fn int(&self, value: i64) {
        // SAFETY (all methods): ctx is the live context of the running command.
        unsafe { call!(RedisModule_ReplyWithLongLong(self.ctx, value) or 0) };
    }

    pub fn bulk(&self, value: &[u8]) {
        unsafe {
            call!(RedisModule_ReplyWithStringBuffer(
                self.ctx,
                value.as_ptr().cast(),
                value.len(),
            ) or 0)
        };
    }

    pub fn array(&self, len: usize) {
        unsafe { call!(RedisModule_ReplyWithArray(self.ctx, len as c_long) or 0) };
    }

    fn map(&self, len: usize) {
        unsafe { call!(RedisModule_ReplyWithMap(self.ctx, len as c_long) or 0) };
    }

    /// Named counts, as a map (`moved 10 dropped 2 remaining 0`).
    pub fn counts(&self, counts: &[(&str, i64)]) {
        self.map(counts.len());
        for (name, value) in counts {
            self.bulk(name.as_bytes());
            self.int(*value);
        }
    }

    /// One session in the `format` the client asked for.
    pub fn session<B: Bytes>(&self, format: Format, token: Option<&[u8]>, view: &View<'_, B>) {
        match format {
            Format::Map => self.session_map(token, view),
            Format::Json => self.bulk(&session_json::render(token, view)),
        }
    }

    /// One session: `[token] id r w ttl idle ip [no_resave] [maxage] [d]`.
    fn session_map<B: Bytes>(&self, token: Option<&[u8]>, view: &View<'_, B>) {
        let s = view.session;
        let fields = 6
            + usize::from(token.is_some())
            + usize::from(s.no_resave)
            + usize::from(view.maxage.is_some())
            + usize::from(view.d.is_some());
        self.map(fields);
        if let Some(token) = token {
            self.bulk(b"token");
            self.bulk(token);
        }
        self.bulk(b"id");
        self.bulk(s.id.bytes());
        self.bulk(b"r");
        self.int(view.r);
        self.bulk(b"w");
        self.int(view.w);
        self.bulk(b"ttl");
        self.int(view.ttl);
        self.bulk(b"idle");
        self.int(view.idle);
        self.bulk(b"ip");
        self.bulk(s.ip.bytes());
        if s.no_resave {
            self.bulk(b"no_resave");
            self.int(1);
        }
        if let Some(left) = view.maxage {
            self.bulk(b"maxage");
            self.int(left);
        }
        if let Some(d) = view.d {
            self.bulk(b"d");
            self.bulk(d);
        }
    }

    /// Tells the command wrapper that the reply has been written.
    pub fn done(self) -> RedisValue {
        RedisValue::NoReply
    }
}
