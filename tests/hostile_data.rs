//! Data the module did not write: another program's keys read by the import,
//! indexes deleted or evicted under live sessions. Nothing read from a key
//! names another key before it passes the rules of the layout, a failing
//! command changes nothing, no index is left behind, and a killed session
//! never answers again, whatever happened to the indexes.

mod common;

use common::{
    create, eventually, in_sync, keys, master_and_replica, server_now, Client, Options, Reply,
    Server,
};

/// Importing, with the background import off: each test drives it.
fn importing() -> Server {
    Server::with(
        Options::default()
            .module_arg("import-namespace", "rs")
            .module_arg("import-batch", "0"),
    )
}

fn token(n: usize) -> String {
    let base = format!("{n:08}");
    format!("{}{base}", "T".repeat(64 - base.len()))
}

fn now(c: &mut Client) -> i64 {
    server_now(c) as i64
}

/// A session hash in the library's layout, in none of its lists.
fn library_hash(c: &mut Client, token: &str, id: &str, la: &str, ttl: &str) {
    c.call(&[
        "HSET",
        &format!("rs:shop:{token}"),
        "id",
        id,
        "r",
        "1",
        "w",
        "1",
        "ip",
        "10.0.0.9",
        "la",
        la,
        "ttl",
        ttl,
    ]);
}

/// A session in the library's layout: its hash, and its entries in the
/// app's session list and the user's set. `la` and `ttl` as given.
fn library_session(c: &mut Client, token: &str, id: &str, la: &str, ttl: &str) {
    let la_score = la.parse::<f64>().unwrap_or(0.0).to_string();
    library_hash(c, token, id, la, ttl);
    c.call(&[
        "ZADD",
        "rs:shop:_sessions",
        &la_score,
        &format!("{token}:{id}"),
    ]);
    c.call(&["SADD", &format!("rs:shop:us:{id}"), token]);
}

fn import(c: &mut Client, count: &str) -> (i64, i64, i64) {
    let reply = c.call(&["SESS.IMPORT", "shop", "COUNT", count]);
    let n = |name: &str| {
        reply
            .field(name)
            .unwrap_or_else(|| panic!("{reply:?}"))
            .int()
    };
    (n("moved"), n("dropped"), n("remaining"))
}

fn key_type(c: &mut Client, key: &str) -> String {
    match c.call(&["TYPE", key]) {
        Reply::Simple(kind) => kind,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_library_token_that_names_an_index_never_crashes_the_server() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    let good = token(1);
    library_session(&mut c, &good, "bob", &now, "3600");
    // The review's reproduction: a "token" that is the module's expiry index.
    library_hash(&mut c, "_expiry", "bob", &now, "3600");
    c.call(&["ZADD", "rs:shop:_sessions", &now, "_expiry:bob"]);

    assert_eq!(import(&mut c, "100"), (1, 1, 0));
    assert!(c.call(&["PING"]).is_simple("PONG"));
    assert_eq!(key_type(&mut c, "rs:{shop}:_expiry"), "zset");
    assert_eq!(
        c.call(&["SESS.GET", "shop", &good])
            .field("id")
            .unwrap()
            .text(),
        "bob"
    );
    assert_eq!(
        c.call(&["HGET", "rs:shop:_expiry", "id"]).text(),
        "bob",
        "another program's hash is left alone"
    );

    // The same through SOID and KILLSOID: tokens from the library's set of
    // the user that name the module's indexes, `us:<id>` included.
    c.call(&[
        "HSET",
        "rs:shop:_users",
        "id",
        "bob",
        "la",
        &now,
        "ttl",
        "3600",
    ]);
    c.call(&[
        "SADD",
        "rs:shop:us:bob",
        "_users",
        "us:bob",
        "_graves",
        "_grave:x",
    ]);
    let soid = c.call(&["SESS.SOID", "shop", "bob"]).array();
    assert_eq!(soid.len(), 1, "{soid:?}");
    assert_eq!(key_type(&mut c, "rs:{shop}:_users"), "zset");
    assert_eq!(key_type(&mut c, "rs:{shop}:us:bob"), "zset");
    assert_eq!(c.call(&["ZCARD", "rs:{shop}:us:bob"]).int(), 1);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 1);
    assert!(c.call(&["PING"]).is_simple("PONG"));
    assert_eq!(
        c.call(&["EXISTS", "rs:{shop}:us:bob", "rs:{shop}:_graves"])
            .int(),
        0
    );
    assert_eq!(
        key_type(&mut c, "rs:shop:_users"),
        "hash",
        "not a token: left alone"
    );
}

