//! Every SESS.* command's success path against a real redis-server, in
//! RESP2 and RESP3, with the counter, data and activity rules of the contract.

mod common;

use common::{create, keys, Client, Reply, Server};

fn now(c: &mut Client) -> i64 {
    c.call(&["TIME"]).array()[0].text().parse().unwrap()
}

fn field_names(reply: &Reply) -> Vec<String> {
    reply.pairs().into_iter().map(|(k, _)| k).collect()
}

#[test]
fn create_stores_a_session_hash_and_returns_a_strong_token() {
    let server = Server::start();
    let mut c = server.client();
    let before = now(&mut c);
    let token = create(&mut c, "shop", "alice", &[]);
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");

    let hash = c.call(&["HGETALL", &format!("rs:{{shop}}:{token}")]);
    let fields: Vec<(String, String)> = hash
        .pairs()
        .into_iter()
        .map(|(k, v)| (k, v.text()))
        .collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["id", "r", "w", "ip", "la", "ttl"]);
    assert_eq!(fields[0].1, "alice");
    assert_eq!((fields[1].1.as_str(), fields[2].1.as_str()), ("1", "1"));
    assert_eq!(fields[3].1, "10.0.0.1");
    let la: i64 = fields[4].1.parse().unwrap();
    assert!(la >= before && la <= before + 1, "la {la} vs {before}");
    assert_eq!(fields[5].1, "7200", "default ttl");

    let other = create(&mut c, "shop", "alice", &[]);
    assert_ne!(token, other);
}

#[test]
fn get_shows_counters_before_the_read_then_records_it() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "bob", &["TTL", "600"]);

    let first = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(
        field_names(&first),
        ["id", "r", "w", "ttl", "idle", "ip"],
        "no data, no no_resave"
    );
    assert_eq!(first.field("id").unwrap().text(), "bob");
    assert_eq!(first.field("r").unwrap().int(), 1);
    assert_eq!(first.field("w").unwrap().int(), 1);
    assert_eq!(first.field("ttl").unwrap().int(), 600);
    assert!(first.field("idle").unwrap().int() <= 1);
    assert_eq!(first.field("ip").unwrap().text(), "10.0.0.1");

    let second = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(second.field("r").unwrap().int(), 2);
    assert_eq!(second.field("w").unwrap().int(), 1);
    let stored = c.call(&["HGET", &format!("rs:{{shop}}:{token}"), "r"]);
    assert_eq!(stored.text(), "3", "the read is recorded after the reply");
}

#[test]
fn replies_are_resp3_maps_or_resp2_flat_arrays_in_contract_order() {
    let server = Server::start();
    let mut c2 = server.client();
    let mut c3 = server.client3();
    let token = create(
        &mut c2,
        "shop",
        "carol",
        &["DATA", r#"{"cart":3}"#, "NORESAVE", "TTL", "100"],
    );

    let flat = c2.call(&["SESS.GET", "shop", &token]);
    let Reply::Array(items) = &flat else {
        panic!("RESP2 reply must be a flat array: {flat:?}")
    };
    assert_eq!(items.len(), 16);
    assert_eq!(
        field_names(&flat),
        ["id", "r", "w", "ttl", "idle", "ip", "no_resave", "d"]
    );
    assert!(
        matches!(items[1], Reply::Bulk(_)),
        "field names are bulk strings"
    );
    assert_eq!(items[3], Reply::Int(1));

    let map = c3.call(&["SESS.GET", "shop", &token]);
    assert!(
        matches!(map, Reply::Map(_)),
        "RESP3 reply must be a map: {map:?}"
    );
    assert_eq!(
        field_names(&map),
        ["id", "r", "w", "ttl", "idle", "ip", "no_resave", "d"]
    );
    assert_eq!(map.field("no_resave").unwrap(), Reply::Int(1));
    assert_eq!(map.field("d").unwrap().text(), r#"{"cart":3}"#);
    assert_eq!(map.field("r").unwrap().int(), 2);

    let list3 = c3.call(&["SESS.SOID", "shop", "carol"]);
    let entries = list3.array();
    assert!(matches!(entries[0], Reply::Map(_)));
    assert_eq!(field_names(&entries[0])[0], "token");
    let list2 = c2.call(&["SESS.SOID", "shop", "carol"]);
    assert_eq!(list2.array()[0].field("token").unwrap().text(), token);
    assert_eq!(c3.call(&["SESS.GET", "shop", &"x".repeat(64)]), Reply::Nil);
    assert_eq!(c2.call(&["SESS.GET", "shop", &"x".repeat(64)]), Reply::Nil);
}

#[test]
fn every_command_answers_resp3_clients() {
    let server = Server::start();
    let mut c = server.client3();
    let created = c.call(&["SESS.CREATE", "shop", "dora", "10.0.0.1"]);
    assert!(matches!(created, Reply::Bulk(_)), "{created:?}");
    let token = created.text();
    let set = c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]);
    assert!(matches!(set, Reply::Map(_)), "{set:?}");
    assert_eq!(
        field_names(&set),
        ["id", "r", "w", "ttl", "idle", "ip", "d"]
    );
    let app = c.call(&["SESS.SOAPP", "shop", "60"]);
    assert!(
        matches!(&app, Reply::Array(items) if matches!(items[0], Reply::Map(_))),
        "{app:?}"
    );
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]), Reply::Int(1));
    assert_eq!(
        c.call(&["SESS.SOID", "shop", "nobody"]),
        Reply::Array(vec![])
    );
    assert_eq!(
        c.call(&["SESS.SET", "shop", &"Z".repeat(64), r#"{"a":1}"#]),
        Reply::Nil
    );
    assert_eq!(c.call(&["SESS.KILL", "shop", &token]), Reply::Int(1));
    create(&mut c, "shop", "dora", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "dora"]), Reply::Int(1));
    create(&mut c, "shop", "dora", &[]);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]), Reply::Int(1));
    assert!(c
        .call(&["SESS.GET", "shop", "short"])
        .err()
        .starts_with("ERR invalid token"));
}

