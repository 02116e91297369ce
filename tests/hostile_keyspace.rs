//! Keys changed behind the module's back: by users (HSET, DEL, EXPIRE on the
//! module's keys) or by the server (eviction). Stored values are never
//! trusted: counters saturate, no arithmetic wraps, and no session outlives
//! its expiry, whatever happened to its indexes.

mod common;

use common::{
    create, eventually, keys, la, session_hashes, sessions_expiring_soon, sleep_until, Client,
    Options, Reply, Server,
};

fn session_key(token: &str) -> String {
    format!("rs:{{shop}}:{token}")
}

fn hset(c: &mut Client, token: &str, field: &str, value: &str) {
    c.call(&["HSET", &session_key(token), field, value]);
}

#[test]
fn counters_saturate_instead_of_wrapping() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    hset(&mut c, &token, "r", "9223372036854775807");
    hset(&mut c, &token, "w", "9223372036854775807");

    let got = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(got.field("r"), Some(Reply::Int(i64::MAX)));
    let set = c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]);
    assert_eq!(set.field("w"), Some(Reply::Int(i64::MAX)));
    let again = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(again.field("r"), Some(Reply::Int(i64::MAX)));
    assert_eq!(again.field("w"), Some(Reply::Int(i64::MAX)));
}

#[test]
fn extreme_last_activity_or_ttl_never_makes_a_session_live() {
    let server = Server::start();
    let mut c = server.client();
    for (field, value) in [
        ("la", "-9223372036854775808"),
        ("la", "9223372036854775807"),
        ("ttl", "-9223372036854775808"),
    ] {
        let token = create(&mut c, "shop", "u", &[]);
        hset(&mut c, &token, field, value);
        assert_eq!(c.call(&["SESS.GET", "shop", &token]), Reply::Nil, "{field}");
        assert_eq!(
            c.call(&["SESS.SET", "shop", &token, r#"{"a":1}"#]),
            Reply::Nil
        );
        assert_eq!(c.call(&["SESS.KILL", "shop", &token]).int(), 0);
    }
    let token = create(&mut c, "shop", "u", &[]);
    hset(&mut c, &token, "ttl", "9223372036854775807");
    hset(&mut c, &token, "no_resave", "1");
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert!(got.field("ttl").unwrap().int() > 0, "{got:?}");
    assert_eq!(c.call(&["SESS.SOID", "shop", "u"]).array().len(), 1);
    assert!(c.call(&["PING"]).is_simple("PONG"));
}

#[test]
fn a_session_with_a_tampered_last_activity_is_swept() {
    let server = Server::start();
    let mut c = server.client();
    let ancient = create(&mut c, "shop", "u", &["TTL", "10"]);
    let future = create(&mut c, "shop", "u", &["TTL", "10"]);
    let expires = (la(&mut c, "shop", &future) + 11) as f64;
    hset(&mut c, &ancient, "la", "-9223372036854775808");
    hset(&mut c, &future, "la", "9223372036854775807");
    sleep_until(&mut c, expires + 2.0);
    assert_eq!(keys(&mut c), ["rs:{shop}:_users"]);
}

#[test]
fn ttl_in_plain_digits_of_any_length_is_accepted() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &["TTL", "0000000010"]);
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(got.field("ttl"), Some(Reply::Int(10)));
    let zeros = format!("{}60", "0".repeat(200));
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", &zeros]).int(), 1);
    let bad = c.call(&["SESS.CREATE", "shop", "u", "ip", "TTL", "000000009"]);
    assert!(bad.err().starts_with("ERR invalid ttl"), "{bad:?}");
}

