//! Import of redis-sessions data (`sess.import-namespace`): sessions written
//! in the Node library's layout move into the module's as they are used, and
//! the rest with SESS.IMPORT, keeping token, counters, ip, ttl, no_resave,
//! data and last activity, and leaving no trace in the library's keys.
//!
//! The library's writes are reproduced command for command (reference §6.1,
//! the MULTI of `create`); `node_library.rs` does the same with the
//! library itself.

mod common;

use common::{in_sync, keys, replica_of, server_now, Client, Options, Server};

/// A server importing from the library's default namespace `rs`, with the
/// background import off so that each test sees what its own commands
/// moved (tests/import_background.rs covers the background).
fn importing() -> Server {
    Server::with(
        Options::default()
            .module_arg("import-namespace", "rs")
            .module_arg("import-batch", "0"),
    )
}

/// One session as redis-sessions 4.0 `create` writes it, `idle` seconds ago.
struct Legacy<'a> {
    app: &'a str,
    id: &'a str,
    ttl: i64,
    idle: i64,
    d: Option<&'a str>,
    no_resave: bool,
}

impl Legacy<'_> {
    fn user(app: &str, id: &str) -> Legacy<'static> {
        Legacy {
            app: Box::leak(app.to_string().into_boxed_str()),
            id: Box::leak(id.to_string().into_boxed_str()),
            ttl: 7200,
            idle: 5,
            d: None,
            no_resave: false,
        }
    }

    fn write(&self, c: &mut Client, token: &str) {
        let la = server_now(c) as i64 - self.idle;
        let mut extra = Vec::new();
        if let Some(d) = self.d {
            extra.push(("d", d));
        }
        if self.no_resave {
            extra.push(("no_resave", "1"));
        }
        common::library::write_session(c, (self.app, self.id, token), la, self.ttl, &extra);
    }
}

fn token(n: usize) -> String {
    let base = format!("{n:08}");
    format!("{}{base}", "T".repeat(64 - base.len()))
}

/// Every key the library's layout has for `app`, and its global index.
fn library_traces(c: &mut Client, app: &str) -> Vec<String> {
    let mut left: Vec<String> = keys(c)
        .into_iter()
        .filter(|k| k.starts_with(&format!("rs:{app}:")))
        .collect();
    let global = c.call(&["ZRANGE", "rs:SESSIONS", "0", "-1"]).strings();
    left.extend(
        global
            .into_iter()
            .filter(|m| m.starts_with(&format!("{app}:"))),
    );
    left
}