#[test]
fn set_merges_data_and_replies_with_the_session_after_the_write() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(
        &mut c,
        "shop",
        "dave",
        &[
            "DATA",
            r#"{"keep":1,"change":"old","drop":true,"gone":null}"#,
        ],
    );
    let stored = c
        .call(&["HGET", &format!("rs:{{shop}}:{token}"), "d"])
        .text();
    assert_eq!(
        stored, r#"{"keep":1,"change":"old","drop":true}"#,
        "nulls are dropped at create"
    );

    let after = c.call(&[
        "SESS.SET",
        "shop",
        &token,
        r#"{"change":"new","drop":null,"add":2.50}"#,
    ]);
    assert_eq!(after.field("w").unwrap().int(), 2, "w after the write");
    assert_eq!(after.field("r").unwrap().int(), 1, "r unchanged");
    assert_eq!(after.field("idle").unwrap().int(), 0);
    assert_eq!(
        after.field("d").unwrap().text(),
        r#"{"keep":1,"change":"new","add":2.50}"#
    );

    let emptied = c.call(&[
        "SESS.SET",
        "shop",
        &token,
        r#"{"keep":null,"change":null,"add":null}"#,
    ]);
    assert_eq!(emptied.field("d"), None, "no d field once no key remains");
    assert_eq!(emptied.field("w").unwrap().int(), 3);
    let exists = c.call(&["HEXISTS", &format!("rs:{{shop}}:{token}"), "d"]);
    assert_eq!(exists.int(), 0);

    let readd = c.call(&["SESS.SET", "shop", &token, r#"{"x":"y"}"#]);
    assert_eq!(readd.field("d").unwrap().text(), r#"{"x":"y"}"#);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &token])
            .field("r")
            .unwrap()
            .int(),
        1
    );

    let missing = c.call(&["SESS.SET", "shop", &"A".repeat(64), r#"{"a":1}"#]);
    assert_eq!(missing, Reply::Nil);
}

#[test]
fn create_with_only_null_data_stores_no_data() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "erin", &["DATA", r#"{"a":null}"#]);
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(got.field("d"), None);
}

#[test]
fn no_resave_sessions_report_the_seconds_they_have_left() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "fay", &["TTL", "30", "NORESAVE"]);
    let key = format!("rs:{{shop}}:{token}");
    let end = |c: &mut Client| -> i64 {
        let la: i64 = c.call(&["HGET", &key, "la"]).text().parse().unwrap();
        let ttl: i64 = c.call(&["HGET", &key, "ttl"]).text().parse().unwrap();
        la + ttl
    };
    let created_end = end(&mut c);
    assert_eq!(c.call(&["HGET", &key, "no_resave"]).text(), "1");
    std::thread::sleep(std::time::Duration::from_millis(2100));

    let got = c.call(&["SESS.GET", "shop", &token]);
    let ttl = got.field("ttl").unwrap().int();
    let idle = got.field("idle").unwrap().int();
    assert!((2..=3).contains(&idle), "idle {idle}");
    assert_eq!(ttl + idle, 30, "ttl is what is left of 30 s");
    assert_eq!(got.field("no_resave").unwrap().int(), 1);
    assert_eq!(
        end(&mut c),
        created_end,
        "reading never extends a no_resave session"
    );

    let set = c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]);
    assert_eq!(
        set.field("w").unwrap().int(),
        2,
        "the Node library's w=0 bug is fixed"
    );
    assert_eq!(set.field("ttl").unwrap().int(), ttl);
    assert_eq!(end(&mut c), created_end);
}

