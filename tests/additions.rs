//! "Additions, version 2" of the contract: SESS.PEEK, tokens kept out of
//! SLOWLOG and MONITOR, and the counters of INFO sess.

mod common;

use common::{
    create, eventually, in_sync, info_field, master_and_replica, server_now, Client, Reply, Server,
};

fn offset(c: &mut Client) -> String {
    let info = c.call(&["INFO", "replication"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn peek_replies_what_get_would_and_changes_nothing() {
    let (master, replica) = master_and_replica();
    for resp3 in [false, true] {
        let mut c = if resp3 {
            master.client3()
        } else {
            master.client()
        };
        let token = create(&mut c, "shop", "u", &["DATA", r#"{"a":1}"#, "NORESAVE"]);
        c.call(&["SESS.GET", "shop", &token]);
        let digest = c.call(&["DEBUG", "DIGEST"]);
        let before = offset(&mut c);

        let peeked = c.call(&["SESS.PEEK", "shop", &token]);
        assert_eq!(peeked, c.call(&["SESS.PEEK", "shop", &token]));
        assert_eq!(peeked.field("r"), Some(Reply::Int(2)), "{peeked:?}");
        assert_eq!(c.call(&["DEBUG", "DIGEST"]), digest, "PEEK changed data");
        assert_eq!(offset(&mut c), before, "PEEK replicated something");
        // GET shows the same map, then records its read.
        assert_eq!(c.call(&["SESS.GET", "shop", &token]), peeked);
        assert_eq!(
            c.call(&["SESS.PEEK", "shop", &token]).field("r"),
            Some(Reply::Int(3))
        );
        if resp3 {
            assert!(matches!(peeked, Reply::Map(_)), "{peeked:?}");
        }

        // Read-only: it runs on a replica.
        let mut r = replica.client();
        assert!(in_sync(&mut c, &mut r));
        assert_eq!(
            r.call(&["SESS.PEEK", "shop", &token]).field("r"),
            Some(Reply::Int(3))
        );
        assert_eq!(c.call(&["SESS.KILL", "shop", &token]).int(), 1);
        assert_eq!(c.call(&["SESS.PEEK", "shop", &token]), Reply::Nil);
    }
    let mut c = master.client();
    let e = c.call(&["SESS.PEEK", "shop", "short"]);
    assert!(e.err().starts_with("ERR invalid token"), "{e:?}");
    let e = c.call(&["SESS.PEEK", "shop"]);
    assert!(e.err().contains("wrong number of arguments"), "{e:?}");
}

#[test]
fn tokens_never_appear_in_slowlog_or_monitor() {
    let server = Server::start();
    let mut c = server.client();
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let token = create(&mut c, "shop", "u", &[]);
    let mut monitor = server.client();
    assert!(monitor.call(&["MONITOR"]).is_simple("OK"));

    c.call(&["SESS.GET", "shop", &token]);
    c.call(&["SESS.PEEK", "shop", &token]);
    c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]);
    let rotated = c.call(&["SESS.ROTATE", "shop", &token]).text();
    c.call(&["SESS.KILLSOID", "shop", "u", "EXCEPT", &rotated]);
    c.call(&["SESS.KILL", "shop", &rotated]);
    let calls = 6;
    let mut seen = Vec::new();
    while seen.len() < calls {
        let line = monitor.read().unwrap().text();
        if line.contains("SESS.") || line.contains("sess.") {
            seen.push(line);
        }
    }
    for line in &seen {
        assert!(
            !line.contains(&token) && !line.contains(&rotated),
            "MONITOR showed a token: {line}"
        );
        assert!(line.contains("(redacted)"), "{line}");
    }
    let slowlog = c.call(&["SLOWLOG", "GET", "100"]).strings();
    let logged = slowlog
        .iter()
        .filter(|s| s.eq_ignore_ascii_case("SESS.GET"))
        .count();
    assert_eq!(logged, 1, "{slowlog:?}");
    assert!(
        !slowlog.contains(&token) && !slowlog.contains(&rotated),
        "SLOWLOG showed a token"
    );
    assert!(slowlog.iter().filter(|s| *s == "(redacted)").count() >= 6);
}

#[test]
fn info_sess_counts_what_happened() {
    let server = Server::start();
    let mut c = server.client();
    let a = create(&mut c, "shop", "u", &[]);
    let b = create(&mut c, "shop", "u", &[]);
    create(&mut c, "shop", "v", &[]);
    c.call(&["SESS.GET", "shop", &a]);
    c.call(&["SESS.GET", "shop", &a]);
    c.call(&["SESS.GET", "shop", &"x".repeat(64)]);
    c.call(&["SESS.PEEK", "shop", &a]);
    c.call(&["SESS.SET", "shop", &b, r#"{"a":1}"#]);
    assert_eq!(c.call(&["SESS.KILL", "shop", &a]).int(), 1);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "u"]).int(), 1);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]).int(), 1);
    for (field, value) in [
        ("sess_created", 3),
        ("sess_reads", 2),
        ("sess_read_misses", 1),
        ("sess_writes", 1),
        ("sess_killed", 3),
        ("sess_expired", 0),
        ("sess_evicted", 0),
        ("sess_rotated", 0),
    ] {
        assert_eq!(info_field(&mut c, field), value, "{field}");
    }
    assert!(eventually(2, || info_field(&mut c, "sess_sweep_steps") > 0));
    assert_eq!(info_field(&mut c, "sess_sweep_backlog"), 0);
}