#[test]
fn a_session_used_after_the_switch_moves_with_everything_it_had() {
    let server = importing();
    let mut c = server.client();
    let alice = token(1);
    let mut with_data = Legacy::user("shop", "alice:x");
    with_data.d = Some(r#"{"cart":3,"name":"A"}"#);
    with_data.idle = 30;
    with_data.write(&mut c, &alice);
    let la: i64 = c
        .call(&["HGET", &format!("rs:shop:{alice}"), "la"])
        .text()
        .parse()
        .unwrap();
    let other = token(2);
    Legacy::user("shop", "alice:x").write(&mut c, &other);

    let got = c.call(&["SESS.GET", "shop", &alice]);
    assert_eq!(got.field("id").unwrap().text(), "alice:x");
    assert_eq!(
        got.field("r").unwrap().int(),
        1,
        "r as stored before this read"
    );
    assert_eq!(got.field("ttl").unwrap().int(), 7200);
    assert_eq!(got.field("idle").unwrap().int(), 30, "last activity kept");
    assert_eq!(got.field("ip").unwrap().text(), "10.1.2.3");
    assert_eq!(got.field("d").unwrap().text(), r#"{"cart":3,"name":"A"}"#);
    let hash = c
        .call(&["HGETALL", &format!("rs:{{shop}}:{alice}")])
        .strings();
    assert_eq!(
        hash[..8],
        ["id", "alice:x", "r", "2", "w", "1", "ip", "10.1.2.3"]
    );
    assert_eq!(
        c.call(&["ZSCORE", "rs:{shop}:us:alice:x", &alice]).text(),
        (la + 7200 + 1).to_string(),
        "indexed at the expiry of its stored activity"
    );
    // The library keeps only the session not used yet.
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{alice}")]).int(), 0);
    assert_eq!(
        c.call(&["SMEMBERS", "rs:shop:us:alice:x"]).strings(),
        std::slice::from_ref(&other)
    );
    assert_eq!(c.call(&["ZCARD", "rs:shop:_sessions"]).int(), 1);
    assert_eq!(c.call(&["ZCARD", "rs:SESSIONS"]).int(), 1);
    assert_eq!(c.call(&["ZCARD", "rs:shop:_users"]).int(), 1);
    assert_eq!(common::info_field(&mut c, "sess_imported"), 1);

    // PEEK shows the other one without moving it; SET moves it.
    assert_eq!(
        c.call(&["SESS.PEEK", "shop", &other])
            .field("id")
            .unwrap()
            .text(),
        "alice:x"
    );
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{other}")]).int(), 1);
    let set = c.call(&["SESS.SET", "shop", &other, r#"{"a":1}"#]);
    assert_eq!(set.field("w").unwrap().int(), 2);
    assert_eq!(library_traces(&mut c, "shop"), Vec::<String>::new());
    assert_eq!(c.call(&["SESS.SOID", "shop", "alice:x"]).array().len(), 2);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);
}

#[test]
fn no_resave_sessions_keep_their_end_and_expired_ones_stay_behind() {
    let server = importing();
    let mut c = server.client();
    let fixed = token(1);
    let mut legacy = Legacy::user("shop", "bob");
    legacy.no_resave = true;
    legacy.ttl = 100;
    legacy.idle = 40;
    legacy.write(&mut c, &fixed);
    let got = c.call(&["SESS.GET", "shop", &fixed]);
    assert_eq!(got.field("no_resave").unwrap().int(), 1);
    assert_eq!(
        got.field("ttl").unwrap().int(),
        60,
        "the seconds it has left"
    );
    assert_eq!(
        c.call(&["SESS.PEEK", "shop", &fixed])
            .field("ttl")
            .unwrap()
            .int(),
        60
    );

    let expired = token(2);
    let mut old = Legacy::user("shop", "carol");
    old.ttl = 10;
    old.idle = 11;
    old.write(&mut c, &expired);
    for command in ["SESS.GET", "SESS.PEEK", "SESS.ROTATE"] {
        assert!(c.call(&[command, "shop", &expired]).is_nil(), "{command}");
    }
    assert_eq!(c.call(&["SESS.KILL", "shop", &expired]).int(), 0);
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{expired}")]).int(), 1);
    // SOID (like KILLSOID and SESS.IMPORT) drops what it finds expired.
    assert!(c.call(&["SESS.SOID", "shop", "carol"]).array().is_empty());
    assert_eq!(library_traces(&mut c, "shop"), Vec::<String>::new());
}

#[test]
fn killsoid_killall_and_kill_reach_sessions_still_in_the_library() {
    let server = importing();
    let mut c = server.client();
    for n in 0..3 {
        Legacy::user("shop", "dave").write(&mut c, &token(n));
    }
    Legacy::user("shop", "erin").write(&mut c, &token(10));
    Legacy::user("shop", "erin").write(&mut c, &token(11));
    let fresh = common::create(&mut c, "shop", "dave", &[]);
    assert_eq!(c.call(&["SESS.SOID", "shop", "dave"]).array().len(), 4);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "dave"]).int(), 4);
    assert!(c.call(&["SESS.GET", "shop", &fresh]).is_nil());
    assert!(c.call(&["SESS.GET", "shop", &token(1)]).is_nil());
    assert_eq!(c.call(&["SESS.KILL", "shop", &token(10)]).int(), 1);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]).int(), 1);
    assert_eq!(library_traces(&mut c, "shop"), Vec::<String>::new());
    assert!(keys(&mut c).is_empty(), "{:?}", keys(&mut c));
}

