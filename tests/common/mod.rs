//! Shared test support: real servers and an exact RESP client.
#![allow(dead_code, unused_imports)]

pub mod cluster;
pub mod library;
pub mod node;
pub mod resp;
pub mod server;
pub mod traffic;

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

/// Every key in the server's current database, sorted, but the apps' kill
/// records (`_kills`): a kill leaves one for a pass or two of the keyspace
/// scan, which removes it (tests/hostile_data.rs checks that it does).
pub fn keys(c: &mut Client) -> Vec<String> {
    let mut all: Vec<String> = c
        .call(&["KEYS", "*"])
        .array()
        .iter()
        .map(Reply::text)
        .filter(|k| !k.ends_with("}:_kills"))
        .collect();
    all.sort();
    all
}

/// The server's clock, in fractional unix seconds.
pub fn server_now(c: &mut Client) -> f64 {
    let t = c.call(&["TIME"]).array();
    t[0].text().parse::<f64>().unwrap() + t[1].text().parse::<f64>().unwrap() / 1e6
}

/// Sleeps until the server clock reads `at` (unix seconds, fractional).
pub fn sleep_until(c: &mut Client, at: f64) {
    let wait = at - server_now(c);
    if wait > 0.0 {
        std::thread::sleep(std::time::Duration::from_secs_f64(wait));
    }
}

/// The stored last activity of a session.
pub fn la(c: &mut Client, app: &str, token: &str) -> i64 {
    c.call(&["HGET", &format!("rs:{{{app}}}:{token}"), "la"])
        .text()
        .parse()
        .unwrap()
}

/// Waits until `replica` reports its link to the master up.
pub fn wait_for_link(replica: &Server) {
    let mut c = replica.client();
    assert!(
        eventually(20, || c
            .call(&["INFO", "replication"])
            .text()
            .contains("master_link_status:up")),
        "replica never connected:\n{}",
        replica.log()
    );
}

/// A replica of `master` started with `options`, linked.
pub fn replica_of(master: &Server, options: Options) -> Server {
    let replica = Server::with(options.config("replicaof", &format!("127.0.0.1 {}", master.port)));
    wait_for_link(&replica);
    replica
}

/// A master and a replica of it, both with the module, linked.
pub fn master_and_replica() -> (Server, Server) {
    let master = Server::start();
    let replica = replica_of(&master, Options::default());
    (master, replica)
}

/// True once the replica has applied everything the master sent.
pub fn in_sync(master: &mut Client, replica: &mut Client) -> bool {
    master.call(&["WAIT", "1", "5000"]);
    let offset = |c: &mut Client, field: &str| -> String {
        let info = c.call(&["INFO", "replication"]).text();
        info.lines()
            .find_map(|l| l.strip_prefix(field))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    eventually(10, || {
        offset(master, "master_repl_offset:") == offset(replica, "slave_repl_offset:")
    })
}

/// Session hashes of the app `shop` (not its index keys).
pub fn session_hashes(c: &mut Client) -> Vec<String> {
    keys(c)
        .into_iter()
        .filter(|k| k.starts_with("rs:{shop}:") && !k.contains(":_") && !k.contains(":us:"))
        .collect()
}

/// Creates `n` sessions of ttl 10 in the app `shop` over 5 users; returns
/// their tokens and the server second from which all of them are expired
/// (they were created within a second or two: the latest decides).
pub fn sessions_expiring_soon(c: &mut Client, n: usize) -> (Vec<String>, f64) {
    let tokens: Vec<String> = (0..n)
        .map(|i| create(c, "shop", &format!("u{}", i % 5), &["TTL", "10"]))
        .collect();
    let last = tokens.iter().map(|t| la(c, "shop", t)).max().unwrap();
    (tokens, (last + 11) as f64)
}

/// One integer field of `INFO sess`.
pub fn info_field(c: &mut Client, name: &str) -> i64 {
    let info = c.call(&["INFO", "sess"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}