fn soid_tokens(c: &mut Client, app: &str, id: &str) -> Vec<String> {
    c.call(&["SESS.SOID", app, id])
        .array()
        .iter()
        .map(|s| s.field("token").unwrap().text())
        .collect()
}

#[test]
fn killsoid_except_logs_out_every_other_device() {
    let server = Server::start();
    let mut c = server.client3();
    let phone = create(&mut c, "shop", "u", &[]);
    let laptop = create(&mut c, "shop", "u", &[]);
    let tablet = create(&mut c, "shop", "u", &[]);
    let other_user = create(&mut c, "shop", "v", &[]);

    let removed = c.call(&["SESS.KILLSOID", "shop", "u", "except", &laptop]);
    assert_eq!(removed.int(), 2);
    assert_eq!(
        soid_tokens(&mut c, "shop", "u"),
        std::slice::from_ref(&laptop)
    );
    assert_eq!(c.call(&["SESS.GET", "shop", &phone]), Reply::Nil);
    assert_eq!(c.call(&["SESS.GET", "shop", &tablet]), Reply::Nil);
    assert!(c.call(&["SESS.GET", "shop", &laptop]).field("id").is_some());
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "60"]).int(),
        2,
        "u stays active"
    );
    assert_eq!(c.call(&["ZCARD", "rs:{shop}:_expiry"]).int(), 2);

    // A token that is not a live session of this user keeps nothing.
    assert_eq!(
        c.call(&["SESS.KILLSOID", "shop", "u", "EXCEPT", &other_user])
            .int(),
        1
    );
    assert!(soid_tokens(&mut c, "shop", "u").is_empty());
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);
    assert_eq!(soid_tokens(&mut c, "shop", "v"), [other_user]);
    let e = c.call(&["SESS.KILLSOID", "shop", "u", "EXCEPT"]);
    assert_eq!(e.err(), "ERR syntax error");
}

