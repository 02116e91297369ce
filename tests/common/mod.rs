//! Shared test support: real servers and an exact RESP client.
#![allow(dead_code, unused_imports)]

pub mod resp;
pub mod server;

pub use resp::{Client, Reply};
pub use server::{eventually, Options, Server};

/// Creates a session and returns its token.
pub fn create(c: &mut Client, app: &str, id: &str, extra: &[&str]) -> String {
    let mut args = vec!["SESS.CREATE", app, id, "10.0.0.1"];
    args.extend_from_slice(extra);
    let r = c.call(&args);
    match r {
        Reply::Bulk(_) => r.text(),
        other => panic!("SESS.CREATE failed: {other:?}"),
    }
}

/// Every key in the server's current database, sorted.
pub fn keys(c: &mut Client) -> Vec<String> {
    let mut all: Vec<String> = c
        .call(&["KEYS", "*"])
        .array()
        .iter()
        .map(Reply::text)
        .collect();
    all.sort();
    all
}