#[test]
fn a_failing_import_changes_nothing_and_one_bad_entry_never_stops_the_rest() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c);
    for (n, id) in ["a", "b", "c"].iter().enumerate() {
        library_session(
            &mut c,
            &token(n),
            id,
            &(now - 10 + n as i64).to_string(),
            "3600",
        );
    }
    // User c's index name holds another type: c's session cannot move.
    c.call(&["SET", "rs:{shop}:us:c", "not an index"]);
    assert_eq!(import(&mut c, "100"), (2, 1, 0));
    assert_eq!(
        c.call(&["SESS.PEEK", "shop", &token(0)])
            .field("id")
            .unwrap()
            .text(),
        "a"
    );
    assert_eq!(
        c.call(&["SESS.PEEK", "shop", &token(1)])
            .field("id")
            .unwrap()
            .text(),
        "b"
    );
    assert_eq!(
        c.call(&[
            "EXISTS",
            "rs:shop:_sessions",
            &format!("rs:shop:{}", token(2))
        ])
        .int(),
        0
    );
    assert!(
        server.log().contains("import: dropped a session"),
        "{}",
        server.log()
    );

    // The app's own expiry index holds another type: the call fails and
    // changes nothing, whatever comes first in the list.
    library_session(&mut c, &token(7), "d", &now.to_string(), "3600");
    c.call(&["RENAME", "rs:{shop}:_expiry", "saved"]);
    c.call(&["SET", "rs:{shop}:_expiry", "x"]);
    let before = c.call(&["DEBUG", "DIGEST"]).text();
    let failed = c.call(&["SESS.IMPORT", "shop"]);
    assert!(failed.err().starts_with("WRONGTYPE"), "{failed:?}");
    assert_eq!(c.call(&["DEBUG", "DIGEST"]).text(), before);
    c.call(&["RENAME", "saved", "rs:{shop}:_expiry"]);

    // A library copy of a session the module already has is dropped, not
    // counted as moved.
    assert_eq!(
        c.call(&["SESS.GET", "shop", &token(7)])
            .field("id")
            .unwrap()
            .text(),
        "d"
    );
    library_session(&mut c, &token(7), "d", &now.to_string(), "3600");
    assert_eq!(import(&mut c, "100"), (0, 1, 0));
}

#[test]
fn library_data_with_a_fractional_ttl_imports_and_a_negative_last_activity_does_not() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    let fractional = token(1);
    library_session(&mut c, &fractional, "ann", &now, "3600.5");
    let peeked = c.call(&["SESS.PEEK", "shop", &fractional]);
    assert_eq!(peeked.field("ttl").unwrap().int(), 3601, "{peeked:?}");

    let negative = token(2);
    library_session(&mut c, &negative, "neg", "-5", "99999999999");
    assert_eq!(c.call(&["SESS.PEEK", "shop", &negative]), Reply::Nil);
    assert_eq!(import(&mut c, "100"), (1, 1, 0));
    let got = c.call(&["SESS.GET", "shop", &fractional]);
    assert_eq!(got.field("ttl").unwrap().int(), 3601);
    assert_eq!(c.call(&["SESS.GET", "shop", &negative]), Reply::Nil);
    assert_eq!(c.call(&["ZSCORE", "rs:{shop}:_users", "neg"]), Reply::Nil);

    // The module's own hash with a negative last activity is no session.
    let own = create(&mut c, "shop", "own", &[]);
    c.call(&[
        "HSET",
        &format!("rs:{{shop}}:{own}"),
        "la",
        "-5",
        "ttl",
        "99999999999",
    ]);
    assert_eq!(c.call(&["SESS.GET", "shop", &own]), Reply::Nil);
}