#[test]
fn sessions_whose_indexes_were_deleted_or_expired_by_a_user_still_leave_on_time() {
    let server = Server::start();
    let mut c = server.client();
    let (_, expired_at) = sessions_expiring_soon(&mut c, 20);
    for user in 0..5 {
        c.call(&["DEL", &format!("rs:{{shop}}:us:u{user}")]);
    }
    c.call(&["DEL", "rs:{shop}:_users"]);
    c.call(&["PEXPIRE", "rs:{shop}:_expiry", "1"]);
    assert_eq!(session_hashes(&mut c).len(), 20);

    // Orphans are found by the keyspace scan, which passes over this small
    // keyspace (and the 15 empty databases) in under 2 s.
    sleep_until(&mut c, expired_at + 3.0);
    assert!(
        eventually(2, || keys(&mut c).is_empty()),
        "left: {:?}",
        keys(&mut c)
    );
}

#[test]
fn a_live_session_that_lost_its_index_is_listed_again_and_expires_on_time() {
    let server = Server::start();
    let mut c = server.client();
    let (tokens, expired_at) = sessions_expiring_soon(&mut c, 3);
    c.call(&["DEL", "rs:{shop}:us:u1", "rs:{shop}:_expiry"]);
    assert!(c.call(&["SESS.SOID", "shop", "u1"]).array().is_empty());
    assert!(
        eventually(4, || c.call(&["SESS.SOID", "shop", "u1"]).array().len()
            == 1),
        "the scan did not put the session back in its user's index"
    );
    assert_eq!(c.call(&["EXISTS", "rs:{shop}:_expiry"]).int(), 1);
    sleep_until(&mut c, expired_at + 2.0);
    let left: Vec<String> = tokens
        .iter()
        .filter(|t| c.call(&["EXISTS", &format!("rs:{{shop}}:{t}")]).int() == 1)
        .cloned()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_session_hash_with_a_tampered_field_is_removed() {
    let server = Server::start();
    let mut c = server.client();
    let tampered = create(&mut c, "shop", "u", &["TTL", "600"]);
    let missing_field = create(&mut c, "shop", "u", &["TTL", "600"]);
    let healthy = create(&mut c, "shop", "u", &["TTL", "600"]);
    hset(&mut c, &tampered, "r", "abc");
    c.call(&["HDEL", &session_key(&missing_field), "la"]);
    assert_eq!(c.call(&["SESS.GET", "shop", &tampered]), Reply::Nil);
    assert!(
        eventually(4, || session_hashes(&mut c) == [session_key(&healthy)]),
        "left: {:?}",
        session_hashes(&mut c)
    );
    assert_eq!(c.call(&["SESS.SOID", "shop", "u"]).array().len(), 1);
}

#[test]
fn under_allkeys_eviction_no_session_outlives_its_expiry_and_the_log_says_why() {
    let server = Server::with(
        Options::default()
            .config("maxmemory", "12mb")
            .config("maxmemory-policy", "allkeys-random"),
    );
    let mut c = server.client();
    let started = common::server_now(&mut c);
    let batch: Vec<Vec<String>> = (0..40_000)
        .map(|i| {
            vec![
                "SESS.CREATE".into(),
                "shop".into(),
                format!("u{}", i % 8000),
                "10.0.0.1".into(),
                "TTL".into(),
                "10".into(),
            ]
        })
        .collect();
    for chunk in batch.chunks(1000) {
        c.pipeline(chunk);
    }
    let evicted = c.call(&["INFO", "stats"]).text();
    assert!(!evicted.contains("evicted_keys:0\r"), "nothing was evicted");
    // All expired by started + 10 + the time the creates took + 1; then
    // one scan pass over what is left.
    let created_by = common::server_now(&mut c);
    sleep_until(&mut c, created_by.ceil() + 11.0);
    assert!(
        eventually(10, || session_hashes(&mut c).is_empty()),
        "{} expired session hashes remain ({} s after the first create)",
        session_hashes(&mut c).len(),
        common::server_now(&mut c) - started
    );
    assert!(
        server
            .log()
            .contains("maxmemory-policy allkeys-random can evict"),
        "{}",
        server.log()
    );
}
