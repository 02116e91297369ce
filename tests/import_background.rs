//! The import seen from a dashboard: while `sess.import-namespace` is set,
//! SESS.ACTIVITY and SESS.SOAPP answer what the Node library would answer
//! for the sessions not yet moved, plus the moved ones, at every moment; and
//! the module moves everything in by itself, until `INFO sess` says
//! `import_done:1`.

mod common;

use std::collections::BTreeSet;

use common::{create, eventually, info_field, keys, server_now, Client, Server};

fn token(n: usize) -> String {
    let base = format!("{n:08}");
    format!("{}{base}", "L".repeat(64 - base.len()))
}

/// Writes the library's keys for sessions `(token, id, la)` as
/// redis-sessions does: the hash, `_sessions`, `_users` (the user's latest
/// activity), `us:<id>`, `SESSIONS`.
fn write_library(c: &mut Client, sessions: &[(String, String, i64)]) {
    let mut commands = Vec::new();
    for (t, id, la) in sessions {
        let la = la.to_string();
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
            "10.0.0.7".into(),
            "la".into(),
            la.clone(),
            "ttl".into(),
            "7200".into(),
        ]);
        commands.push(vec![
            "ZADD".into(),
            "rs:shop:_sessions".into(),
            la.clone(),
            format!("{t}:{id}"),
        ]);
        commands.push(vec![
            "ZADD".into(),
            "rs:shop:_users".into(),
            "GT".into(),
            la.clone(),
            id.clone(),
        ]);
        commands.push(vec!["SADD".into(), format!("rs:shop:us:{id}"), t.clone()]);
        commands.push(vec![
            "ZADD".into(),
            "rs:SESSIONS".into(),
            la.clone(),
            format!("shop:{t}:{id}"),
        ]);
    }
    for reply in c.pipeline(&commands) {
        assert!(!reply.is_error(), "{reply:?}");
    }
}

/// The library's answer to `activity(dt)`: ZCOUNT of its `_users`.
fn library_activity(c: &mut Client, now: i64, dt: i64) -> BTreeSet<String> {
    c.call(&[
        "ZRANGE",
        "rs:shop:_users",
        &format!("({}", now - dt),
        "+inf",
        "BYSCORE",
    ])
    .strings()
    .into_iter()
    .collect()
}

fn module_users(c: &mut Client, now: i64, dt: i64) -> BTreeSet<String> {
    c.call(&[
        "ZRANGE",
        "rs:{shop}:_users",
        &format!("{}", now - dt + 1),
        "+inf",
        "BYSCORE",
    ])
    .strings()
    .into_iter()
    .collect()
}

/// Tokens of SOAPP, in order.
fn soapp(c: &mut Client, dt: i64, limit: Option<usize>) -> Vec<String> {
    let dt = dt.to_string();
    let mut args = vec!["SESS.SOAPP", "shop", &dt];
    let limit = limit.map(|n| n.to_string());
    if let Some(n) = &limit {
        args.extend(["LIMIT", n]);
    }
    c.call(&args)
        .array()
        .iter()
        .map(|entry| entry.field("token").unwrap().text())
        .collect()
}