#[test]
fn soid_moves_library_sessions_only_where_a_write_is_allowed() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    let t = token(3);
    library_session(&mut c, &t, "bob", &now, "3600");
    let library_hash = format!("rs:shop:{t}");

    let listed = c.call(&[
        "EVAL_RO",
        "return redis.call('SESS.SOID', KEYS[1], 'bob')",
        "1",
        "shop",
    ]);
    assert_eq!(listed.array().len(), 1, "{listed:?}");
    assert_eq!(
        c.call(&["EXISTS", &library_hash]).int(),
        1,
        "EVAL_RO moved it"
    );

    c.call(&["CONFIG", "SET", "maxmemory", "1"]);
    assert!(c
        .call(&["SESS.CREATE", "shop", "x", "1.1.1.1"])
        .err()
        .starts_with("OOM"));
    assert_eq!(c.call(&["SESS.SOID", "shop", "bob"]).array().len(), 1);
    assert_eq!(
        c.call(&["EXISTS", &library_hash]).int(),
        1,
        "moved while out of memory"
    );
    c.call(&["CONFIG", "SET", "maxmemory", "0"]);

    assert_eq!(c.call(&["SESS.SOID", "shop", "bob"]).array().len(), 1);
    assert_eq!(
        c.call(&["EXISTS", &library_hash]).int(),
        0,
        "a master with room moves it"
    );
}

#[test]
fn an_import_call_is_bounded_in_time_whatever_its_count() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    let total = 30_000;
    for chunk in (0..total).collect::<Vec<_>>().chunks(1000) {
        let mut commands = Vec::new();
        for n in chunk {
            let t = token(*n);
            let id = format!("u{}", n % 3000);
            commands.push(vec![
                "HSET".to_string(),
                format!("rs:shop:{t}"),
                "id".into(),
                id.clone(),
                "r".into(),
                "1".into(),
                "w".into(),
                "1".into(),
                "ip".into(),
                "10.0.0.1".into(),
                "la".into(),
                now.clone(),
                "ttl".into(),
                "3600".into(),
            ]);
            commands.push(vec![
                "ZADD".into(),
                "rs:shop:_sessions".into(),
                now.clone(),
                format!("{t}:{id}"),
            ]);
            commands.push(vec!["SADD".into(), format!("rs:shop:us:{id}"), t]);
        }
        c.pipeline(&commands);
    }
    // 30,000 moves take about a second here: a call asked for all of them
    // stops after its time slice and says what remains.
    let (moved, dropped, remaining) = import(&mut c, "100000");
    assert!(moved > 0 && remaining > 0, "{moved} {dropped} {remaining}");
    assert_eq!(moved + remaining, total as i64);
    let mut all = moved;
    let mut calls = 1;
    while import_remaining(&mut c, &mut all) > 0 {
        calls += 1;
        assert!(calls < 10_000);
    }
    assert_eq!(all, total as i64);
    assert_eq!(c.call(&["ZCARD", "rs:{shop}:_users"]).int(), 3000);
}

fn import_remaining(c: &mut Client, moved: &mut i64) -> i64 {
    let (m, _, remaining) = import(c, "100000");
    *moved += m;
    remaining
}

