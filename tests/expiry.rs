//! Expiry against the real clock: expired sessions are never returned, and
//! with no traffic at all every key and index entry of an expired session is
//! gone within 2 seconds. The shortest ttl is 10 s, so these tests wait; they
//! run in parallel, each on its own server.

mod common;

use std::time::{Duration, Instant};

use common::{
    create, eventually, keys, la, server_now, sleep_until, Client, Options, Reply, Server,
};

fn session_keys(c: &mut Client, app: &str) -> Vec<String> {
    keys(c)
        .into_iter()
        .filter(|k| k.starts_with(&format!("rs:{{{app}}}:")) && !k.ends_with(":_users"))
        .collect()
}

#[test]
fn expired_sessions_vanish_within_two_seconds_without_traffic() {
    let server = Server::start();
    let mut c = server.client();
    let a = create(&mut c, "shop", "ann", &["TTL", "10", "DATA", r#"{"x":1}"#]);
    create(&mut c, "shop", "ann", &["TTL", "10"]);
    create(&mut c, "shop", "weird:id {x}", &["TTL", "10", "NORESAVE"]);
    let survivor = create(&mut c, "shop", "ben", &["TTL", "600"]);
    let expires = (la(&mut c, "shop", &a) + 11) as f64;

    sleep_until(&mut c, expires - 0.3);
    assert_eq!(
        session_keys(&mut c, "shop").len(),
        8,
        "nothing is removed early: {:?}",
        keys(&mut c)
    );

    sleep_until(&mut c, expires + 2.0);
    let left = session_keys(&mut c, "shop");
    let expected = vec![
        "rs:{shop}:_expiry".to_string(),
        format!("rs:{{shop}}:{survivor}"),
        "rs:{shop}:us:ben".to_string(),
    ];
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(
        left, expected_sorted,
        "expired keys and index entries are gone"
    );
    let due: Vec<String> = c
        .call(&["ZRANGE", "rs:{shop}:_expiry", "0", "-1"])
        .array()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(due, ["ben"]);
    assert!(c
        .call(&["SESS.GET", "shop", &survivor])
        .field("id")
        .is_some());
}

#[test]
fn reads_never_return_an_expired_session_even_before_the_sweeper_runs() {
    // A long sweep interval and a removed expiry entry keep the sweeper away,
    // so only the read path stands between clients and the expired session.
    let server = Server::with(Options::default().module_arg("sweep-interval", "10000"));
    let mut c = server.client();
    let token = create(&mut c, "shop", "cat", &["TTL", "10"]);
    c.call(&["ZREM", "rs:{shop}:_expiry", "cat"]);
    let expires = (la(&mut c, "shop", &token) + 11) as f64;

    sleep_until(&mut c, expires - 0.5);
    assert!(
        c.call(&["SESS.GET", "shop", &token]).field("id").is_some(),
        "live at idle == ttl"
    );
    let expires = (la(&mut c, "shop", &token) + 11) as f64;
    sleep_until(&mut c, expires + 0.1);
    assert_eq!(
        c.call(&["EXISTS", &format!("rs:{{shop}}:{token}")]).int(),
        1,
        "still stored"
    );
    assert_eq!(c.call(&["SESS.GET", "shop", &token]), Reply::Nil);
    assert_eq!(
        c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]),
        Reply::Nil
    );
    assert_eq!(c.call(&["SESS.SOID", "shop", "cat"]).array().len(), 0);
    assert_eq!(c.call(&["SESS.SOAPP", "shop", "600"]).array().len(), 0);
    assert_eq!(
        c.call(&["SESS.KILL", "shop", &token]).int(),
        0,
        "not a live session"
    );
    assert_eq!(
        c.call(&["EXISTS", &format!("rs:{{shop}}:{token}")]).int(),
        0,
        "but KILL cleans it up"
    );
}

#[test]
fn activity_keeps_counting_a_user_for_dt_after_their_sessions_expire() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "dan", &["TTL", "10"]);
    let expires = (la(&mut c, "shop", &token) + 11) as f64;
    sleep_until(&mut c, expires + 2.0);
    assert_eq!(session_keys(&mut c, "shop"), Vec::<String>::new());
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "60"]).int(),
        1,
        "active 13 s ago"
    );
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "10"]).int(),
        0,
        "not within 10 s"
    );
    assert_eq!(c.call(&["SESS.SOAPP", "shop", "60"]).array().len(), 0);
}

#[test]
fn touching_slides_expiry_but_not_for_no_resave_sessions() {
    let server = Server::start();
    let mut c = server.client();
    let sliding = create(&mut c, "shop", "eve", &["TTL", "10"]);
    let fixed = create(&mut c, "shop", "eve", &["TTL", "10", "NORESAVE"]);
    let start = Instant::now();
    let created = la(&mut c, "shop", &sliding) as f64;
    while start.elapsed() < Duration::from_secs(8) {
        assert!(c
            .call(&["SESS.GET", "shop", &sliding])
            .field("id")
            .is_some());
        assert!(c.call(&["SESS.GET", "shop", &fixed]).field("id").is_some());
        std::thread::sleep(Duration::from_secs(2));
    }
    sleep_until(&mut c, created + 11.2);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &fixed]),
        Reply::Nil,
        "no_resave dies ttl after creation"
    );
    let got = c.call(&["SESS.GET", "shop", &sliding]);
    assert!(
        got.field("id").is_some(),
        "the sliding session lives on: {got:?}"
    );
    assert!(got.field("r").unwrap().int() >= 5);
}