#[test]
fn activity_and_soapp_answer_as_the_library_would_while_the_background_moves_everything() {
    let server = Server::start();
    let mut c = server.client();
    let now = server_now(&mut c) as i64;
    // 600 library sessions of 200 users, active 5, 100 or 1000 seconds ago:
    // far from the windows' edges (60, 600, 3600 s) for the test's length.
    let idles = [5, 100, 1000];
    let library: Vec<(String, String, i64)> = (0..600)
        .map(|n| (token(n), format!("user{}", n % 200), now - idles[n % 3]))
        .collect();
    write_library(&mut c, &library);
    // Users the module already has: some also in the library, some not.
    let mut module_tokens = Vec::new();
    for n in 0..30 {
        module_tokens.push(create(&mut c, "shop", &format!("user{}", n * 10), &[]));
    }
    for n in 0..10 {
        module_tokens.push(create(&mut c, "shop", &format!("new{n}"), &[]));
    }

    // Expected answers: the library's for its sessions, plus the module's.
    let windows = [60, 600, 3600];
    let mut expected_activity = Vec::new();
    let mut expected_soapp = Vec::new();
    for dt in windows {
        let mut users = library_activity(&mut c, now, dt);
        users.extend(module_users(&mut c, now, dt));
        expected_activity.push(users.len() as i64);
        let mut tokens: Vec<(i64, String)> = library
            .iter()
            .filter(|(_, _, la)| *la > now - dt)
            .map(|(t, _, la)| (*la, t.clone()))
            .collect();
        tokens.extend(module_tokens.iter().map(|t| (now, t.clone())));
        tokens.sort_by_key(|t| std::cmp::Reverse(t.0));
        expected_soapp.push(tokens);
    }
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "3600"]).int(),
        40,
        "the module alone"
    );

    let check = |c: &mut Client, when: &str| {
        for (i, dt) in windows.iter().enumerate() {
            assert_eq!(
                c.call(&["SESS.ACTIVITY", "shop", &dt.to_string()]).int(),
                expected_activity[i],
                "ACTIVITY {dt} {when}"
            );
            let got = soapp(c, *dt, None);
            let want = &expected_soapp[i];
            let as_set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
            assert_eq!(
                as_set(&got),
                as_set(&want.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>()),
                "SOAPP {dt} {when}"
            );
            // Most recent first: the idle times never decrease along the list.
            let rank = |t: &String| want.iter().find(|(_, w)| w == t).unwrap().0;
            assert!(
                got.windows(2).all(|w| rank(&w[0]) >= rank(&w[1])),
                "SOAPP {dt} order {when}"
            );
            let top = soapp(c, *dt, Some(10));
            assert_eq!(top.len(), want.len().min(10));
            assert!(top.iter().all(|t| rank(t) >= rank(&top[top.len() - 1])));
        }
    };

    c.call(&["CONFIG", "SET", "sess.import-namespace", "rs"]);
    check(&mut c, "right after the switch");
    // The background moves everything in by itself; the answers hold at
    // every moment on the way.
    let mut seen_partway = false;
    assert!(
        eventually(60, || {
            let remaining = c.call(&["ZCARD", "rs:shop:_sessions"]).int();
            if remaining > 0 && remaining < 600 {
                seen_partway = true;
            }
            check(&mut c, &format!("with {remaining} left"));
            info_field(&mut c, "sess_import_done") == 1
        }),
        "import_done never came: {}",
        c.call(&["INFO", "sess"]).text()
    );
    check(&mut c, "after the import");
    assert_eq!(info_field(&mut c, "sess_import_remaining"), 0);
    assert_eq!(info_field(&mut c, "sess_imported"), 600);
    assert!(
        keys(&mut c).iter().all(|k| !k.starts_with("rs:shop:")),
        "{:?}",
        keys(&mut c)
    );
    assert_eq!(c.call(&["ZCARD", "rs:SESSIONS"]).int(), 0);
    let _ = seen_partway; // how far each check came depends on the machine's speed
}

#[test]
fn the_background_keeps_the_activity_of_users_whose_library_session_expired() {
    let server = Server::start();
    let mut c = server.client();
    let now = server_now(&mut c) as i64;
    // Expired 10 seconds ago, active 20 seconds ago.
    write_library(&mut c, &[(token(1), "zed".into(), now - 20)]);
    c.call(&["HSET", &format!("rs:shop:{}", token(1)), "ttl", "10"]);
    c.call(&["CONFIG", "SET", "sess.import-namespace", "rs"]);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "100"]).int(), 1);
    assert!(eventually(20, || info_field(&mut c, "sess_import_done") == 1));
    assert!(keys(&mut c).iter().all(|k| !k.starts_with("rs:shop:")));
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "100"]).int(),
        1,
        "still counted, as the module's own"
    );
}

#[test]
fn with_the_background_off_info_counts_what_remains_and_is_never_done() {
    let server = Server::with(common::Options::default().module_arg("import-batch", "0"));
    let mut c = server.client();
    let now = server_now(&mut c) as i64;
    let library: Vec<_> = (0..10)
        .map(|n| (token(n), format!("u{n}"), now - 5))
        .collect();
    write_library(&mut c, &library);
    c.call(&["CONFIG", "SET", "sess.import-namespace", "rs"]);
    assert!(eventually(20, || info_field(
        &mut c,
        "sess_import_remaining"
    ) == 10));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(info_field(&mut c, "sess_import_done"), 0);
    assert_eq!(
        c.call(&["ZCARD", "rs:shop:_sessions"]).int(),
        10,
        "nothing moved"
    );
    // A leftover library copy of a session the module has is listed once.
    assert!(!c.call(&["SESS.GET", "shop", &token(3)]).is_nil());
    write_library(&mut c, &[(token(3), "u3".into(), now - 5)]);
    let listed = soapp(&mut c, 100, None);
    assert_eq!(
        listed.iter().filter(|t| **t == token(3)).count(),
        1,
        "{listed:?}"
    );
    assert_eq!(listed.len(), 10);
}