#[test]
fn kill_removes_one_session_and_the_user_leaves_activity_with_the_last() {
    let server = Server::start();
    let mut c = server.client();
    let t1 = create(&mut c, "shop", "gus", &[]);
    let t2 = create(&mut c, "shop", "gus", &[]);
    create(&mut c, "shop", "hal", &[]);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);

    assert_eq!(c.call(&["SESS.KILL", "shop", &t1]).int(), 1);
    assert_eq!(c.call(&["SESS.KILL", "shop", &t1]).int(), 0);
    assert_eq!(c.call(&["SESS.GET", "shop", &t1]), Reply::Nil);
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "60"]).int(),
        2,
        "gus still has a session"
    );
    assert_eq!(c.call(&["SESS.SOID", "shop", "gus"]).array().len(), 1);

    assert_eq!(c.call(&["SESS.KILL", "shop", &t2]).int(), 1);
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "60"]).int(),
        1,
        "gus left at once"
    );
    assert!(
        keys(&mut c).iter().all(|k| !k.contains("gus")),
        "{:?}",
        keys(&mut c)
    );
    assert_eq!(c.call(&["SESS.KILL", "shop", &"Q".repeat(64)]).int(), 0);
}

#[test]
fn killsoid_logs_one_user_out_everywhere() {
    let server = Server::start();
    let mut c = server.client();
    for _ in 0..3 {
        create(&mut c, "shop", "ivy", &[]);
    }
    let other = create(&mut c, "shop", "jon", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "ivy"]).int(), 3);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "ivy"]).int(), 0);
    assert_eq!(c.call(&["SESS.SOID", "shop", "ivy"]).array().len(), 0);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);
    assert!(c.call(&["SESS.GET", "shop", &other]).field("id").is_some());
    assert!(keys(&mut c).iter().all(|k| !k.contains("ivy")));
}

#[test]
fn killall_empties_one_app_and_leaves_the_others() {
    let server = Server::start();
    let mut c = server.client();
    for user in ["k1", "k2", "k3"] {
        create(&mut c, "shop", user, &[]);
        create(&mut c, "shop", user, &["DATA", r#"{"a":1}"#]);
    }
    let kept = create(&mut c, "blog", "k1", &[]);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]).int(), 6);
    assert_eq!(c.call(&["SESS.KILLALL", "shop"]).int(), 0);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 0);
    assert!(
        keys(&mut c).iter().all(|k| k.starts_with("rs:{blog}:")),
        "{:?}",
        keys(&mut c)
    );
    assert!(c.call(&["SESS.GET", "blog", &kept]).field("id").is_some());
}