#[test]
fn rotate_gives_a_new_token_and_the_old_one_dies_at_once() {
    let server = Server::start();
    for resp3 in [false, true] {
        let mut c = if resp3 {
            server.client3()
        } else {
            server.client()
        };
        let old = create(
            &mut c,
            "shop",
            "u",
            &["DATA", r#"{"cart":2}"#, "NORESAVE", "TTL", "600"],
        );
        c.call(&["SESS.SET", "shop", &old, r#"{"x":1}"#]);
        let before = c.call(&["SESS.PEEK", "shop", &old]);

        let new = c.call(&["SESS.ROTATE", "shop", &old]).text();
        assert_eq!(new.len(), 64);
        assert_ne!(new, old);
        for command in ["SESS.GET", "SESS.PEEK", "SESS.ROTATE"] {
            assert_eq!(c.call(&[command, "shop", &old]), Reply::Nil, "{command}");
        }
        assert_eq!(c.call(&["SESS.KILL", "shop", &old]).int(), 0);
        let after = c.call(&["SESS.PEEK", "shop", &new]);
        for field in ["id", "r", "w", "ip", "no_resave", "d"] {
            assert_eq!(after.field(field), before.field(field), "{field}");
        }
        assert!(after.field("ttl").unwrap().int() <= 600);
        assert_eq!(after.field("idle"), Some(Reply::Int(0)));
        assert_eq!(soid_tokens(&mut c, "shop", "u"), std::slice::from_ref(&new));
        assert_eq!(c.call(&["EXISTS", &format!("rs:{{shop}}:{old}")]).int(), 0);
        assert_eq!(c.call(&["SESS.KILL", "shop", &new]).int(), 1);
    }
    let mut c = server.client();
    assert_eq!(
        c.call(&["SESS.ROTATE", "shop", &"x".repeat(64)]),
        Reply::Nil
    );
    let e = c.call(&["SESS.ROTATE", "shop", "bad"]);
    assert!(e.err().starts_with("ERR invalid token"));
}

#[test]
fn the_new_writes_reach_a_replica_without_the_module_as_plain_effects() {
    let master = Server::start();
    let replica = common::replica_of(&master, common::Options::default().without_module());
    let mut m = master.client();
    let mut r = replica.client();
    let keep = create(&mut m, "shop", "u", &["MAXAGE", "600"]);
    create(&mut m, "shop", "u", &[]);
    create(&mut m, "shop", "u", &["MAXSESSIONS", "3"]);
    let rotated = m.call(&["SESS.ROTATE", "shop", &keep]).text();
    assert_eq!(
        m.call(&["SESS.KILLSOID", "shop", "u", "EXCEPT", &rotated])
            .int(),
        2
    );
    assert!(m
        .call(&["SESS.PEEK", "shop", &rotated])
        .field("maxage")
        .is_some());
    m.call(&["SESS.PEEK", "shop", &rotated]);
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
    assert_eq!(common::keys(&mut r), common::keys(&mut m));
    let stats = r.call(&["INFO", "commandstats"]).text().to_lowercase();
    assert!(!stats.contains("cmdstat_sess."), "{stats}");
}

/// The next keyspace notification: (channel, event).
fn next_event(c: &mut Client) -> (String, String) {
    let message = c.read().expect("a notification").array();
    (message[2].text(), message[3].text())
}

#[test]
fn every_session_event_is_announced_once_on_the_users_index_key_without_its_token() {
    let server = Server::start();
    let mut c = server.client();
    assert!(c
        .call(&["CONFIG", "SET", "notify-keyspace-events", "Kd"])
        .is_simple("OK"));
    let mut events = server.client();
    events.call(&["PSUBSCRIBE", "__keyspace@0__:rs:{shop}:us:*"]);

    let a = create(&mut c, "shop", "u:1", &[]);
    let b = create(&mut c, "shop", "u:1", &[]);
    let short = create(&mut c, "shop", "u:1", &["TTL", "10"]);
    let rotated = c.call(&["SESS.ROTATE", "shop", &a]).text();
    assert_eq!(c.call(&["SESS.KILL", "shop", &b]).int(), 1);
    c.call(&["SESS.GET", "shop", &rotated]);
    c.call(&["SESS.SET", "shop", &rotated, r#"{"a":1}"#]);
    create(&mut c, "shop", "v", &[]);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]).int(), 3);

    let expected = [
        ("u:1", "sess.created"),
        ("u:1", "sess.created"),
        ("u:1", "sess.created"),
        ("u:1", "sess.rotated"),
        ("u:1", "sess.killed"),
        ("v", "sess.created"),
    ];
    let mut seen: Vec<(String, String)> =
        expected.iter().map(|_| next_event(&mut events)).collect();
    // KILLALL announces its three sessions, user by user.
    let mut killall: Vec<(String, String)> = (0..3).map(|_| next_event(&mut events)).collect();
    killall.sort();
    seen.extend(killall);
    let want: Vec<(String, String)> = expected
        .iter()
        .chain(&[
            ("u:1", "sess.killed"),
            ("u:1", "sess.killed"),
            ("v", "sess.killed"),
        ])
        .map(|(id, e)| (format!("__keyspace@0__:rs:{{shop}}:us:{id}"), e.to_string()))
        .collect();
    assert_eq!(seen, want);
    for (channel, _) in &seen {
        for token in [&a, &b, &short, &rotated] {
            assert!(!channel.contains(token.as_str()));
        }
    }

    // A replica applies the same changes as plain effects and announces
    // none of them.
    let replica = common::replica_of(&server, common::Options::default());
    let mut quiet = replica.client();
    quiet.call(&["CONFIG", "SET", "notify-keyspace-events", "Kd"]);
    quiet.send_only(&["PSUBSCRIBE", "__keyspace@0__:rs:*"]);
    quiet.read().expect("psubscribe");

    // The sweeper announces what expires.
    let mut c = server.client();
    let expiring = create(&mut c, "shop", "w", &["TTL", "10"]);
    assert_eq!(next_event(&mut events).1, "sess.created");
    let (channel, event) = next_event(&mut events);
    assert_eq!(event, "sess.expired");
    assert!(channel.ends_with(":us:w") && !channel.contains(&expiring));
    assert!(in_sync(&mut c, &mut replica.client()));
    quiet.send_only(&["PING"]);
    let first = quiet.read().unwrap().array();
    assert!(
        first[0].text().eq_ignore_ascii_case("pong"),
        "the replica announced {first:?}"
    );
}

/// The fields of a MAXAGE session's map, in the contract's order.
const MAXAGE_MAP: [&str; 9] = [
    "id",
    "r",
    "w",
    "ttl",
    "idle",
    "ip",
    "no_resave",
    "maxage",
    "d",
];

#[test]
fn maxage_ends_a_session_at_its_deadline_however_active_it_is() {
    let server = Server::start();
    let mut c = server.client3();
    let plain = create(&mut c, "shop", "u", &["DATA", r#"{"a":1}"#]);
    let bounded = create(
        &mut c,
        "shop",
        "u",
        &[
            "MAXAGE",
            "10",
            "TTL",
            "600",
            "NORESAVE",
            "DATA",
            r#"{"a":1}"#,
        ],
    );
    let created = common::la(&mut c, "shop", &bounded);

    // A session without MAXAGE is stored and shown exactly as before.
    let fields: Vec<String> = c
        .call(&["HGETALL", &format!("rs:{{shop}}:{plain}")])
        .pairs()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(fields, ["id", "r", "w", "ip", "la", "ttl", "d"]);
    let got = c.call(&["SESS.GET", "shop", &plain]);
    assert_eq!(got.field("maxage"), None);

    let names =
        |reply: &Reply| -> Vec<String> { reply.pairs().into_iter().map(|(k, _)| k).collect() };
    // RESP2 clients get the same fields as a flat array.
    let flat = server.client().call(&["SESS.PEEK", "shop", &bounded]);
    assert!(matches!(flat, Reply::Array(_)), "{flat:?}");
    assert_eq!(names(&flat), MAXAGE_MAP);
    let got = c.call(&["SESS.GET", "shop", &bounded]);
    assert_eq!(names(&got), MAXAGE_MAP);
    let left = got.field("maxage").unwrap().int();
    assert!((9..=10).contains(&left), "{left}");
    let listed = c.call(&["SESS.SOID", "shop", "u"]).array();
    assert!(listed.iter().all(|s| names(s)[0] == "token"));
    let rotated = c.call(&["SESS.ROTATE", "shop", &bounded]).text();

    // In use all along, it still ends at its deadline and is swept.
    while common::server_now(&mut c) < (created + 10) as f64 {
        assert!(c
            .call(&["SESS.GET", "shop", &rotated])
            .field("id")
            .is_some());
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    common::sleep_until(&mut c, (created + 11) as f64);
    assert_eq!(c.call(&["SESS.GET", "shop", &rotated]), Reply::Nil);
    assert!(eventually(2, || c
        .call(&["EXISTS", &format!("rs:{{shop}}:{rotated}")])
        .int()
        == 0));
    assert_eq!(c.call(&["SESS.SOID", "shop", "u"]).array().len(), 1);

    for bad in ["9", "31536001", "x", "-10"] {
        let e = c.call(&["SESS.CREATE", "shop", "u", "ip", "MAXAGE", bad]);
        assert_eq!(
            e.err(),
            "ERR invalid maxage: expected an integer from 10 to 31536000"
        );
    }
    let e = c.call(&[
        "SESS.CREATE",
        "shop",
        "u",
        "ip",
        "MAXAGE",
        "10",
        "MAXAGE",
        "10",
    ]);
    assert_eq!(e.err(), "ERR syntax error");
}

#[test]
fn maxsessions_removes_the_least_recently_active_sessions_beyond_the_cap() {
    let master = Server::start();
    let replica = common::replica_of(&master, common::Options::default().without_module());
    let mut c = master.client();
    let now = common::server_now(&mut c) as i64;
    let oldest = create(&mut c, "shop", "u", &[]);
    let older = create(&mut c, "shop", "u", &[]);
    let recent = create(&mut c, "shop", "u", &[]);
    let other_user = create(&mut c, "shop", "v", &[]);
    for (token, ago) in [(&oldest, 100), (&older, 50), (&recent, 10)] {
        c.call(&[
            "HSET",
            &format!("rs:{{shop}}:{token}"),
            "la",
            &(now - ago).to_string(),
        ]);
    }

    let newest = create(&mut c, "shop", "u", &["MAXSESSIONS", "2"]);
    let mut left = soid_tokens(&mut c, "shop", "u");
    left.sort();
    let mut want = vec![recent.clone(), newest.clone()];
    want.sort();
    assert_eq!(left, want);
    for gone in [&oldest, &older] {
        assert_eq!(c.call(&["EXISTS", &format!("rs:{{shop}}:{gone}")]).int(), 0);
    }
    assert_eq!(info_field(&mut c, "sess_evicted"), 2);
    assert_eq!(soid_tokens(&mut c, "shop", "v"), [other_user]);

    // The new session is never the one removed.
    let only = create(&mut c, "shop", "u", &["maxsessions", "1"]);
    assert_eq!(soid_tokens(&mut c, "shop", "u"), [only]);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);

    let mut r = replica.client();
    assert!(in_sync(&mut c, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), c.call(&["DEBUG", "DIGEST"]));
    for bad in ["0", "10001", "x"] {
        let e = c.call(&["SESS.CREATE", "shop", "u", "ip", "MAXSESSIONS", bad]);
        assert_eq!(
            e.err(),
            "ERR invalid maxsessions: expected an integer from 1 to 10000"
        );
    }
}

#[test]
fn command_docs_describe_every_command_and_acl_grants_them_as_a_category_where_supported() {
    let server = Server::start();
    let mut c = server.client3();
    let names = [
        "sess.create",
        "sess.get",
        "sess.peek",
        "sess.set",
        "sess.rotate",
        "sess.kill",
        "sess.killall",
        "sess.killsoid",
        "sess.soid",
        "sess.soapp",
        "sess.activity",
    ];
    for name in names {
        let docs = c.call(&["COMMAND", "DOCS", name]);
        let (_, doc) = docs.pairs().into_iter().next().expect(name);
        for field in ["summary", "since", "complexity"] {
            assert!(
                !doc.field(field).unwrap().text().is_empty(),
                "{name} {field}"
            );
        }
        let args = doc.field("arguments").unwrap().array();
        assert_eq!(args[0].field("name").unwrap().text(), "app", "{name}");
        assert_eq!(args[0].field("type").unwrap().text(), "key", "{name}");
    }
    let create = c.call(&["COMMAND", "DOCS", "sess.create"]).strings();
    for token in ["TTL", "DATA", "NORESAVE", "MAXAGE", "MAXSESSIONS"] {
        assert!(create.iter().any(|s| s == token), "{token} in {create:?}");
    }

    let categories = c.call(&["ACL", "CAT"]).strings();
    let grant = if categories.iter().any(|s| s == "session") {
        "+@session"
    } else {
        // Redis 7.0 and 7.2 cannot add categories: grant by name.
        "+sess.create"
    };
    assert!(c
        .call(&["ACL", "SETUSER", "web", "on", ">pw", "~*", grant, "+ping"])
        .is_simple("OK"));
    let mut web = server.client();
    assert!(web.call(&["AUTH", "web", "pw"]).is_simple("OK"));
    assert!(matches!(
        web.call(&["SESS.CREATE", "shop", "u", "ip"]),
        Reply::Bulk(_)
    ));
    let refused = web.call(&["HGETALL", "x"]);
    assert!(refused.err().starts_with("NOPERM"), "{refused:?}");
}

/// Checks that `listing ... LIMIT count` gives the first `count` entries of
/// `listing` without LIMIT, for each count; returns the full listing's length.
fn assert_limit_gives_prefixes(
    c: &mut Client,
    listing: &[&str],
    counts: impl IntoIterator<Item = usize>,
) -> usize {
    let full = listed_tokens(&c.call(listing));
    for count in counts {
        let mut limited = listing.to_vec();
        let count_text = count.to_string();
        limited.extend(["LIMIT", &count_text]);
        let got = listed_tokens(&c.call(&limited));
        assert_eq!(got, full[..count.min(full.len())], "{limited:?}");
    }
    full.len()
}

/// Tokens of a listing reply, in order.
fn listed_tokens(reply: &Reply) -> Vec<String> {
    reply
        .array()
        .iter()
        .map(|entry| entry.array()[1].text())
        .collect()
}

#[test]
fn limit_gives_the_first_entries_of_the_full_listing() {
    let server = Server::start();
    let mut c = server.client();
    let now = server_now(&mut c) as i64;
    // Ten users with three sessions each, active at distinct past seconds
    // (written directly, as if they had been used then), so the order is
    // by activity and the walk from the most recent user must stop early.
    for user in 0..10 {
        let id = format!("u{user}");
        let mut newest = 0;
        for j in 0..3 {
            let token = create(&mut c, "shop", &id, &["TTL", "3600"]);
            let la = now - (user * 2 + j * 3) as i64;
            c.call(&[
                "HSET",
                &format!("rs:{{shop}}:{token}"),
                "la",
                &la.to_string(),
            ]);
            newest = newest.max(la);
        }
        c.call(&["ZADD", "rs:{shop}:_users", &newest.to_string(), &id]);
    }
    let listing = ["SESS.SOAPP", "shop", "3600"];
    let counts = [1, 2, 3, 5, 7, 10, 29, 30, 31, 100000];
    assert_eq!(assert_limit_gives_prefixes(&mut c, &listing, counts), 30);
    // Within a window that holds only some users.
    let window = listed_tokens(&c.call(&["SESS.SOAPP", "shop", "40"]));
    let limited = c.call(&["SESS.SOAPP", "shop", "40", "limit", "4"]);
    assert_eq!(listed_tokens(&limited), window[..4]);

    // A whole app active in the same second: LIMIT still gives the prefix
    // (the walk follows the activity index within the second).
    for user in 0..10 {
        let id = format!("same{user}");
        for _ in 0..3 {
            let token = create(&mut c, "rush", &id, &["TTL", "3600"]);
            c.call(&[
                "HSET",
                &format!("rs:{{rush}}:{token}"),
                "la",
                &now.to_string(),
            ]);
        }
        let score = format!("{now}.{}", [3, 7, 1, 9, 4, 0, 8, 2, 6, 5][user]);
        c.call(&["ZADD", "rs:{rush}:_users", &score, &id]);
    }
    let listing = ["SESS.SOAPP", "rush", "3600"];
    assert_eq!(assert_limit_gives_prefixes(&mut c, &listing, 1..=31), 30);

    let listing = ["SESS.SOID", "shop", "u3"];
    assert_eq!(assert_limit_gives_prefixes(&mut c, &listing, 1..=4), 3);

    for bad in ["0", "100001", "-1", "x", ""] {
        for command in [
            &["SESS.SOID", "shop", "u3"][..],
            &["SESS.SOAPP", "shop", "60"][..],
        ] {
            let mut args = command.to_vec();
            args.extend(["LIMIT", bad]);
            let reply = c.call(&args);
            let e = reply.err();
            assert!(e.starts_with("ERR invalid limit"), "{args:?}: {e}");
        }
    }
    for args in [
        &["SESS.SOID", "shop", "u3", "LIMIT"][..],
        &["SESS.SOAPP", "shop", "60", "TOP", "5"][..],
        &["SESS.SOAPP", "shop", "60", "LIMIT", "5", "LIMIT"][..],
    ] {
        let reply = c.call(args);
        assert!(
            matches!(&reply, Reply::Error(e) if e == "ERR syntax error" || e.starts_with("ERR wrong number")),
            "{args:?}: {reply:?}"
        );
    }
}