#[test]
fn soapp_and_activity_only_count_the_window() {
    let server = Server::start();
    let mut c = server.client();
    let early = create(&mut c, "shop", "fox", &["TTL", "600"]);
    let early_la = la(&mut c, "shop", &early) as f64;
    sleep_until(&mut c, early_la + 11.1);
    let late = create(&mut c, "shop", "gil", &["TTL", "600"]);
    let listed: Vec<String> = c
        .call(&["SESS.SOAPP", "shop", "10"])
        .array()
        .iter()
        .map(|e| e.field("token").unwrap().text())
        .collect();
    assert_eq!(listed, [late]);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "10"]).int(), 1);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);
    assert_eq!(c.call(&["SESS.SOAPP", "shop", "60"]).array().len(), 2);
}

#[test]
fn activity_entries_past_the_horizon_are_dropped_only_for_users_without_sessions() {
    let server = Server::with(Options::default().module_arg("activity-horizon", "60"));
    let mut c = server.client();
    create(&mut c, "shop", "has-session", &["TTL", "600"]);
    let now = server_now(&mut c) as i64;
    // Entries that look 100 s old: one user long gone, one still logged in.
    c.call(&["ZADD", "rs:{shop}:_users", &(now - 100).to_string(), "gone"]);
    c.call(&[
        "ZADD",
        "rs:{shop}:_users",
        &(now - 100).to_string(),
        "has-session",
    ]);
    c.call(&[
        "ZADD",
        "rs:{shop}:_users",
        &(now - 30).to_string(),
        "recent",
    ]);
    assert!(
        // Horizon passes run every 10 s per app.
        common::eventually(15, || {
            c.call(&["ZSCORE", "rs:{shop}:_users", "gone"]) == Reply::Nil
        }),
        "the stale entry is dropped"
    );
    let left: Vec<String> = c
        .call(&["ZRANGE", "rs:{shop}:_users", "0", "-1"])
        .array()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(left, ["has-session", "recent"]);
}

#[test]
fn a_backlog_larger_than_one_step_is_cleared_promptly() {
    let server = Server::with(Options::default().module_arg("sweep-batch", "50"));
    let mut c = server.client();
    let mut batch = Vec::new();
    for i in 0..3000 {
        batch.push(vec![
            "SESS.CREATE".to_string(),
            "bulk".into(),
            format!("user{}", i % 700),
            "ip".into(),
            "TTL".into(),
            "10".into(),
        ]);
    }
    let replies = c.pipeline(&batch);
    assert!(replies.iter().all(|r| matches!(r, Reply::Bulk(_))));
    let first = c
        .call(&["ZRANGE", "rs:{bulk}:_expiry", "0", "0", "WITHSCORES"])
        .array()[1]
        .text();
    let expires: f64 = first.parse().unwrap();
    // 3000 sessions in steps of 50: the sweeper keeps going 1 ms apart.
    sleep_until(&mut c, expires + 2.0);
    assert_eq!(
        c.call(&["DBSIZE"]).int(),
        1,
        "only the activity index is left: {:?}",
        &keys(&mut c)[..3.min(keys(&mut c).len())]
    );
}

#[test]
fn an_app_whose_sessions_all_expired_still_has_its_activity_history_trimmed() {
    let server = Server::with(Options::default().module_arg("activity-horizon", "60"));
    let mut c = server.client();
    let token = create(&mut c, "quiet", "recent", &["TTL", "10"]);
    let now = server_now(&mut c) as i64;
    c.call(&[
        "ZADD",
        "rs:{quiet}:_users",
        &(now - 100).to_string(),
        "ghost",
    ]);
    let expires = (la(&mut c, "quiet", &token) + 11) as f64;
    sleep_until(&mut c, expires + 2.0);
    assert_eq!(
        c.call(&["EXISTS", "rs:{quiet}:_expiry"]).int(),
        0,
        "no session left"
    );
    assert!(
        eventually(25, || c.call(&["ZSCORE", "rs:{quiet}:_users", "ghost"])
            == Reply::Nil),
        "the app is still visited for its activity history"
    );
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "quiet", "60"]).int(),
        1,
        "recent activity stays"
    );
}

#[test]
fn idle_sweeps_and_commands_that_change_nothing_never_abort_a_watch() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "ann", &["TTL", "600"]);
    let missing = "x".repeat(64);
    let watched = [
        "rs:{shop}:_expiry".to_string(),
        "rs:{shop}:_users".to_string(),
        "rs:{shop}:us:ann".to_string(),
        format!("rs:{{shop}}:{missing}"),
    ];
    let mut w = server.client();
    let mut args = vec!["WATCH"];
    args.extend(watched.iter().map(String::as_str));
    assert!(w.call(&args).is_simple("OK"));
    // A horizon pass runs on every app at least every 10 s; commands that
    // find nothing to do open keys for writing but change nothing.
    assert_eq!(c.call(&["SESS.KILL", "shop", &missing]).int(), 0);
    assert_eq!(c.call(&["SESS.GET", "shop", &missing]), Reply::Nil);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "nobody"]).int(), 0);
    std::thread::sleep(Duration::from_secs(11));
    assert!(w.call(&["MULTI"]).is_simple("OK"));
    w.call(&["PING"]);
    assert_ne!(w.call(&["EXEC"]), Reply::Nil, "the WATCH was aborted");

    // A real change still aborts it.
    assert!(w.call(&args).is_simple("OK"));
    assert_eq!(c.call(&["SESS.KILL", "shop", &token]).int(), 1);
    assert!(w.call(&["MULTI"]).is_simple("OK"));
    w.call(&["PING"]);
    assert_eq!(w.call(&["EXEC"]), Reply::Nil);
}