#[test]
fn soid_and_soapp_list_most_recently_active_first_without_touching() {
    let server = Server::start();
    let mut c = server.client();
    let older = create(&mut c, "shop", "lea", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newer = create(&mut c, "shop", "lea", &[]);
    let other = create(&mut c, "shop", "max", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    c.call(&["SESS.GET", "shop", &older]);

    let tokens = |r: Reply| -> Vec<String> {
        r.array()
            .iter()
            .map(|e| e.field("token").unwrap().text())
            .collect()
    };
    assert_eq!(
        tokens(c.call(&["SESS.SOID", "shop", "lea"])),
        [older.clone(), newer.clone()]
    );
    let listed = c.call(&["SESS.SOID", "shop", "lea"]).array();
    assert_eq!(
        listed[0].field("r").unwrap().int(),
        2,
        "SOID does not count a read"
    );
    assert_eq!(
        c.call(&["SESS.SOID", "shop", "lea"]).array()[0]
            .field("r")
            .unwrap()
            .int(),
        2
    );

    let app = tokens(c.call(&["SESS.SOAPP", "shop", "60"]));
    assert_eq!(app[0], older);
    assert_eq!(app.len(), 3);
    assert!(app.contains(&newer) && app.contains(&other));
    assert_eq!(c.call(&["SESS.SOID", "shop", "nobody"]).array().len(), 0);
    assert_eq!(c.call(&["SESS.SOAPP", "empty", "60"]).array().len(), 0);
}

#[test]
fn ids_with_separators_spaces_braces_and_other_scripts_work_everywhere() {
    let server = Server::start();
    let mut c = server.client();
    for id in [
        "a:b:c",
        "with space",
        "{tag}x}",
        "mail@example.com",
        "Ünïcødé ид 名前 🎉",
        ":",
    ] {
        let t = create(&mut c, "shop", id, &["DATA", r#"{"v":1}"#]);
        assert_eq!(
            c.call(&["SESS.GET", "shop", &t])
                .field("id")
                .unwrap()
                .text(),
            id
        );
        assert_eq!(
            c.call(&["SESS.SET", "shop", &t, r#"{"v":2}"#])
                .field("d")
                .unwrap()
                .text(),
            r#"{"v":2}"#
        );
        let soid = c.call(&["SESS.SOID", "shop", id]).array();
        assert_eq!(soid.len(), 1, "{id}");
        assert_eq!(soid[0].field("token").unwrap().text(), t);
        let t2 = create(&mut c, "shop", id, &[]);
        assert_eq!(c.call(&["SESS.KILL", "shop", &t2]).int(), 1);
        assert_eq!(c.call(&["SESS.KILLSOID", "shop", id]).int(), 1, "{id}");
    }
    assert_eq!(keys(&mut c), Vec::<String>::new(), "nothing left behind");
}

#[test]
fn app_names_differing_only_in_case_are_separate_apps() {
    let server = Server::start();
    let mut c = server.client();
    let lower = create(&mut c, "test", "u", &[]);
    create(&mut c, "TEST", "u", &[]);
    create(&mut c, "TEST", "v", &[]);
    assert_eq!(c.call(&["SESS.GET", "TEST", &lower]), Reply::Nil);
    assert_eq!(c.call(&["SESS.ACTIVITY", "test", "60"]).int(), 1);
    assert_eq!(c.call(&["SESS.ACTIVITY", "TEST", "60"]).int(), 2);
    assert_eq!(c.call(&["SESS.KILLALL", "TEST"]).int(), 2);
    assert!(c.call(&["SESS.GET", "test", &lower]).field("id").is_some());
}

#[test]
fn activity_counts_distinct_users() {
    let server = Server::start();
    let mut c = server.client();
    for user in ["a1", "a1", "a2", "a3"] {
        create(&mut c, "shop", user, &[]);
    }
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "10"]).int(), 3);
    assert_eq!(c.call(&["SESS.ACTIVITY", "other", "10"]).int(), 0);
}

#[test]
fn commands_declare_the_app_as_their_key() {
    let server = Server::start();
    let mut c = server.client();
    let tok = "t".repeat(64);
    for args in [
        vec!["SESS.CREATE", "myapp", "id", "ip"],
        vec!["SESS.GET", "myapp", &tok],
        vec!["SESS.PEEK", "myapp", &tok],
        vec!["SESS.ROTATE", "myapp", &tok],
        vec!["SESS.SET", "myapp", &tok, "{}"],
        vec!["SESS.KILL", "myapp", &tok],
        vec!["SESS.KILLALL", "myapp"],
        vec!["SESS.KILLSOID", "myapp", "id"],
        vec!["SESS.SOID", "myapp", "id"],
        vec!["SESS.SOAPP", "myapp", "10"],
        vec!["SESS.ACTIVITY", "myapp", "10"],
    ] {
        let mut getkeys = vec!["COMMAND", "GETKEYS"];
        getkeys.extend(args.iter().copied());
        let keys = c.call(&getkeys);
        assert_eq!(
            keys.array(),
            vec![Reply::Bulk(b"myapp".to_vec())],
            "{args:?}"
        );
    }
}

#[test]
fn default_ttl_and_prefix_follow_the_configuration() {
    let server = Server::with(
        common::Options::default()
            .module_arg("prefix", "sessions")
            .module_arg("default-ttl", "900"),
    );
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    assert_eq!(
        c.call(&["HGET", &format!("sessions:{{shop}}:{token}"), "ttl"])
            .text(),
        "900"
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "sess.prefix"]).array()[1].text(),
        "sessions"
    );

    assert!(c
        .call(&["CONFIG", "SET", "sess.default-ttl", "1200"])
        .is_simple("OK"));
    let token = create(&mut c, "shop", "u", &[]);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &token])
            .field("ttl")
            .unwrap()
            .int(),
        1200
    );
    let refused = c.call(&["CONFIG", "SET", "sess.prefix", "other"]);
    assert!(refused.err().starts_with("ERR"), "prefix is fixed at load");
    let refused = c.call(&["CONFIG", "SET", "sess.default-ttl", "5"]);
    assert!(
        refused.err().contains("must be between 10 and 31536000"),
        "{refused:?}"
    );
}

#[test]
fn json_numbers_keep_their_exact_text_through_create_set_and_get() {
    let server = Server::start();
    let mut c = server.client();
    let data = r#"{"a":1e5,"b":1E5,"c":2.5E-3,"d":-0.0,"e":123456789012345678901234567890}"#;
    let token = create(&mut c, "shop", "u", &["DATA", data]);
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(got.field("d").unwrap().text(), data);
    let set = c.call(&["SESS.SET", "shop", &token, r#"{"f":1E+05,"a":null}"#]);
    assert_eq!(
        set.field("d").unwrap().text(),
        r#"{"b":1E5,"c":2.5E-3,"d":-0.0,"e":123456789012345678901234567890,"f":1E+05}"#
    );
}
