//! "Additions, version 2" of the contract: SESS.PEEK, tokens kept out of
//! SLOWLOG and MONITOR, and the counters of INFO sess.

mod common;

use common::{create, eventually, in_sync, master_and_replica, Client, Reply, Server};

fn info_field(c: &mut Client, name: &str) -> i64 {
    let info = c.call(&["INFO", "sess"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

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

    let calls: [&[&str]; 4] = [
        &["SESS.GET", "shop", &token],
        &["SESS.PEEK", "shop", &token],
        &["SESS.SET", "shop", &token, r#"{"a":1}"#],
        &["SESS.KILL", "shop", &token],
    ];
    for call in calls {
        c.call(call);
    }
    let mut seen = Vec::new();
    while seen.len() < calls.len() {
        let line = monitor.read().unwrap().text();
        if line.contains("SESS.") || line.contains("sess.") {
            seen.push(line);
        }
    }
    for line in &seen {
        assert!(!line.contains(&token), "MONITOR showed a token: {line}");
        assert!(line.contains("(redacted)"), "{line}");
    }
    let slowlog = c.call(&["SLOWLOG", "GET", "100"]).strings();
    let logged = slowlog
        .iter()
        .filter(|s| s.eq_ignore_ascii_case("SESS.GET"))
        .count();
    assert_eq!(logged, 1, "{slowlog:?}");
    assert!(!slowlog.contains(&token), "SLOWLOG showed a token");
    assert!(slowlog.iter().filter(|s| *s == "(redacted)").count() >= 4);
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
