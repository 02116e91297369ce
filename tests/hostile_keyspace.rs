//! Keys changed behind the module's back: by users (HSET, DEL, EXPIRE on the
//! module's keys) or by the server (eviction). Stored values are never
//! trusted: counters saturate, no arithmetic wraps, and no session outlives
//! its expiry, whatever happened to its indexes.

mod common;

use common::{create, keys, la, sleep_until, Client, Reply, Server};

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
