//! `SESS.IMPORT app [COUNT n]`: moves up to `n` (default 100) of the app's
//! sessions from redis-sessions' keys into the module's layout (import/),
//! dropping the expired ones. Replies `moved`, `dropped` and `remaining`;
//! call it until `remaining` is 0.

use redis_module::{Context, RedisError, RedisResult, RedisString};

use crate::args;
use crate::error::{internal, syntax};
use crate::import::library::Library;
use crate::reply::Reply;
use crate::store::Store;

const DEFAULT_COUNT: usize = 100;

pub struct Import<'a> {
    app: &'a [u8],
    count: usize,
}

impl<'a> Import<'a> {
    pub fn parse(args: &[&'a [u8]]) -> Result<Self, RedisError> {
        let app = args::app(args[0])?;
        let count = match &args[1..] {
            [] => DEFAULT_COUNT,
            [option, n] if option.eq_ignore_ascii_case(b"COUNT") => args::import_count(n)?,
            _ => return Err(syntax()),
        };
        Ok(Import { app, count })
    }

    pub fn run(self, ctx: &Context) -> RedisResult {
        if crate::cluster::enabled() {
            return Err(internal(
                "SESS.IMPORT is not available in cluster mode: redis-sessions never ran on a cluster, so there is nothing to import",
            ));
        }
        let store = Store::new(ctx, self.app);
        let Some(library) = Library::of(&store) else {
            return Err(internal(
                "the import is off: set sess.import-namespace to the namespace redis-sessions used (rs by default)",
            ));
        };
        let batch = crate::import::batch(&store, &library, self.count)?;
        let reply = Reply::new(ctx);
        reply.counts(&[
            ("moved", batch.moved),
            ("dropped", batch.dropped),
            ("remaining", batch.remaining),
        ]);
        Ok(reply.done())
    }
}

pub fn command(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let args = super::arguments(&args, 1, 3)?;
    Import::parse(&args)?.run(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_is_optional_and_bounded() {
        assert_eq!(Import::parse(&[b"app"]).unwrap().count, 100);
        assert_eq!(Import::parse(&[b"app", b"count", b"5"]).unwrap().count, 5);
        for bad in [&[&b"app"[..], b"COUNT"][..], &[b"app", b"LIMIT", b"5"]] {
            assert_eq!(
                Import::parse(bad).err().unwrap().to_string(),
                "ERR syntax error"
            );
        }
        let e = Import::parse(&[b"app", b"COUNT", b"0"]).err().unwrap();
        assert!(e.to_string().starts_with("ERR invalid count"), "{e}");
    }
}