#[test]
fn a_user_index_whose_sessions_and_expiry_entry_were_deleted_leaves() {
    let server = Server::start();
    let mut c = server.client();
    let t = create(&mut c, "shop", "alice", &["TTL", "10"]);
    let kept = create(&mut c, "shop", "bob", &["TTL", "10"]);
    c.call(&["DEL", "rs:{shop}:_expiry", &format!("rs:{{shop}}:{t}")]);
    // Bob's session is still there, and the expiry index lost bob too: his
    // session still expires, and his index leaves with it.
    assert_eq!(
        c.call(&["SESS.PEEK", "shop", &kept])
            .field("id")
            .unwrap()
            .text(),
        "bob"
    );
    assert!(
        eventually(30, || c
            .call(&[
                "EXISTS",
                "rs:{shop}:us:alice",
                "rs:{shop}:us:bob",
                "rs:{shop}:_expiry"
            ])
            .int()
            == 0),
        "{:?}",
        keys(&mut c)
    );
    assert_eq!(c.call(&["EXISTS", &format!("rs:{{shop}}:{kept}")]).int(), 0);
}

#[test]
fn killed_sessions_stay_dead_whatever_happened_to_their_indexes() {
    let (master, replica) = master_and_replica();
    let mut c = master.client();
    let alice: Vec<String> = (0..3)
        .map(|_| create(&mut c, "shop", "alice", &[]))
        .collect();
    let others: Vec<String> = (0..3)
        .map(|n| create(&mut c, "shop", &format!("u{n}"), &[]))
        .collect();
    c.call(&["DEL", "rs:{shop}:us:alice"]);
    assert_eq!(
        c.call(&["SESS.KILLSOID", "shop", "alice"]).int(),
        0,
        "its index is gone"
    );
    c.call(&["ZREM", "rs:{shop}:_expiry", "u0"]);
    assert_eq!(
        c.call(&["SESS.KILLALL", "shop"]).int(),
        2,
        "u0 is no longer listed"
    );
    let after = create(&mut c, "shop", "alice", &[]);
    let killed: Vec<&String> = alice.iter().chain(&others).collect();
    for t in &killed {
        assert_eq!(c.call(&["SESS.GET", "shop", t]), Reply::Nil);
    }
    // The keyspace scan meets the orphans: they go, never back in an index.
    assert!(
        eventually(20, || c.call(&["EXISTS", "rs:{shop}:_kills"]).int() == 0),
        "the kill records are never pruned: {:?}",
        keys(&mut c)
    );
    for t in &killed {
        assert_eq!(c.call(&["SESS.GET", "shop", t]), Reply::Nil);
        assert_eq!(c.call(&["EXISTS", &format!("rs:{{shop}}:{t}")]).int(), 0);
    }
    assert_eq!(
        c.call(&["SESS.GET", "shop", &after])
            .field("id")
            .unwrap()
            .text(),
        "alice"
    );
    assert_eq!(c.call(&["SESS.SOID", "shop", "alice"]).array().len(), 1);
    let mut r = replica.client();
    assert!(in_sync(&mut c, &mut r));
    assert_eq!(c.call(&["DEBUG", "DIGEST"]), r.call(&["DEBUG", "DIGEST"]));
}

#[test]
fn a_kill_keeps_the_session_it_spares_and_ends_the_unlisted_ones() {
    let server = Server::start();
    let mut c = server.client();
    let kept = create(&mut c, "shop", "alice", &[]);
    let lost = create(&mut c, "shop", "alice", &[]);
    c.call(&["ZREM", "rs:{shop}:us:alice", &lost]);
    assert_eq!(
        c.call(&["SESS.KILLSOID", "shop", "alice", "EXCEPT", &kept])
            .int(),
        0
    );
    assert_eq!(c.call(&["SESS.GET", "shop", &lost]), Reply::Nil);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &kept])
            .field("id")
            .unwrap()
            .text(),
        "alice"
    );
    // A later kill ends the spared one too.
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "alice"]).int(), 1);
    assert_eq!(c.call(&["SESS.GET", "shop", &kept]), Reply::Nil);
}