#[test]
fn sess_import_moves_an_app_in_bounded_batches_and_replicas_follow() {
    let master = importing();
    let replica = replica_of(&master, Options::default());
    let mut m = master.client();
    for n in 0..2500 {
        Legacy::user("shop", &format!("u{}", n % 700)).write(&mut m, &token(n));
    }
    for n in 5000..5100 {
        let mut old = Legacy::user("shop", "gone");
        old.ttl = 10;
        old.idle = 20;
        old.write(&mut m, &token(n));
    }
    Legacy::user("blog", "other").write(&mut m, &token(9000));

    let mut moved = 0;
    let mut dropped = 0;
    let mut calls = 0;
    loop {
        let batch = m.call(&["SESS.IMPORT", "shop", "COUNT", "1000"]);
        moved += batch.field("moved").unwrap().int();
        dropped += batch.field("dropped").unwrap().int();
        calls += 1;
        if batch.field("remaining").unwrap().int() == 0 {
            break;
        }
        assert!(calls < 10, "{batch:?}");
    }
    assert_eq!((moved, dropped, calls), (2500, 100, 3));
    assert_eq!(library_traces(&mut m, "shop"), Vec::<String>::new());
    assert_eq!(
        library_traces(&mut m, "blog").len(),
        5,
        "other apps untouched"
    );
    for n in [0, 1234, 2499] {
        assert!(!m.call(&["SESS.PEEK", "shop", &token(n)]).is_nil());
    }
    // The 700 users, and "gone", whose expired sessions were dropped: the
    // library counted their activity 20 seconds ago, and so does the module.
    assert_eq!(m.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 701);
    let again = m.call(&["SESS.IMPORT", "shop"]);
    assert_eq!(again.field("moved").unwrap().int(), 0);
    let mut r = replica.client();
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
}

#[test]
fn without_the_setting_nothing_is_imported_and_sess_import_says_why() {
    let server = Server::start();
    let mut c = server.client();
    Legacy::user("shop", "frank").write(&mut c, &token(1));
    assert!(c.call(&["SESS.GET", "shop", &token(1)]).is_nil());
    let reply = c.call(&["SESS.IMPORT", "shop"]);
    assert!(reply.err().contains("import is off"), "{reply:?}");
    // Set at run time, it starts at once; emptied, it stops.
    assert!(c
        .call(&["CONFIG", "SET", "sess.import-namespace", "rs"])
        .is_simple("OK"));
    assert!(!c.call(&["SESS.PEEK", "shop", &token(1)]).is_nil());
    assert!(c
        .call(&["CONFIG", "SET", "sess.import-namespace", ""])
        .is_simple("OK"));
    assert!(c.call(&["SESS.PEEK", "shop", &token(1)]).is_nil());
    let bad = c.call(&["CONFIG", "SET", "sess.import-namespace", "a b"]);
    assert!(bad.is_error(), "{bad:?}");
}

#[test]
fn soid_moves_a_users_sessions_on_a_master_and_only_shows_them_elsewhere() {
    let master = importing();
    let replica = replica_of(
        &master,
        Options::default().module_arg("import-namespace", "rs"),
    );
    let mut m = master.client();
    for n in 0..3 {
        Legacy::user("shop", "gina").write(&mut m, &token(n));
    }
    let mut r = replica.client();
    assert!(in_sync(&mut m, &mut r));
    let library_hash = format!("rs:shop:{}", token(0));

    // A replica shows them where they are.
    assert_eq!(r.call(&["SESS.SOID", "shop", "gina"]).array().len(), 3);
    assert_eq!(r.call(&["EXISTS", &library_hash]).int(), 1);
    // So does a master while writes are paused (a write then would abort
    // the server).
    assert!(m
        .call(&["CLIENT", "PAUSE", "5000", "WRITE"])
        .is_simple("OK"));
    assert_eq!(m.call(&["SESS.SOID", "shop", "gina"]).array().len(), 3);
    assert_eq!(m.call(&["EXISTS", &library_hash]).int(), 1);
    assert!(m.call(&["CLIENT", "UNPAUSE"]).is_simple("OK"));
    // A master accepting writes moves them in, like KILLSOID.
    assert_eq!(m.call(&["SESS.SOID", "shop", "gina"]).array().len(), 3);
    assert_eq!(library_traces(&mut m, "shop"), Vec::<String>::new());
    assert_eq!(m.call(&["ZCARD", "rs:{shop}:us:gina"]).int(), 3);
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
    assert!(master.is_alive());
}