#[test]
fn a_library_session_its_indexes_missed_stays_killed() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    // Not in the library's set of bob: KILLSOID moves nothing of it.
    let unlisted = token(1);
    library_hash(&mut c, &unlisted, "bob", &now, "3600");
    c.call(&[
        "ZADD",
        "rs:shop:_sessions",
        &now,
        &format!("{unlisted}:bob"),
    ]);
    create(&mut c, "shop", "bob", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 1);
    assert_eq!(c.call(&["SESS.GET", "shop", &unlisted]), Reply::Nil);
    assert_eq!(c.call(&["SESS.PEEK", "shop", &unlisted]), Reply::Nil);
    // In no list of the library at all: KILLALL does not reach it.
    let hidden = token(2);
    library_hash(&mut c, &hidden, "carol", &now, "3600");
    c.call(&["SESS.KILLALL", "shop"]);
    assert_eq!(c.call(&["SESS.GET", "shop", &hidden]), Reply::Nil);
    assert_eq!(c.call(&["SESS.SOID", "shop", "carol"]).array().len(), 0);
}

#[test]
fn malformed_library_list_entries_are_dropped_once_and_the_import_ends() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    let (listed_without_id, other) = (token(1), token(2));
    library_hash(&mut c, &listed_without_id, "bob", &now, "3600");
    c.call(&[
        "ZADD",
        "rs:shop:_sessions",
        "1",
        &listed_without_id,
        "2",
        "notatoken",
        "3",
        "short:bob",
    ]);
    library_session(&mut c, &other, "dave", &now, "3600");
    assert_eq!(
        import(&mut c, "1"),
        (1, 0, 3),
        "the live session moves under its hash's id"
    );
    assert_eq!(import(&mut c, "1"), (0, 1, 2));
    assert_eq!(import(&mut c, "100"), (1, 1, 0));
    assert_eq!(
        c.call(&["SESS.GET", "shop", &listed_without_id])
            .field("id")
            .unwrap()
            .text(),
        "bob"
    );
    assert_eq!(
        c.call(&["SESS.GET", "shop", &other])
            .field("id")
            .unwrap()
            .text(),
        "dave"
    );
    assert!(
        keys(&mut c).iter().all(|k| !k.starts_with("rs:shop:")),
        "{:?}",
        keys(&mut c)
    );
}

#[test]
fn tampered_kill_records_and_bounds_lock_nobody_out_and_leave_nothing_behind() {
    let server = Server::start();
    let mut c = server.client();
    c.call(&[
        "HSET",
        "rs:{shop}:_kills",
        "n",
        "9223372036854775807",
        "all",
        "99999999999999999",
    ]);
    create(&mut c, "shop", "amy", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 0);
    let after = create(&mut c, "shop", "bob", &[]);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &after])
            .field("id")
            .unwrap()
            .text(),
        "bob"
    );
    // A user index with a bound no session has, written by hand.
    c.call(&["ZADD", "rs:{shop}:us:zed", "+inf", "junk"]);
    assert!(
        eventually(20, || c
            .call(&["EXISTS", "rs:{shop}:_kills", "rs:{shop}:us:zed"])
            .int()
            == 0),
        "{:?} {:?}",
        c.call(&["HGETALL", "rs:{shop}:_kills"]),
        c.call(&["ZRANGE", "rs:{shop}:_expiry", "0", "-1", "WITHSCORES"])
    );
    assert_eq!(
        c.call(&["SESS.GET", "shop", &after])
            .field("id")
            .unwrap()
            .text(),
        "bob"
    );
}

#[test]
fn a_library_ttl_beyond_a_year_is_cut_to_a_year() {
    let server = importing();
    let mut c = server.client();
    let now = now(&mut c).to_string();
    library_session(&mut c, &token(1), "ann", &now, "9.2e18");
    library_session(&mut c, &token(2), "ben", &now, "9223372036854775807");
    for n in [1, 2] {
        let got = c.call(&["SESS.GET", "shop", &token(n)]);
        assert_eq!(got.field("ttl").unwrap().int(), 31_536_000, "{got:?}");
    }
}
