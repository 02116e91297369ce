//! "Additions, version 3" of the contract: sessions whose token the web
//! framework chooses (`SESS.CREATE ... TOKEN`), handed from user to user
//! (`SESS.ASSIGN`), given a new idle ttl (`SESS.SET ... TTL`), and the
//! compact reply (the `JSON` option word on GET, PEEK, SET, SOID, SOAPP),
//! against a real redis-server with the module: replies, stored keys,
//! indexes, expiry, kill epochs, events, replication to a replica without
//! the module, a three-master cluster, COMMAND DOCS and log redaction.
//!
//! Four tests here found bugs in the first build of these commands (each
//! says which, with its reproduction); they pass since the fix.

mod common;

use std::fmt;
use std::time::Duration;

use common::cluster::{build_cluster, cluster_connection, cluster_node};
use common::{create, eventually, in_sync, keys, la, sleep_until, Client, Options, Reply, Server};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

// ----- helpers ---------------------------------------------------------------

/// A caller-chosen token: 64 characters of A-Z a-z 0-9 starting with `tag`.
fn chosen(tag: &str) -> String {
    assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric()), "{tag}");
    let mut token = tag.to_string();
    while token.len() < 64 {
        token.push_str("Fw7kQ2mZ");
    }
    token.truncate(64);
    token
}

fn session_key(app: &str, token: &str) -> String {
    format!("rs:{{{app}}}:{token}")
}

fn user_key(app: &str, id: &str) -> String {
    format!("rs:{{{app}}}:us:{id}")
}

fn digest(c: &mut Client) -> Reply {
    c.call(&["DEBUG", "DIGEST"])
}

/// The server's clock in whole seconds.
fn now(c: &mut Client) -> i64 {
    c.call(&["TIME"]).array()[0].text().parse().unwrap()
}

/// SESS.CREATE app id 10.0.0.1 TOKEN token, plus `extra`.
fn create_with_token(c: &mut Client, app: &str, id: &str, token: &str, extra: &[&str]) -> Reply {
    let mut args = vec!["SESS.CREATE", app, id, "10.0.0.1", "TOKEN", token];
    args.extend_from_slice(extra);
    c.call(&args)
}

/// A field of a hash, or None.
fn hget(c: &mut Client, key: &str, field: &str) -> Option<String> {
    match c.call(&["HGET", key, field]) {
        Reply::Nil => None,
        value => Some(value.text()),
    }
}

fn zscore(c: &mut Client, key: &str, member: &str) -> Option<i64> {
    match c.call(&["ZSCORE", key, member]) {
        Reply::Nil => None,
        Reply::Double(score) => Some(score.parse::<f64>().unwrap() as i64),
        score => Some(score.text().parse::<f64>().unwrap() as i64),
    }
}

/// The field names of a hash, sorted.
fn hash_fields(c: &mut Client, key: &str) -> Vec<String> {
    let mut names: Vec<String> = c
        .call(&["HGETALL", key])
        .pairs()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

/// Tokens of a SOID/SOAPP map listing, in order.
fn listed(reply: &Reply) -> Vec<String> {
    reply
        .array()
        .iter()
        .map(|entry| entry.field("token").unwrap().text())
        .collect()
}

fn soid(c: &mut Client, app: &str, id: &str) -> Vec<String> {
    listed(&c.call(&["SESS.SOID", app, id]))
}

/// Runs `f` until one run starts and ends within the same server second,
/// so that replies compared with each other saw the same `idle`.
fn in_one_second<T>(c: &mut Client, mut f: impl FnMut(&mut Client) -> T) -> T {
    for _ in 0..20 {
        let before = now(c);
        let out = f(c);
        if now(c) == before {
            return out;
        }
    }
    panic!("twenty runs all crossed a second boundary");
}

/// Runs a command that must fail, checks that the dataset is unchanged and
/// the server alive, and returns the error text.
fn refused<A: common::resp::Arg>(c: &mut Client, args: &[A]) -> String {
    let before = digest(c);
    let reply = c.call(args);
    let text = match &reply {
        Reply::Error(e) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(digest(c), before, "a failed command changed data: {text}");
    assert!(c.call(&["PING"]).is_simple("PONG"));
    text
}

const WRONG_ARITY_ASSIGN: &str = "ERR wrong number of arguments for 'sess.assign' command";
const INVALID_TOKEN: &str = "ERR invalid token: expected 64 characters of A-Z a-z 0-9";
const INVALID_ID: &str =
    "ERR invalid id: expected 1 to 128 bytes of UTF-8 text without control characters";

// ----- JSON -------------------------------------------------------------------

/// The members of one JSON object, in order and duplicates kept, each
/// value as its raw JSON text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Each)
    }
}

/// The members of a compact reply: one bulk string holding one valid JSON
/// object (UTF-8, nothing after it), as (name, raw value text); or why not.
fn try_json_members(reply: &Reply) -> Result<Vec<(String, String)>, String> {
    let Reply::Bulk(bytes) = reply else {
        return Err(format!("expected one bulk string of JSON, got {reply:?}"));
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("the JSON reply is not UTF-8 ({e}): {bytes:?}"))?;
    let Members(members) = serde_json::from_str(text)
        .map_err(|e| format!("the reply is not one valid JSON object ({e}): {text}"))?;
    Ok(members
        .into_iter()
        .map(|(name, value)| (name, value.get().to_string()))
        .collect())
}

/// `try_json_members`, panicking on a reply that is not one JSON object.
fn json_members(reply: &Reply) -> Vec<(String, String)> {
    try_json_members(reply).unwrap_or_else(|e| panic!("{e}"))
}

/// A raw JSON value that must be a string.
fn json_string(raw: &str) -> String {
    serde_json::from_str::<String>(raw)
        .unwrap_or_else(|e| panic!("expected a JSON string ({e}): {raw}"))
}

fn is_json_object(text: &str) -> bool {
    serde_json::from_str::<Members>(text).is_ok()
}

/// A JSON reply's member names.
fn json_names(reply: &Reply) -> Vec<String> {
    json_members(reply).into_iter().map(|(k, _)| k).collect()
}

/// A JSON reply's member `name` as a string or integer text.
fn json_field(reply: &Reply, name: &str) -> Option<String> {
    json_members(reply)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, raw)| {
            if raw.starts_with('"') {
                json_string(&raw)
            } else {
                raw
            }
        })
}

/// Checks that a compact reply holds exactly the fields of a session map
/// reply, in its order and with its values: integers as JSON numbers,
/// strings as JSON strings (bytes that are not UTF-8 as U+FFFD), and `d`
/// spliced in as the object it stores (or a JSON string when the stored
/// text is not one JSON object).
fn assert_json_is_map(json: &Reply, map: &Reply) {
    let got = json_members(json);
    let want = map.pairs();
    let got_names: Vec<&String> = got.iter().map(|(k, _)| k).collect();
    let want_names: Vec<&String> = want.iter().map(|(k, _)| k).collect();
    assert_eq!(got_names, want_names, "{json:?} against {map:?}");
    for ((name, raw), (_, value)) in got.iter().zip(&want) {
        match value {
            Reply::Int(n) => assert_eq!(raw, &n.to_string(), "{name} in {json:?}"),
            Reply::Bulk(bytes) if name == "d" => {
                // Spliced in when it is one JSON object, else a string.
                let stored = String::from_utf8(bytes.clone()).unwrap();
                if raw.starts_with('"') {
                    assert_eq!(json_string(raw), stored, "d as a JSON string");
                } else {
                    assert_eq!(raw, &stored, "d spliced as stored");
                    assert!(is_json_object(&stored), "{stored}");
                }
            }
            Reply::Bulk(bytes) => assert_eq!(
                json_string(raw),
                String::from_utf8_lossy(bytes),
                "{name} in {json:?}"
            ),
            other => panic!("unexpected map value {other:?} for {name}"),
        }
    }
}

/// Checks a JSON listing against the map listing of the same moment.
fn assert_json_listing_is_map(json: &Reply, map: &Reply) {
    let (json, map) = (json.array(), map.array());
    assert_eq!(json.len(), map.len(), "{json:?} against {map:?}");
    for (j, m) in json.iter().zip(&map) {
        assert_json_is_map(j, m);
        let token = m.field("token").unwrap().text();
        let text = String::from_utf8(j.bytes()).unwrap();
        assert!(
            text.starts_with(&format!("{{\"token\":\"{token}\",\"id\":")),
            "{text}"
        );
    }
}

// ----- SESS.CREATE ... TOKEN ------------------------------------------------

#[test]
fn create_token_replies_the_token_and_refuses_a_live_one_changing_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let token = chosen("live");
    let reply = create_with_token(&mut c, "shop", "alice", &token, &[]);
    assert_eq!(reply, Reply::Bulk(token.clone().into_bytes()));
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert_eq!(got.field("id").unwrap().text(), "alice");
    assert_eq!(got.field("r").unwrap().int(), 1);
    assert_eq!(got.field("w").unwrap().int(), 1);
    assert_eq!(got.field("ttl").unwrap().int(), 7200);
    assert_eq!(soid(&mut c, "shop", "alice"), std::slice::from_ref(&token));
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);
    assert_eq!(
        hash_fields(&mut c, &session_key("shop", &token)),
        sorted(&["id", "r", "w", "ip", "la", "ttl"])
    );

    // A live session has it: refused, whoever asks and with any options.
    for (id, extra) in [
        ("alice", &[][..]),
        ("bob", &[][..]),
        ("bob", &["DATA", r#"{"a":1}"#, "TTL", "60", "NORESAVE"][..]),
        ("bob", &["MAXSESSIONS", "1"][..]),
        ("alice", &["MAXSESSIONS", "1", "MAXAGE", "60"][..]),
    ] {
        let mut args = vec!["SESS.CREATE", "shop", id, "10.9.9.9", "TOKEN", &token];
        args.extend_from_slice(extra);
        assert_eq!(refused(&mut c, &args), "ERR token in use", "{args:?}");
    }
    // Also when the session is a no_resave one near its end, or was just
    // read: live is live.
    let fixed = chosen("fixed");
    create_with_token(&mut c, "shop", "carol", &fixed, &["NORESAVE", "TTL", "10"]);
    assert_eq!(
        refused(
            &mut c,
            &["SESS.CREATE", "shop", "dave", "ip", "TOKEN", &fixed]
        ),
        "ERR token in use"
    );
    assert_eq!(soid(&mut c, "shop", "dave"), Vec::<String>::new());
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);

    // Tokens belong to an app, and are case-sensitive.
    assert_eq!(
        create_with_token(&mut c, "blog", "alice", &token, &[]).text(),
        token
    );
    let lower = token.to_lowercase();
    assert_ne!(lower, token);
    assert_eq!(
        create_with_token(&mut c, "shop", "alice", &lower, &[]).text(),
        lower
    );
    assert_eq!(soid(&mut c, "shop", "alice").len(), 2);

    // A key at the token's name that is not a session is never overwritten.
    let squatted = chosen("squat");
    c.call(&["HSET", &session_key("shop", &squatted), "x", "1"]);
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "u", "ip", "TOKEN", &squatted],
    );
    assert_eq!(e, "ERR token in use");
    let string_key = chosen("string");
    c.call(&["SET", &session_key("shop", &string_key), "x"]);
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "u", "ip", "TOKEN", &string_key],
    );
    assert!(e.starts_with("WRONGTYPE"), "{e}");
}

#[test]
fn create_token_checks_the_token_and_the_option() {
    let server = Server::start();
    let mut c = server.client();
    create(&mut c, "shop", "u", &[]);
    let good = chosen("good");
    let bad_tokens = [
        String::new(),
        "short".to_string(),
        good[..63].to_string(),
        format!("{good}x"),
        format!("{}-", &good[..63]),
        format!("{}_", &good[..63]),
        format!("{} ", &good[..63]),
        format!("{}é", &good[..62]),
        format!("{}\n", &good[..63]),
    ];
    for bad in &bad_tokens {
        let e = refused(&mut c, &["SESS.CREATE", "shop", "u", "ip", "TOKEN", bad]);
        assert_eq!(e, INVALID_TOKEN, "{bad:?}");
    }
    let other = chosen("other");
    for args in [
        &["TOKEN"][..],
        &["TOKEN", &good, "TOKEN", &good],
        &["TOKEN", &good, "token", &other],
        &["TTL", "60", "TOKEN"],
        &["TOKEN", &good, "TTL"],
        &["TOKENS", &good],
    ] {
        let mut call = vec!["SESS.CREATE", "shop", "u", "ip"];
        call.extend_from_slice(args);
        assert_eq!(refused(&mut c, &call), "ERR syntax error", "{call:?}");
    }
    // Other arguments are still checked, with TOKEN anywhere.
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "u", "ip", "TOKEN", &good, "TTL", "9"],
    );
    assert!(e.starts_with("ERR invalid ttl"), "{e}");
    let e = refused(&mut c, &["SESS.CREATE", "shop", "", "ip", "TOKEN", &good]);
    assert!(e.starts_with("ERR invalid id"), "{e}");
    assert_eq!(c.call(&["EXISTS", &session_key("shop", &good)]).int(), 0);
}

#[test]
fn create_token_works_with_every_other_option_in_any_order() {
    let server = Server::start();
    let mut c = server.client3();
    let now_s = now(&mut c);
    let full = chosen("full");
    let reply = c.call(&[
        "SESS.CREATE",
        "shop",
        "alice",
        "10.0.0.7",
        "maxage",
        "600",
        "token",
        &full,
        "DATA",
        r#"{"cart":3,"name":"A"}"#,
        "NORESAVE",
        "TTL",
        "300",
        "MAXSESSIONS",
        "5",
    ]);
    assert_eq!(reply.text(), full);
    let peek = c.call(&["SESS.PEEK", "shop", &full]);
    assert_eq!(peek.field("id").unwrap().text(), "alice");
    assert_eq!(peek.field("ip").unwrap().text(), "10.0.0.7");
    assert!((299..=300).contains(&peek.field("ttl").unwrap().int()));
    assert_eq!(peek.field("no_resave"), Some(Reply::Int(1)));
    assert!((599..=600).contains(&peek.field("maxage").unwrap().int()));
    assert_eq!(peek.field("d").unwrap().text(), r#"{"cart":3,"name":"A"}"#);
    let maxage_at: i64 = hget(&mut c, &session_key("shop", &full), "maxage_at")
        .expect("a stored deadline")
        .parse()
        .unwrap();
    assert!((now_s + 599..=now_s + 601).contains(&maxage_at));

    // MAXSESSIONS with TOKEN: the chosen session is the one kept.
    let older: Vec<String> = (0..3).map(|_| create(&mut c, "shop", "bob", &[])).collect();
    let keep = chosen("keep");
    assert_eq!(
        create_with_token(&mut c, "shop", "bob", &keep, &["MAXSESSIONS", "2"]).text(),
        keep
    );
    let left = soid(&mut c, "shop", "bob");
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&keep));
    assert_eq!(
        older.iter().filter(|t| left.contains(t)).count(),
        1,
        "{left:?}"
    );
    let only = chosen("only");
    create_with_token(&mut c, "shop", "bob", &only, &["MAXSESSIONS", "1"]);
    assert_eq!(soid(&mut c, "shop", "bob"), [only]);
}

/// Makes the session `token` expired (its last activity 40,000 s ago) and,
/// in the same transaction so that no sweep runs in between, runs `then`.
fn expire_then(c: &mut Client, app: &str, token: &str, then: &[&str]) -> Reply {
    let ago = (now(c) - 40_000).to_string();
    let replies = c.pipeline(&[
        vec!["MULTI"],
        vec!["HSET", &session_key(app, token), "la", &ago],
        then.to_vec(),
        vec!["EXEC"],
    ]);
    let done = replies.last().unwrap().array();
    assert_eq!(done.len(), 2, "{replies:?}");
    done[1].clone()
}

#[test]
fn create_token_replaces_an_expired_leftover_of_another_user_or_the_same_one() {
    let server = Server::start();
    let mut c = server.client();

    // Another user's leftover, their only session: nothing of it remains.
    let token = chosen("expiredA");
    create_with_token(
        &mut c,
        "shop",
        "alice",
        &token,
        &["DATA", r#"{"secret":1}"#, "NORESAVE", "MAXAGE", "3600"],
    );
    let reply = expire_then(
        &mut c,
        "shop",
        &token,
        &["SESS.CREATE", "shop", "bob", "10.0.0.2", "TOKEN", &token],
    );
    assert_eq!(reply.text(), token);
    let key = session_key("shop", &token);
    assert_eq!(
        hash_fields(&mut c, &key),
        sorted(&["id", "r", "w", "ip", "la", "ttl"]),
        "nothing of the leftover is kept"
    );
    let got = c.call(&["SESS.PEEK", "shop", &token]);
    assert_eq!(got.field("id").unwrap().text(), "bob");
    assert_eq!(got.field("ip").unwrap().text(), "10.0.0.2");
    assert_eq!(got.field("r").unwrap().int(), 1);
    assert_eq!(got.field("ttl").unwrap().int(), 7200);
    assert_eq!(got.field("d"), None);
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "alice")]).int(), 0);
    assert_eq!(zscore(&mut c, "rs:{shop}:_expiry", "alice"), None);
    assert_eq!(soid(&mut c, "shop", "alice"), Vec::<String>::new());
    assert_eq!(soid(&mut c, "shop", "bob"), std::slice::from_ref(&token));
    let la_now = la(&mut c, "shop", &token);
    assert_eq!(
        zscore(&mut c, &user_key("shop", "bob"), &token),
        Some(la_now + 7201)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "bob").is_some());

    // Another user's leftover while that user keeps a live session.
    let kept = create(&mut c, "shop", "carol", &[]);
    let token = chosen("expiredB");
    create_with_token(&mut c, "shop", "carol", &token, &[]);
    let reply = expire_then(
        &mut c,
        "shop",
        &token,
        &["SESS.CREATE", "shop", "dave", "ip", "TOKEN", &token],
    );
    assert_eq!(reply.text(), token);
    assert_eq!(soid(&mut c, "shop", "carol"), std::slice::from_ref(&kept));
    assert_eq!(
        c.call(&["ZRANGE", &user_key("shop", "carol"), "0", "-1"])
            .strings(),
        std::slice::from_ref(&kept)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "carol").is_some());
    assert_eq!(soid(&mut c, "shop", "dave"), std::slice::from_ref(&token));

    // The same user's leftover, alone and beside another session.
    for other in [false, true] {
        let id = if other { "erin" } else { "frank" };
        let beside = other.then(|| create(&mut c, "shop", id, &[]));
        let token = chosen(if other { "sameA" } else { "sameB" });
        create_with_token(&mut c, "shop", id, &token, &["DATA", r#"{"a":1}"#]);
        let reply = expire_then(
            &mut c,
            "shop",
            &token,
            &[
                "SESS.CREATE",
                "shop",
                id,
                "ip",
                "TOKEN",
                &token,
                "TTL",
                "600",
            ],
        );
        assert_eq!(reply.text(), token);
        let got = c.call(&["SESS.PEEK", "shop", &token]);
        assert_eq!(got.field("ttl").unwrap().int(), 600, "{got:?}");
        assert_eq!(got.field("d"), None);
        let mut want: Vec<String> = beside.into_iter().chain([token.clone()]).collect();
        want.sort();
        let mut indexed = c
            .call(&["ZRANGE", &user_key("shop", id), "0", "-1"])
            .strings();
        indexed.sort();
        assert_eq!(indexed, want);
        let la_now = la(&mut c, "shop", &token);
        assert_eq!(
            zscore(&mut c, &user_key("shop", id), &token),
            Some(la_now + 601)
        );
        assert!(zscore(&mut c, "rs:{shop}:_expiry", id).is_some());
    }
    // Every session left is live and listed; nothing else is in the app.
    let mut sessions: Vec<String> = keys(&mut c)
        .into_iter()
        .filter(|k| k.starts_with("rs:{shop}:") && !k.contains(":_") && !k.contains(":us:"))
        .collect();
    sessions.sort();
    for key in &sessions {
        let token = key.rsplit(':').next().unwrap();
        assert!(
            !c.call(&["SESS.PEEK", "shop", token]).is_nil(),
            "{key} is dead"
        );
    }
    assert_eq!(sessions.len(), 6, "{sessions:?}");
}

#[test]
fn create_token_replaces_a_leftover_a_kill_ended() {
    let server = Server::start();
    let mut c = server.client();
    // A session whose index was lost when its user was killed: the kill
    // record ends it, its hash stays until the keyspace scan meets it.
    for (victim, creator) in [("alice", "bob"), ("carol", "carol")] {
        let token = chosen(&format!("killed{victim}"));
        create_with_token(&mut c, "shop", victim, &token, &["DATA", r#"{"a":1}"#]);
        let replies = c.pipeline(&[
            vec!["MULTI"],
            vec!["DEL", &user_key("shop", victim)],
            vec!["SESS.KILLSOID", "shop", victim],
            vec!["EXISTS", &session_key("shop", &token)],
            vec!["SESS.PEEK", "shop", &token],
            vec!["SESS.CREATE", "shop", creator, "10.0.0.3", "TOKEN", &token],
            vec!["EXEC"],
        ]);
        let done = replies.last().unwrap().array();
        assert_eq!(done[2], Reply::Int(1), "the leftover is there: {done:?}");
        assert_eq!(done[3], Reply::Nil, "and dead: {done:?}");
        assert_eq!(done[4].text(), token, "{done:?}");
        let got = c.call(&["SESS.GET", "shop", &token]);
        assert_eq!(got.field("id").unwrap().text(), creator, "{got:?}");
        assert_eq!(got.field("d"), None);
        assert_eq!(got.field("r").unwrap().int(), 1);
        assert_eq!(soid(&mut c, "shop", creator), std::slice::from_ref(&token));
        if victim != creator {
            assert_eq!(c.call(&["EXISTS", &user_key("shop", victim)]).int(), 0);
            assert_eq!(zscore(&mut c, "rs:{shop}:_expiry", victim), None);
        }
        // Created after the kill: alive after the keyspace scan's passes.
        std::thread::sleep(Duration::from_secs(2));
        assert!(!c.call(&["SESS.PEEK", "shop", &token]).is_nil());
    }
}

/// Found a bug, since fixed: a CREATE ... TOKEN that fails after
/// finding a dead leftover with its token has already deleted the leftover
/// (and its index entries), although "a command that fails changes nothing".
/// `claim` (src/commands/create.rs) writes before the new user's index and
/// the activity index are opened and type-checked.
///
/// ```text
/// SESS.CREATE shop alice 1.1.1.1 TOKEN AAAA...A (64 x A)
/// HSET rs:{shop}:AAAA...A la 1000          # the session is now expired
/// SET rs:{shop}:us:bob x                   # bob's index holds a string
/// DEBUG DIGEST                             # d1
/// SESS.CREATE shop bob 1.1.1.1 TOKEN AAAA...A   -> WRONGTYPE ...
/// DEBUG DIGEST                             # != d1: the hash and us:alice are gone
/// ```
#[test]
fn a_create_token_that_fails_changes_nothing_even_with_a_dead_leftover() {
    let server = Server::start();
    let mut c = server.client();
    let token = chosen("failing");
    create_with_token(&mut c, "shop", "alice", &token, &[]);
    c.call(&["HSET", &session_key("shop", &token), "la", "1000"]);
    c.call(&["SET", &user_key("shop", "bob"), "x"]);
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &token],
    );
    assert!(e.starts_with("WRONGTYPE"), "{e}");
    c.call(&["DEL", &user_key("shop", "bob")]);
    c.call(&["SET", "rs:{shop}:_users", "x"]);
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &token],
    );
    assert!(e.starts_with("WRONGTYPE"), "{e}");
}

/// One session as the Node library redis-sessions 4.0 writes it, `idle`
/// seconds ago, ttl 7200.
fn library_session(c: &mut Client, app: &str, id: &str, token: &str, idle: i64) {
    let la = now(c) - idle;
    common::library::write_session(c, (app, id, token), la, 7200, &[]);
}

#[test]
fn create_token_refuses_the_token_of_a_live_session_still_in_the_libraries_keys() {
    let server = importing();
    let mut c = server.client();
    let live = chosen("library");
    library_session(&mut c, "shop", "alice", &live, 30);
    let reply = c.call(&["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &live]);
    assert_eq!(reply.err(), "ERR token in use");
    let got = c.call(&["SESS.GET", "shop", &live]);
    assert_eq!(got.field("id").unwrap().text(), "alice", "{got:?}");
    assert_eq!(got.field("idle").unwrap().int(), 30);
    assert_eq!(soid(&mut c, "shop", "bob"), Vec::<String>::new());

    // An expired library session with the token is no obstacle.
    let dead = chosen("libraryDead");
    library_session(&mut c, "shop", "carol", &dead, 8000);
    assert_eq!(
        c.call(&["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &dead])
            .text(),
        dead
    );
    let got = c.call(&["SESS.GET", "shop", &dead]);
    assert_eq!(got.field("id").unwrap().text(), "bob");
    assert_eq!(got.field("r").unwrap().int(), 1);
}

/// Found a bug (minor), since fixed: with `sess.import-namespace`
/// set, a CREATE ... TOKEN refused with `ERR token in use` because the Node
/// library still holds a live session with that token has moved that
/// session into the module's keys first (import::open_session in `claim`),
/// so the failed command changed the dataset (and replicated the move).
///
/// ```text
/// (module loaded with import-namespace rs import-batch 0)
/// write a live library session T of alice (tests/import.rs, Legacy::write)
/// DEBUG DIGEST                                   # d1
/// SESS.CREATE shop bob 1.1.1.1 TOKEN T           -> ERR token in use
/// DEBUG DIGEST                                   # != d1: rs:shop:T moved to rs:{shop}:T
/// ```
#[test]
fn a_create_token_refused_for_a_library_session_changes_nothing() {
    let server = importing();
    let mut c = server.client();
    let live = chosen("libraryUnmoved");
    library_session(&mut c, "shop", "alice", &live, 30);
    let e = refused(
        &mut c,
        &["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &live],
    );
    assert_eq!(e, "ERR token in use");
}

// ----- SESS.ASSIGN ----------------------------------------------------------

#[test]
fn assign_moves_a_live_session_to_another_user_in_one_step() {
    let server = Server::start();
    let mut c = server.client();
    let first = create(
        &mut c,
        "shop",
        "alice",
        &["DATA", r#"{"cart":2}"#, "TTL", "600"],
    );
    let second = create(&mut c, "shop", "alice", &[]);
    let carols = create(&mut c, "shop", "carol", &[]);
    c.call(&["SESS.GET", "shop", &first]);
    let ago = (now(&mut c) - 30).to_string();
    c.call(&["HSET", &session_key("shop", &first), "la", &ago]);
    let before: Vec<(String, Reply)> = c.call(&["HGETALL", &session_key("shop", &first)]).pairs();

    let t0 = now(&mut c);
    assert_eq!(
        c.call(&["SESS.ASSIGN", "shop", &first, "bob"]),
        Reply::Int(1)
    );
    let t1 = now(&mut c);
    let after = c.call(&["HGETALL", &session_key("shop", &first)]).pairs();
    let names = |pairs: &[(String, Reply)]| -> Vec<String> {
        let mut n: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&after), names(&before), "no field added or lost");
    for (field, value) in &after {
        let old = &before.iter().find(|(k, _)| k == field).unwrap().1;
        match field.as_str() {
            "id" => assert_eq!(value.text(), "bob"),
            "la" => {
                let la: i64 = value.text().parse().unwrap();
                assert!((t0..=t1).contains(&la), "la {la} not now");
            }
            _ => assert_eq!(value, old, "{field} changed"),
        }
    }
    let peek = c.call(&["SESS.PEEK", "shop", &first]);
    assert_eq!(peek.field("id").unwrap().text(), "bob");
    assert_eq!(peek.field("r").unwrap().int(), 2);
    assert_eq!(peek.field("w").unwrap().int(), 1);
    assert_eq!(peek.field("idle").unwrap().int(), 0);
    assert_eq!(peek.field("d").unwrap().text(), r#"{"cart":2}"#);

    // Indexes: it left alice's and joined bob's, at its new expiry bound.
    assert_eq!(soid(&mut c, "shop", "bob"), std::slice::from_ref(&first));
    assert_eq!(soid(&mut c, "shop", "alice"), std::slice::from_ref(&second));
    assert_eq!(zscore(&mut c, &user_key("shop", "alice"), &first), None);
    let la_now = la(&mut c, "shop", &first);
    assert_eq!(
        zscore(&mut c, &user_key("shop", "bob"), &first),
        Some(la_now + 601)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "bob").unwrap() <= la_now + 601);
    // alice keeps a session: she stays; bob is counted.
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "alice").is_some());
    assert!(zscore(&mut c, "rs:{shop}:_users", "alice").is_some());
    assert!(zscore(&mut c, "rs:{shop}:_users", "bob").unwrap() >= t0);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 3);
    let soapp = listed(&c.call(&["SESS.SOAPP", "shop", "60"]));
    assert_eq!(soapp.len(), 3);

    // alice's last session goes: she leaves ACTIVITY and every index.
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &second, "bob"]).int(), 1);
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "alice")]).int(), 0);
    assert_eq!(zscore(&mut c, "rs:{shop}:_expiry", "alice"), None);
    assert_eq!(zscore(&mut c, "rs:{shop}:_users", "alice"), None);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);
    let mut bobs = soid(&mut c, "shop", "bob");
    bobs.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(bobs, want);

    // To a new user with any id the contract allows.
    for id in ["dave", "ü {x}:1 @ 名前", &"é".repeat(64), &"x".repeat(128)] {
        assert_eq!(c.call(&["SESS.ASSIGN", "shop", &carols, id]).int(), 1);
        assert_eq!(
            soid(&mut c, "shop", id),
            std::slice::from_ref(&carols),
            "{id}"
        );
        assert_eq!(
            c.call(&["SESS.PEEK", "shop", &carols])
                .field("id")
                .unwrap()
                .text(),
            id
        );
    }
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "carol")]).int(), 0);
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "dave")]).int(), 0);
    // Back to where it came from.
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &first, "alice"]).int(), 1);
    assert_eq!(soid(&mut c, "shop", "alice"), std::slice::from_ref(&first));
    assert_eq!(soid(&mut c, "shop", "bob"), std::slice::from_ref(&second));
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 3);
    // KILLSOID follows the new owner.
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 1);
    assert!(c.call(&["SESS.GET", "shop", &second]).is_nil());
    assert!(!c.call(&["SESS.GET", "shop", &first]).is_nil());
}

#[test]
fn assign_replies_zero_for_no_live_session_and_changes_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let expired = create(&mut c, "shop", "alice", &[]);
    c.call(&["HSET", &session_key("shop", &expired), "la", "1000"]);
    let killed = create(&mut c, "shop", "carol", &[]);
    assert_eq!(c.call(&["SESS.KILL", "shop", &killed]).int(), 1);
    let not_a_session = chosen("notASession");
    c.call(&["HSET", &session_key("shop", &not_a_session), "id", "x"]);
    for token in [chosen("unknown"), expired.clone(), killed, not_a_session] {
        let before = digest(&mut c);
        assert_eq!(
            c.call(&["SESS.ASSIGN", "shop", &token, "bob"]),
            Reply::Int(0)
        );
        assert_eq!(
            c.call(&["SESS.ASSIGN", "shop", &token, "alice"]),
            Reply::Int(0)
        );
        assert_eq!(digest(&mut c), before, "{token}");
    }
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "bob")]).int(), 0);
    assert!(c.call(&["SESS.GET", "shop", &expired]).is_nil());
}

#[test]
fn assign_to_the_id_the_session_has_is_a_touch() {
    let server = Server::start();
    let mut c = server.client();
    let plain = create(&mut c, "shop", "u", &["TTL", "600", "DATA", r#"{"a":1}"#]);
    let fixed = create(&mut c, "shop", "u", &["TTL", "600", "NORESAVE"]);
    c.call(&["SESS.SET", "shop", &plain, r#"{"b":2}"#]);
    let ago = now(&mut c) - 100;
    for token in [&plain, &fixed] {
        c.call(&["HSET", &session_key("shop", token), "la", &ago.to_string()]);
    }
    c.call(&["ZADD", "rs:{shop}:_users", &ago.to_string(), "u"]);
    let before = c.call(&["HGETALL", &session_key("shop", &plain)]).pairs();
    let index_before = c
        .call(&["ZRANGE", &user_key("shop", "u"), "0", "-1", "WITHSCORES"])
        .strings();

    let t0 = now(&mut c);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &plain, "u"]).int(), 1);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &fixed, "u"]).int(), 1);
    let t1 = now(&mut c);
    let after = c.call(&["HGETALL", &session_key("shop", &plain)]).pairs();
    assert_eq!(after.len(), before.len());
    for (field, value) in &after {
        let old = &before.iter().find(|(k, _)| k == field).unwrap().1;
        if field == "la" {
            let la: i64 = value.text().parse().unwrap();
            assert!((t0..=t1).contains(&la), "la {la}");
        } else {
            assert_eq!(value, old, "{field} changed");
        }
    }
    let peek = c.call(&["SESS.PEEK", "shop", &plain]);
    assert_eq!(peek.field("r").unwrap().int(), 1);
    assert_eq!(peek.field("w").unwrap().int(), 2);
    assert_eq!(peek.field("ttl").unwrap().int(), 600);
    // A no_resave session keeps its end: 500 s were left.
    let la_fixed = la(&mut c, "shop", &fixed);
    let stored_ttl: i64 = hget(&mut c, &session_key("shop", &fixed), "ttl")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(la_fixed + stored_ttl, ago + 600, "the fixed end moved");
    assert_eq!(soid(&mut c, "shop", "u").len(), 2);
    let index_after = c
        .call(&["ZRANGE", &user_key("shop", "u"), "0", "-1", "WITHSCORES"])
        .strings();
    let tokens = |flat: &[String]| -> Vec<String> { flat.iter().step_by(2).cloned().collect() };
    let mut a = tokens(&index_after);
    let mut b = tokens(&index_before);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(zscore(&mut c, "rs:{shop}:_users", "u").unwrap() >= t0);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "10"]).int(), 1);
}

#[test]
fn assign_refuses_bad_arguments_and_wrong_types_changing_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "alice", &[]);
    for args in [
        &["SESS.ASSIGN"][..],
        &["SESS.ASSIGN", "shop"],
        &["SESS.ASSIGN", "shop", &token],
        &[
            "SESS.ASSIGN",
            "shop",
            &token,
            "bob",
            "MAXSESSIONS",
            "2",
            "x",
        ],
    ] {
        assert_eq!(refused(&mut c, args), WRONG_ARITY_ASSIGN, "{args:?}");
    }
    for args in [
        &["SESS.ASSIGN", "shop", &token, "bob", "extra"][..],
        &["SESS.ASSIGN", "shop", &token, "bob", "JSON"],
        &["SESS.ASSIGN", "shop", &token, "bob", "MAXSESSIONS"],
    ] {
        assert_eq!(refused(&mut c, args), "ERR syntax error", "{args:?}");
    }
    let e = refused(&mut c, &["SESS.ASSIGN", "ab", &token, "bob"]);
    assert!(e.starts_with("ERR invalid app: "), "{e}");
    for bad in ["short", &token[..63], &format!("{token}x"), ""] {
        let e = refused(&mut c, &["SESS.ASSIGN", "shop", bad, "bob"]);
        assert_eq!(e, INVALID_TOKEN, "{bad:?}");
    }
    let long = "x".repeat(129);
    for bad in [
        &b""[..],
        b"a\nb",
        b"a\0b",
        b"tab\there",
        b"\x7f",
        b"\xff\xfe",
        b"caf\xc3",
        long.as_bytes(),
    ] {
        let args: [&[u8]; 4] = [b"SESS.ASSIGN", b"shop", token.as_bytes(), bad];
        let e = refused(&mut c, &args);
        assert_eq!(e, INVALID_ID, "{bad:?}");
    }
    // App first, then token, then id.
    let e = refused(&mut c, &["SESS.ASSIGN", "a", "short", ""]);
    assert!(e.starts_with("ERR invalid app"), "{e}");
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", "short", ""]);
    assert_eq!(e, INVALID_TOKEN);

    // Keys of the layout that hold another type.
    c.call(&["SET", &user_key("shop", "bob"), "x"]);
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", &token, "bob"]);
    assert!(e.starts_with("WRONGTYPE"), "{e}");
    c.call(&["DEL", &user_key("shop", "bob")]);

    let other = create(&mut c, "shop", "olga", &[]);
    c.call(&["DEL", &user_key("shop", "olga")]);
    c.call(&["RPUSH", &user_key("shop", "olga"), &other]);
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", &other, "bob"]);
    assert!(e.starts_with("WRONGTYPE"), "{e}");
    c.call(&["DEL", &user_key("shop", "olga")]);

    let squatted = chosen("squatted");
    c.call(&["SET", &session_key("shop", &squatted), "x"]);
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", &squatted, "bob"]);
    assert!(e.starts_with("WRONGTYPE"), "{e}");

    for index in ["rs:{shop}:_users", "rs:{shop}:_expiry"] {
        let saved = c.call(&["DUMP", index]);
        c.call(&["DEL", index]);
        c.call(&["SET", index, "x"]);
        let e = refused(&mut c, &["SESS.ASSIGN", "shop", &token, "bob"]);
        assert!(e.starts_with("WRONGTYPE"), "{index}: {e}");
        c.call(&["DEL", index]);
        if let Reply::Bulk(dump) = saved {
            c.call(&[
                b"RESTORE".to_vec(),
                index.as_bytes().to_vec(),
                b"0".to_vec(),
                dump,
            ]);
        }
    }
    c.call(&["SET", "rs:{shop}:_users", "x"]);
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", &token, "alice"]);
    assert!(e.starts_with("WRONGTYPE"), "same id: {e}");
    c.call(&["DEL", "rs:{shop}:_users"]);

    // Nothing moved.
    assert_eq!(soid(&mut c, "shop", "alice"), std::slice::from_ref(&token));
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "bob"]).int(), 1);
    assert_eq!(soid(&mut c, "shop", "bob"), [token]);
}

#[test]
fn assign_after_a_kill_of_the_new_user_keeps_the_session_live() {
    let server = Server::start();
    let mut c = server.client();
    let session = create(&mut c, "shop", "alice", &[]);
    let bobs_old = create(&mut c, "shop", "bob", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 1);
    assert!(c.call(&["SESS.GET", "shop", &bobs_old]).is_nil());
    // Within the same millisecond as the kill or later: alive for bob.
    let replies = c.pipeline(&[
        vec!["SESS.KILLSOID", "shop", "bob"],
        vec!["SESS.ASSIGN", "shop", &session, "bob"],
        vec!["SESS.PEEK", "shop", &session],
    ]);
    assert_eq!(replies[1], Reply::Int(1), "{replies:?}");
    assert_eq!(
        replies[2].field("id").map(|v| v.text()),
        Some("bob".into()),
        "{replies:?}"
    );
    let got = c.call(&["SESS.GET", "shop", &session]);
    assert_eq!(got.field("id").unwrap().text(), "bob");
    assert_eq!(soid(&mut c, "shop", "bob"), std::slice::from_ref(&session));
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);

    // A kill of the former owner no longer reaches it.
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "alice"]).int(), 0);
    assert!(!c.call(&["SESS.GET", "shop", &session]).is_nil());
    // Still alive after the keyspace scan has met it.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!c.call(&["SESS.PEEK", "shop", &session]).is_nil());
    // A kill of the new owner does.
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "bob"]).int(), 1);
    assert!(c.call(&["SESS.GET", "shop", &session]).is_nil());
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &session, "carol"]).int(), 0);

    // A session a kill ended cannot be handed on, indexed or not.
    let lost = create(&mut c, "shop", "dave", &[]);
    c.call(&["DEL", &user_key("shop", "dave")]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "dave"]).int(), 0);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &lost, "erin"]).int(), 0);
    assert!(c.call(&["SESS.PEEK", "shop", &lost]).is_nil());

    // After a KILLALL: a newer session moves and stays alive.
    assert_eq!(
        c.call(&["SESS.KILLALL", "shop"]).int(),
        0,
        "nothing live was left"
    );
    let fresh = create(&mut c, "shop", "frank", &[]);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &fresh, "bob"]).int(), 1);
    assert!(!c.call(&["SESS.GET", "shop", &fresh]).is_nil());
}

#[test]
fn an_assigned_session_expires_on_time_and_leaves_no_index_entry() {
    let server = Server::start();
    let mut c = server.client();
    let stays = create(&mut c, "shop", "alice", &["TTL", "3600"]);
    let moved = create(&mut c, "shop", "alice", &["TTL", "10"]);
    let lonely = create(&mut c, "shop", "carol", &["TTL", "10"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &moved, "bob"]).int(), 1);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &lonely, "dave"]).int(), 1);
    let last = la(&mut c, "shop", &moved).max(la(&mut c, "shop", &lonely));
    // Alive until its idle ttl from the assignment has passed.
    sleep_until(&mut c, (last + 9) as f64);
    assert!(!c.call(&["SESS.PEEK", "shop", &moved]).is_nil());
    assert!(!c.call(&["SESS.PEEK", "shop", &lonely]).is_nil());
    sleep_until(&mut c, (last + 11) as f64);
    assert!(c.call(&["SESS.PEEK", "shop", &moved]).is_nil());
    assert!(
        eventually(3, || {
            c.call(&["EXISTS", &session_key("shop", &moved)]).int() == 0
                && c.call(&["EXISTS", &session_key("shop", &lonely)]).int() == 0
        }),
        "not swept: {:?}",
        keys(&mut c)
    );
    for id in ["bob", "carol", "dave"] {
        assert_eq!(c.call(&["EXISTS", &user_key("shop", id)]).int(), 0, "{id}");
        assert_eq!(zscore(&mut c, "rs:{shop}:_expiry", id), None, "{id}");
    }
    assert_eq!(
        c.call(&["ZRANGE", &user_key("shop", "alice"), "0", "-1"])
            .strings(),
        std::slice::from_ref(&stays)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "alice").is_some());
    let left: Vec<String> = keys(&mut c)
        .into_iter()
        .filter(|k| k.starts_with("rs:{shop}:"))
        .collect();
    let mut want = vec![
        session_key("shop", &stays),
        "rs:{shop}:_expiry".to_string(),
        "rs:{shop}:_users".to_string(),
        user_key("shop", "alice"),
    ];
    want.sort();
    assert_eq!(left, want);
}

/// Every notification received until a PING's reply.
fn events_until_ping(c: &mut Client) -> Vec<(String, String)> {
    c.send_only(&["PING"]);
    let mut seen = Vec::new();
    loop {
        let message = c.read().expect("a notification").array();
        match message[0].text().to_lowercase().as_str() {
            "pong" => return seen,
            "pmessage" => seen.push((message[2].text(), message[3].text())),
            _ => seen.push((message[1].text(), message[2].text())),
        }
    }
}

#[test]
fn assign_is_announced_on_the_new_users_index_key_without_the_token() {
    let server = Server::start();
    let mut c = server.client();
    assert!(c
        .call(&["CONFIG", "SET", "notify-keyspace-events", "KEd"])
        .is_simple("OK"));
    let mut events = server.client();
    events.call(&["PSUBSCRIBE", "__keyspace@0__:rs:{shop}:us:*"]);
    let mut by_event = server.client();
    by_event.call(&["SUBSCRIBE", "__keyevent@0__:sess.assigned"]);

    let token = create(&mut c, "shop", "u:1", &[]);
    let chosen_token = chosen("announced");
    create_with_token(&mut c, "shop", "u:1", &chosen_token, &[]);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "v {2}"]).int(), 1);
    assert_eq!(
        c.call(&["SESS.ASSIGN", "shop", &chosen("nobody"), "w"])
            .int(),
        0
    );
    assert_eq!(
        c.call(&["SESS.ASSIGN", "shop", &chosen_token, "v {2}"])
            .int(),
        1
    );

    let channel = |id: &str| format!("__keyspace@0__:rs:{{shop}}:us:{id}");
    let seen = events_until_ping(&mut events);
    assert_eq!(
        seen,
        [
            (channel("u:1"), "sess.created".to_string()),
            (channel("u:1"), "sess.created".to_string()),
            (channel("v {2}"), "sess.assigned".to_string()),
            (channel("v {2}"), "sess.assigned".to_string()),
        ]
    );
    let by_name = events_until_ping(&mut by_event);
    let assigned = (
        "__keyevent@0__:sess.assigned".to_string(),
        "rs:{shop}:us:v {2}".to_string(),
    );
    assert_eq!(by_name, [assigned.clone(), assigned]);
    for (channel, message) in seen.iter().chain(&by_name) {
        for t in [&token, &chosen_token] {
            assert!(!channel.contains(t.as_str()) && !message.contains(t.as_str()));
        }
    }
}

// ----- SESS.SET ... TTL -----------------------------------------------------

#[test]
fn set_ttl_gives_the_session_a_new_idle_ttl() {
    let server = Server::start();
    for resp3 in [false, true] {
        let mut c = if resp3 {
            server.client3()
        } else {
            server.client()
        };
        let token = create(&mut c, "shop", "u", &["DATA", r#"{"a":1}"#]);
        let key = session_key("shop", &token);
        let reply = c.call(&["SESS.SET", "shop", &token, r#"{"b":2}"#, "TTL", "600"]);
        assert_eq!(reply.field("ttl").unwrap().int(), 600, "{reply:?}");
        assert_eq!(reply.field("w").unwrap().int(), 2);
        assert_eq!(reply.field("idle").unwrap().int(), 0);
        assert_eq!(reply.field("d").unwrap().text(), r#"{"a":1,"b":2}"#);
        assert_eq!(hget(&mut c, &key, "ttl").unwrap(), "600");
        let la_now = la(&mut c, "shop", &token);
        assert!(zscore(&mut c, &user_key("shop", "u"), &token).unwrap() <= la_now + 601);
        assert!(zscore(&mut c, "rs:{shop}:_expiry", "u").unwrap() <= la_now + 601);
        assert_eq!(
            c.call(&["SESS.PEEK", "shop", &token])
                .field("ttl")
                .unwrap()
                .int(),
            600
        );

        // Options in any order and case; JSON and TTL together.
        let json = c.call(&[
            "SESS.SET",
            "shop",
            &token,
            r#"{"c":3}"#,
            "json",
            "ttl",
            "31536000",
        ]);
        assert_eq!(json_field(&json, "ttl").unwrap(), "31536000");
        assert_eq!(json_field(&json, "w").unwrap(), "3");
        let json = c.call(&[
            "SESS.SET",
            "shop",
            &token,
            r#"{"c":4}"#,
            "Ttl",
            "10",
            "Json",
        ]);
        assert_eq!(json_field(&json, "ttl").unwrap(), "10");
        assert_eq!(hget(&mut c, &key, "ttl").unwrap(), "10");
        let la_now = la(&mut c, "shop", &token);
        assert_eq!(
            zscore(&mut c, &user_key("shop", "u"), &token),
            Some(la_now + 11),
            "the bound comes forward"
        );
        assert!(zscore(&mut c, "rs:{shop}:_expiry", "u").unwrap() <= la_now + 11);
        // Without TTL the ttl stays.
        let plain = c.call(&["SESS.SET", "shop", &token, r#"{"c":5}"#]);
        assert_eq!(plain.field("ttl").unwrap().int(), 10);
        assert_eq!(c.call(&["SESS.KILL", "shop", &token]).int(), 1);
    }

    // A no_resave session: from now on it ends `ttl` seconds from now.
    let mut c = server.client();
    let fixed = create(&mut c, "shop", "v", &["NORESAVE", "TTL", "600"]);
    let reply = c.call(&["SESS.SET", "shop", &fixed, r#"{"a":1}"#, "TTL", "100"]);
    assert_eq!(reply.field("ttl").unwrap().int(), 100);
    assert_eq!(reply.field("no_resave").unwrap().int(), 1);
    let la_now = la(&mut c, "shop", &fixed);
    let stored: i64 = hget(&mut c, &session_key("shop", &fixed), "ttl")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(la_now + stored, la_now + 100);
    assert!(zscore(&mut c, &user_key("shop", "v"), &fixed).unwrap() <= la_now + 101);

    // A MAXAGE session keeps its deadline whatever its ttl.
    let bounded = create(&mut c, "shop", "w", &["MAXAGE", "60"]);
    let reply = c.call(&["SESS.SET", "shop", &bounded, r#"{"a":1}"#, "TTL", "3600"]);
    assert_eq!(reply.field("ttl").unwrap().int(), 3600);
    assert!(reply.field("maxage").unwrap().int() <= 60);

    // No live session: nil, nothing changes.
    let before = digest(&mut c);
    let missing = chosen("missing");
    assert!(c
        .call(&["SESS.SET", "shop", &missing, r#"{"a":1}"#, "TTL", "60"])
        .is_nil());
    assert!(c
        .call(&[
            "SESS.SET",
            "shop",
            &missing,
            r#"{"a":1}"#,
            "TTL",
            "60",
            "JSON"
        ])
        .is_nil());
    assert_eq!(digest(&mut c), before);
}

#[test]
fn set_ttl_refuses_bad_options_changing_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    let json = r#"{"a":1}"#;
    for bad in ["9", "31536001", "-10", "x", "", "1e3", "10.5", " 10"] {
        let e = refused(&mut c, &["SESS.SET", "shop", &token, json, "TTL", bad]);
        assert_eq!(
            e, "ERR invalid ttl: expected an integer from 10 to 31536000",
            "{bad:?}"
        );
    }
    for options in [
        &["TTL"][..],
        &["JSON", "TTL"],
        &["TTL", "60", "TTL"],
        &["JSON", "JSON"],
        &["JSON", "JSON", "JSON"],
        &["EX", "60"],
        &["TTL", "60", "60"],
    ] {
        let mut args = vec!["SESS.SET", "shop", &token, json];
        args.extend_from_slice(options);
        assert_eq!(refused(&mut c, &args), "ERR syntax error", "{args:?}");
    }
    // A repeated option beyond SET's six arguments: either error will do.
    for options in [
        &["TTL", "60", "TTL", "60"][..],
        &["JSON", "TTL", "60", "JSON"],
    ] {
        let mut args = vec!["SESS.SET", "shop", &token, json];
        args.extend_from_slice(options);
        let e = refused(&mut c, &args);
        assert!(
            e == "ERR syntax error" || e == "ERR wrong number of arguments for 'sess.set' command",
            "{args:?}: {e}"
        );
    }
    let e = refused(
        &mut c,
        &[
            "SESS.SET", "shop", &token, json, "TTL", "60", "JSON", "x", "y",
        ],
    );
    assert!(e.starts_with("ERR wrong number of arguments"), "{e}");
    // The json is checked too, with the options present.
    let e = refused(&mut c, &["SESS.SET", "shop", &token, "{}", "TTL", "60"]);
    assert_eq!(e, "ERR invalid json: the object has no keys");
    assert_eq!(
        hget(&mut c, &session_key("shop", &token), "ttl").unwrap(),
        "7200"
    );
}

#[test]
fn set_ttl_shorter_expires_on_time_and_longer_outlives_the_old_ttl() {
    let server = Server::start();
    let mut c = server.client();
    let shortened = create(&mut c, "shop", "short", &["TTL", "3600"]);
    let fixed = create(&mut c, "shop", "fixed", &["TTL", "3600", "NORESAVE"]);
    let lengthened = create(&mut c, "shop", "long", &["TTL", "10"]);
    let created = la(&mut c, "shop", &lengthened);
    for (token, ttl) in [(&shortened, "10"), (&fixed, "10"), (&lengthened, "600")] {
        let reply = c.call(&["SESS.SET", "shop", token, r#"{"a":1}"#, "TTL", ttl]);
        assert_eq!(reply.field("ttl").unwrap().int().to_string(), ttl);
    }
    let last = la(&mut c, "shop", &shortened).max(la(&mut c, "shop", &fixed));
    sleep_until(&mut c, (last + 9) as f64);
    assert!(!c.call(&["SESS.PEEK", "shop", &shortened]).is_nil());
    sleep_until(&mut c, (last + 11) as f64);
    assert!(c.call(&["SESS.PEEK", "shop", &shortened]).is_nil());
    assert!(c.call(&["SESS.PEEK", "shop", &fixed]).is_nil());
    assert!(
        eventually(3, || {
            c.call(&["EXISTS", &session_key("shop", &shortened)]).int() == 0
                && c.call(&["EXISTS", &session_key("shop", &fixed)]).int() == 0
        }),
        "not swept: {:?}",
        keys(&mut c)
    );
    for id in ["short", "fixed"] {
        assert_eq!(c.call(&["EXISTS", &user_key("shop", id)]).int(), 0, "{id}");
        assert_eq!(zscore(&mut c, "rs:{shop}:_expiry", id), None, "{id}");
    }
    // Past its old end (created + 11), the lengthened one lives on.
    sleep_until(&mut c, (created + 12) as f64);
    let got = c.call(&["SESS.GET", "shop", &lengthened]);
    assert_eq!(got.field("ttl").unwrap().int(), 600, "{got:?}");
    assert_eq!(
        soid(&mut c, "shop", "long"),
        std::slice::from_ref(&lengthened)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "long").is_some());
}

// ----- the compact reply ----------------------------------------------------

#[test]
fn json_replies_hold_exactly_the_maps_fields_in_resp2_and_resp3() {
    let server = Server::start();
    for resp3 in [false, true] {
        let mut c = if resp3 {
            server.client3()
        } else {
            server.client()
        };
        let app = if resp3 { "shop3" } else { "shop2" };
        let data = r#"{"cart":2,"name":"Ann \"A\" \\ é","ok":true,"pi":1.5,"n":null}"#;
        let rich = create(&mut c, app, "ü {x}:1", &["DATA", data, "TTL", "600"]);
        let fixed = create(
            &mut c,
            app,
            "ü {x}:1",
            &[
                "NORESAVE",
                "MAXAGE",
                "300",
                "TTL",
                "120",
                "DATA",
                r#"{"a":"b"}"#,
            ],
        );
        let bare = create(&mut c, app, "bob", &[]);
        c.call(&["SESS.GET", app, &rich]);

        for token in [&rich, &fixed, &bare] {
            // PEEK
            let (map, json) = in_one_second(&mut c, |c| {
                (
                    c.call(&["SESS.PEEK", app, token]),
                    c.call(&["SESS.PEEK", app, token, "JSON"]),
                )
            });
            if resp3 {
                assert!(matches!(map, Reply::Map(_)), "{map:?}");
            }
            assert_json_is_map(&json, &map);
            // GET shows what PEEK showed just before, and records the read.
            let (map, json) = in_one_second(&mut c, |c| {
                (
                    c.call(&["SESS.PEEK", app, token]),
                    c.call(&["SESS.GET", app, token, "json"]),
                )
            });
            assert_json_is_map(&json, &map);
            assert_eq!(
                json_field(&json, "r").unwrap().parse::<i64>().unwrap() + 1,
                c.call(&["SESS.PEEK", app, token]).field("r").unwrap().int()
            );
            // SET shows the session after its write, as PEEK then does.
            let (json, map) = in_one_second(&mut c, |c| {
                (
                    c.call(&["SESS.SET", app, token, r#"{"x":1}"#, "JSON"]),
                    c.call(&["SESS.PEEK", app, token]),
                )
            });
            assert_json_is_map(&json, &map);
            let (json, map) = in_one_second(&mut c, |c| {
                (
                    c.call(&[
                        "SESS.SET",
                        app,
                        token,
                        r#"{"x":null}"#,
                        "TTL",
                        "200",
                        "JSON",
                    ]),
                    c.call(&["SESS.PEEK", app, token]),
                )
            });
            assert_json_is_map(&json, &map);
        }
        // The full field order, in JSON.
        let json = c.call(&["SESS.PEEK", app, &fixed, "JSON"]);
        assert_eq!(
            json_names(&json),
            [
                "id",
                "r",
                "w",
                "ttl",
                "idle",
                "ip",
                "no_resave",
                "maxage",
                "d"
            ]
        );
        let text = String::from_utf8(json.bytes()).unwrap();
        assert!(text.starts_with("{\"id\":\"ü {x}:1\",\"r\":"), "{text}");
        assert!(text.ends_with(r#","d":{"a":"b"}}"#), "{text}");
        let json = c.call(&["SESS.PEEK", app, &bare, "JSON"]);
        assert_eq!(json_names(&json), ["id", "r", "w", "ttl", "idle", "ip"]);
        let json = c.call(&["SESS.PEEK", app, &rich, "JSON"]);
        let d = json_members(&json)
            .into_iter()
            .find(|(k, _)| k == "d")
            .unwrap()
            .1;
        let d: serde_json::Value = serde_json::from_str(&d).unwrap();
        assert_eq!(d["name"], "Ann \"A\" \\ é");
        assert_eq!(d["ok"], true);
        assert!(d.get("n").is_none());

        // Listings: every entry a JSON text starting with its token.
        for (listing, options) in [
            (vec!["SESS.SOID", app, "ü {x}:1"], vec![]),
            (vec!["SESS.SOID", app, "bob"], vec![]),
            (vec!["SESS.SOID", app, "ü {x}:1"], vec!["LIMIT", "1"]),
            (vec!["SESS.SOAPP", app, "60"], vec![]),
            (vec!["SESS.SOAPP", app, "60"], vec!["limit", "2"]),
        ] {
            let mut plain = listing.clone();
            plain.extend_from_slice(&options);
            let mut json_first = listing.clone();
            json_first.push("JSON");
            json_first.extend_from_slice(&options);
            let mut json_last = plain.clone();
            json_last.push("json");
            let (map, first, last) = in_one_second(&mut c, |c| {
                (c.call(&plain), c.call(&json_first), c.call(&json_last))
            });
            assert!(!map.array().is_empty(), "{plain:?}");
            assert_json_listing_is_map(&first, &map);
            assert_json_listing_is_map(&last, &map);
        }
        assert_eq!(c.call(&["SESS.SOAPP", app, "60", "JSON"]).array().len(), 3);

        // No live session: nil (or an empty listing), whatever the format.
        let missing = chosen("missing");
        for command in [
            &["SESS.GET", app, &missing, "JSON"][..],
            &["SESS.PEEK", app, &missing, "JSON"],
            &["SESS.SET", app, &missing, r#"{"a":1}"#, "JSON"],
        ] {
            assert!(c.call(command).is_nil(), "{command:?}");
        }
        assert!(c
            .call(&["SESS.SOID", app, "nobody", "JSON"])
            .array()
            .is_empty());
        assert!(c
            .call(&["SESS.SOAPP", "empty", "60", "JSON"])
            .array()
            .is_empty());
        assert_eq!(c.call(&["SESS.KILL", app, &bare]).int(), 1);
        assert!(c.call(&["SESS.GET", app, &bare, "JSON"]).is_nil());
    }
}

#[test]
fn json_option_errors_change_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    let syntax = "ERR syntax error";
    for args in [
        &["SESS.GET", "shop", &token, "XML"][..],
        &["SESS.GET", "shop", &token, ""],
        &["SESS.GET", "shop", &token, "JSONX"],
        &["SESS.PEEK", "shop", &token, "LIMIT"],
        &["SESS.SET", "shop", &token, r#"{"a":1}"#, "JSON", "JSON"],
        &["SESS.SOID", "shop", "u", "JSON", "JSON"],
        &["SESS.SOID", "shop", "u", "JSON", "LIMIT"],
        &["SESS.SOID", "shop", "u", "XML"],
        &["SESS.SOAPP", "shop", "60", "JSON", "JSON"],
        &["SESS.SOAPP", "shop", "60", "LIMIT", "2", "LIMIT"],
    ] {
        assert_eq!(refused(&mut c, args), syntax, "{args:?}");
    }
    // A repeated JSON beyond GET's and PEEK's argument count.
    for command in ["SESS.GET", "SESS.PEEK"] {
        let e = refused(&mut c, &[command, "shop", &token, "JSON", "JSON"]);
        assert!(
            e == syntax
                || e == format!(
                    "ERR wrong number of arguments for '{}' command",
                    command.to_lowercase()
                ),
            "{e}"
        );
    }
    for args in [
        &["SESS.SOID", "shop", "u", "LIMIT", "0", "JSON"][..],
        &["SESS.SOAPP", "shop", "60", "JSON", "LIMIT", "x"],
    ] {
        let e = refused(&mut c, args);
        assert!(e.starts_with("ERR invalid limit"), "{args:?}: {e}");
    }
    let e = refused(&mut c, &["SESS.GET", "shop", "short", "JSON"]);
    assert_eq!(e, INVALID_TOKEN);
}

#[test]
fn json_replies_stay_one_valid_object_with_hostile_stored_values() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u1", &["DATA", r#"{"a":1}"#]);
    let key = session_key("shop", &token);

    // Data another program wrote that is not one JSON object comes as a
    // string: it can neither end the reply early nor add fields.
    for d in [
        r#"{"a":1},"id":"admin""#,
        r#"{"a":1},"id":"admin","x":{"b":2}"#,
        r#"{"a":1}}"#,
        r#"{"a":1} "#,
        "[1]",
        "not json",
        "{",
        "}",
        "",
        r#""str""#,
        "123",
        r#"{"a":"}"#,
        r#"{"a":"\"}"#,
        "{\"a\":1}\u{0}",
    ] {
        c.call(&["HSET", &key, "d", d]);
        for command in ["SESS.PEEK", "SESS.GET"] {
            let (map, json) = in_one_second(&mut c, |c| {
                (
                    c.call(&["SESS.PEEK", "shop", &token]),
                    c.call(&[command, "shop", &token, "JSON"]),
                )
            });
            let members = json_members(&json);
            assert_eq!(
                members.iter().filter(|(k, _)| k == "id").count(),
                1,
                "{d:?}: {members:?}"
            );
            assert_eq!(json_field(&json, "id").unwrap(), "u1", "{d:?}");
            assert_eq!(members.len(), 7, "{d:?}: {members:?}");
            assert_json_is_map(&json, &map);
        }
        let listing = c.call(&["SESS.SOID", "shop", "u1", "JSON"]).array();
        assert_eq!(json_field(&listing[0], "id").unwrap(), "u1");
        assert_eq!(json_members(&listing[0]).len(), 8);
    }
    // An object whose own keys are the reply's names stays inside `d`.
    let inner = r#"{"id":"admin","token":"x","r":9}"#;
    c.call(&["HSET", &key, "d", inner]);
    let json = c.call(&["SESS.PEEK", "shop", &token, "JSON"]);
    assert_eq!(json_field(&json, "id").unwrap(), "u1");
    assert_eq!(json_field(&json, "d").unwrap(), inner);

    // Ids and addresses written by hand: quotes, backslashes, control
    // characters, bytes that are not UTF-8.
    let ids: [&[u8]; 5] = [
        b"a\"b\\c",
        b"line\nbreak\ttab\x01\x1f\x7f",
        b"\xffadmin\xfe",
        "\u{2028}\u{2029}😀".as_bytes(),
        b"\"},\"id\":\"admin",
    ];
    let ips: [&[u8]; 5] = [b"\xff\"1.2", b"1.2.3.4", b"\\", b"\x00", b"\xc3"];
    for (id, ip) in ids.iter().zip(ips) {
        c.call(&[b"HSET".as_slice(), key.as_bytes(), b"id", id, b"ip", ip]);
        let (map, json) = in_one_second(&mut c, |c| {
            (
                c.call(&["SESS.PEEK", "shop", &token]),
                c.call(&["SESS.PEEK", "shop", &token, "JSON"]),
            )
        });
        assert_json_is_map(&json, &map);
        assert_eq!(
            json_field(&json, "id").unwrap(),
            String::from_utf8_lossy(id),
            "{id:?}"
        );
        assert_eq!(
            json_field(&json, "ip").unwrap(),
            String::from_utf8_lossy(ip)
        );
        assert_eq!(json_members(&json).len(), 7);
        let got = c.call(&["SESS.GET", "shop", &token, "JSON"]);
        assert_eq!(json_field(&got, "id").unwrap(), String::from_utf8_lossy(id));
    }
}

/// Data written by hand into a session hash can never make the compact
/// reply carry fields of its own making. Data that is not one balanced
/// object in UTF-8 comes as a JSON string (the reply parses, with the real
/// id); data that is balanced but invalid inside its braces is spliced as
/// stored (validating every reply cost a fifth of SESS.GET), and the reply
/// then fails to parse as a whole, as that `d` fails to parse out of a map
/// reply: it never parses with another id or an extra field.
///
/// (This test first found that such data was spliced in unchecked; the
/// choice above was made after measuring the full validation.)
#[test]
fn json_replies_never_carry_fields_hand_written_data_makes() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u1", &["DATA", r#"{"a":1}"#]);
    let key = session_key("shop", &token);
    let mut spliced_invalid = 0;
    for d in [
        &br#"{"a":1]"#[..],
        b"{]",
        b"{a:1}",
        b"{'a':1}",
        br#"{"a":1,}"#,
        br#"{"a":1,"id":"admin",}"#,
        br#"{"a":1},"id":"admin"#,
        br#"{"a":1},"id":"admin","x":{"y":2}"#,
        b"{\"a\":\"x\ny\"}",
        b"{\"a\":\"\xff\"}",
        br#"{"a":[1}"#,
        br#"[{"id":"admin"}]"#,
    ] {
        c.call(&[b"HSET".as_slice(), key.as_bytes(), b"d", d]);
        let json = c.call(&["SESS.PEEK", "shop", &token, "JSON"]);
        match try_json_members(&json) {
            Ok(members) => {
                let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, ["id", "r", "w", "ttl", "idle", "ip", "d"], "{d:?}");
                assert_eq!(members[0].1, "\"u1\"", "{d:?}");
            }
            Err(_) => {
                // Only balanced, UTF-8 text is spliced.
                assert!(d.starts_with(b"{") && d.ends_with(b"}"), "{d:?}");
                assert!(std::str::from_utf8(d).is_ok(), "{d:?}");
                spliced_invalid += 1;
            }
        }
    }
    assert!(
        spliced_invalid > 0,
        "the balanced invalid cases are spliced"
    );
}

// ----- replication, cluster, docs, logs -------------------------------------

#[test]
fn a_replica_without_the_module_holds_the_masters_data_after_the_new_commands() {
    let master = Server::start();
    let replica = common::replica_of(&master, Options::default().without_module());
    let mut m = master.client();
    let mut r = replica.client();

    let chosen_token = chosen("replicated");
    create_with_token(
        &mut m,
        "shop",
        "alice",
        &chosen_token,
        &["DATA", r#"{"a":1}"#, "TTL", "600", "MAXAGE", "3600"],
    );
    // A leftover replaced.
    let leftover = chosen("leftover");
    create_with_token(&mut m, "shop", "zoe", &leftover, &["DATA", r#"{"z":1}"#]);
    let reply = expire_then(
        &mut m,
        "shop",
        &leftover,
        &[
            "SESS.CREATE",
            "shop",
            "bob",
            "10.0.0.5",
            "TOKEN",
            &leftover,
            "NORESAVE",
        ],
    );
    assert_eq!(reply.text(), leftover);
    // Assignments: to a new user (the old one leaves), back, and in place.
    let other = create(&mut m, "shop", "carol", &[]);
    let ago = (now(&mut m) - 50).to_string();
    m.call(&["HSET", &session_key("shop", &chosen_token), "la", &ago]);
    assert_eq!(m.call(&["SESS.ASSIGN", "shop", &other, "dave"]).int(), 1);
    assert_eq!(
        m.call(&["SESS.ASSIGN", "shop", &chosen_token, "alice"])
            .int(),
        1
    );
    m.call(&["HSET", &session_key("shop", &leftover), "la", &ago]);
    assert_eq!(m.call(&["SESS.ASSIGN", "shop", &leftover, "erin"]).int(), 1);
    // After a kill: the assignment carries a new kill epoch.
    create(&mut m, "shop", "frank", &[]);
    assert_eq!(m.call(&["SESS.KILLSOID", "shop", "frank"]).int(), 1);
    assert_eq!(m.call(&["SESS.ASSIGN", "shop", &other, "frank"]).int(), 1);
    // New ttls.
    m.call(&["SESS.SET", "shop", &chosen_token, r#"{"b":2}"#, "TTL", "60"]);
    m.call(&[
        "SESS.SET",
        "shop",
        &leftover,
        r#"{"b":2}"#,
        "TTL",
        "900",
        "JSON",
    ]);
    m.call(&["SESS.GET", "shop", &other, "JSON"]);

    assert!(in_sync(&mut m, &mut r));
    assert_eq!(digest(&mut r), digest(&mut m));
    assert_eq!(keys(&mut r), keys(&mut m));
    for key in keys(&mut m) {
        let dump = |c: &mut Client| match c.call(&["TYPE", &key]).text().as_str() {
            "hash" => {
                let mut pairs: Vec<String> = c
                    .call(&["HGETALL", &key])
                    .pairs()
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.text()))
                    .collect();
                pairs.sort();
                pairs.join(",")
            }
            _ => format!("{:?}", c.call(&["ZRANGE", &key, "0", "-1", "WITHSCORES"])),
        };
        assert_eq!(dump(&mut r), dump(&mut m), "{key}");
    }
    assert!(
        r.call(&["EXISTS", &session_key("shop", &chosen_token)])
            .int()
            == 1
    );
    // Times are absolute: a second later, the replica still holds them.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(digest(&mut r), digest(&mut m));
    let stats = r.call(&["INFO", "commandstats"]).text().to_lowercase();
    assert!(!stats.contains("cmdstat_sess."), "{stats}");
    assert!(
        !replica.log().contains("Unknown command"),
        "{}",
        replica.log()
    );
}

/// One command sent to `port`, following MOVED and ASK redirects.
fn call_following_redirects(port: u16, args: &[&str]) -> (Reply, usize) {
    let mut port = port;
    let mut asking = false;
    for hops in 0..5 {
        let mut c = Client::connect(port).unwrap();
        if asking {
            c.call(&["ASKING"]);
        }
        match c.call(args) {
            Reply::Error(e) if e.starts_with("MOVED ") || e.starts_with("ASK ") => {
                asking = e.starts_with("ASK ");
                port = e.rsplit(':').next().unwrap().parse().unwrap();
            }
            reply => return (reply, hops),
        }
    }
    panic!("too many redirects for {args:?}");
}

#[test]
fn create_token_assign_and_json_replies_work_in_a_cluster_routed_by_app() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let mut con = cluster_connection(&nodes);
    let mut query = |args: &[&str]| -> redis::RedisResult<redis::Value> {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut con)
    };
    let apps: Vec<String> = (0..12).map(|i| format!("fw{i:02}")).collect();
    let mut redirected = 0;
    for (i, app) in apps.iter().enumerate() {
        let token = chosen(&format!("cluster{i}"));
        let n = i.to_string();
        let data = format!(r#"{{"n":{n}}}"#);
        let created = query(&[
            "SESS.CREATE",
            app,
            "alice",
            "10.0.0.1",
            "DATA",
            &data,
            "TOKEN",
            &token,
        ])
        .unwrap();
        assert_eq!(
            created,
            redis::Value::BulkString(token.clone().into_bytes())
        );
        let in_use = query(&["SESS.CREATE", app, "bob", "10.0.0.1", "TOKEN", &token]);
        assert!(
            in_use
                .as_ref()
                .is_err_and(|e| e.to_string().contains("token in use")),
            "{in_use:?}"
        );
        assert_eq!(
            query(&["SESS.ASSIGN", app, &token, "bob"]).unwrap(),
            redis::Value::Int(1)
        );
        let set = query(&["SESS.SET", app, &token, r#"{"m":1}"#, "TTL", "600", "JSON"]).unwrap();
        let redis::Value::BulkString(set) = set else {
            panic!("{set:?}")
        };
        let set = Reply::Bulk(set);
        assert_eq!(json_field(&set, "ttl").unwrap(), "600");

        // From every node, following redirects: the same JSON.
        for node in &nodes {
            let (json, hops) =
                call_following_redirects(node.port, &["SESS.PEEK", app, &token, "JSON"]);
            redirected += hops;
            assert_eq!(json_field(&json, "id").unwrap(), "bob", "{json:?}");
            let d = json_field(&json, "d").unwrap();
            assert_eq!(d, format!(r#"{{"n":{n},"m":1}}"#));
            let (listing, _) = call_following_redirects(
                node.port,
                &["SESS.SOID", app, "bob", "LIMIT", "5", "JSON"],
            );
            assert_eq!(listing.array().len(), 1);
            assert_eq!(json_field(&listing.array()[0], "token").unwrap(), token);
        }
        let (json, _) =
            call_following_redirects(nodes[i % 3].port, &["SESS.GET", app, &token, "JSON"]);
        assert_eq!(json_field(&json, "r").unwrap(), "1");
        let (assigned, _) = call_following_redirects(
            nodes[(i + 1) % 3].port,
            &["SESS.ASSIGN", app, &token, "carol"],
        );
        assert_eq!(assigned, Reply::Int(1));
        let (soid_alice, _) = call_following_redirects(nodes[0].port, &["SESS.SOID", app, "alice"]);
        assert!(soid_alice.array().is_empty());
        let (count, _) = call_following_redirects(nodes[0].port, &["SESS.ACTIVITY", app, "60"]);
        assert_eq!(count, Reply::Int(1), "only carol has a session");
    }
    assert!(redirected >= apps.len(), "few redirects: {redirected}");

    // Every key of an app on the node that owns its slot, and only there.
    for app in &apps {
        let slot = common::cluster::key_slot(&nodes[0], app);
        let owner = common::cluster::owner_of(&nodes, slot);
        for (i, node) in nodes.iter().enumerate() {
            let found = node
                .client()
                .call(&["KEYS", &format!("rs:{{{app}}}:*")])
                .strings();
            if i == owner {
                assert!(found.len() >= 4, "{app}: {found:?}");
                assert_eq!(
                    common::cluster::keys_in_slot(node, slot) as usize,
                    found.len()
                );
            } else {
                assert!(found.is_empty(), "{app} keys on node {i}: {found:?}");
            }
        }
        // A node that does not own the app redirects ASSIGN.
        let other = (owner + 1) % 3;
        let token = chosen("cluster0");
        let e = nodes[other]
            .client()
            .call(&["SESS.ASSIGN", app, &token, "x"]);
        assert!(
            e.err().starts_with(&format!("MOVED {slot} ")),
            "{app}: {e:?}"
        );
    }

    // On the owning node, MONITOR never shows an assigned token, not even
    // in the routing key the module puts in front.
    let app = &apps[0];
    let owner = common::cluster::owner_of(&nodes, common::cluster::key_slot(&nodes[0], app));
    let mut c = nodes[owner].client();
    let token = common::create(&mut c, app, "mon", &[]);
    let mut monitor = nodes[owner].client();
    assert!(monitor.call(&["MONITOR"]).is_simple("OK"));
    assert_eq!(c.call(&["SESS.ASSIGN", app, &token, "mon2"]).int(), 1);
    c.call(&["ECHO", "end-of-commands"]);
    let lines = monitored_until(&mut monitor, "end-of-commands");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].contains(&token), "{lines:?}");
    assert!(lines[0].contains("(redacted)"), "{lines:?}");
}

#[test]
fn an_aof_of_the_new_commands_loads_into_a_redis_without_the_module() {
    let aof = || {
        Options::default()
            .config("appendonly", "yes")
            .config("appendfsync", "always")
    };
    let server = Server::with(aof());
    let mut c = server.client();
    let token = chosen("aof");
    create_with_token(&mut c, "shop", "alice", &token, &["DATA", r#"{"a":1}"#]);
    let leftover = chosen("aofLeftover");
    create_with_token(&mut c, "shop", "zoe", &leftover, &[]);
    expire_then(
        &mut c,
        "shop",
        &leftover,
        &["SESS.CREATE", "shop", "bob", "ip", "TOKEN", &leftover],
    );
    let other = create(&mut c, "shop", "carol", &[]);
    assert_eq!(c.call(&["SESS.KILLSOID", "shop", "dave"]).int(), 0);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &other, "dave"]).int(), 1);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "erin"]).int(), 1);
    c.call(&[
        "SESS.SET",
        "shop",
        &token,
        r#"{"b":1}"#,
        "TTL",
        "60",
        "JSON",
    ]);
    c.call(&["SESS.GET", "shop", &leftover, "JSON"]);
    let before = digest(&mut c);
    let all = keys(&mut c);
    let port = server.port;
    let dir = server.stop();
    let mut text = String::new();
    for entry in std::fs::read_dir(dir.join("appendonlydir")).expect("appendonlydir") {
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry.unwrap().path()).unwrap(),
        ));
    }
    assert!(
        !text.to_lowercase().contains("sess."),
        "the AOF must hold effects only"
    );
    let plain = Server::with(aof().without_module().dir(&dir).port(port));
    let mut c = plain.client();
    assert_eq!(digest(&mut c), before);
    assert_eq!(keys(&mut c), all);
}

#[test]
fn command_docs_describe_assign_and_the_new_options() {
    let server = Server::start();
    let mut c = server.client3();
    let docs = c.call(&["COMMAND", "DOCS", "sess.assign"]);
    let (name, doc) = docs
        .pairs()
        .into_iter()
        .next()
        .expect("sess.assign is documented");
    assert_eq!(name, "sess.assign");
    for field in ["summary", "since", "complexity"] {
        assert!(!doc.field(field).unwrap().text().is_empty(), "{field}");
    }
    let args = doc.field("arguments").unwrap().array();
    let names: Vec<String> = args
        .iter()
        .map(|a| a.field("name").unwrap().text())
        .collect();
    assert_eq!(names, ["app", "token", "id", "n"]);
    assert_eq!(args[0].field("type").unwrap().text(), "key");

    let info = c.call(&["COMMAND", "INFO", "sess.assign"]).array();
    let info = info[0].array();
    assert_eq!(info[0].text(), "sess.assign");
    let flags = info[2].strings();
    assert!(flags.iter().any(|f| f == "write"), "{flags:?}");
    assert_eq!((info[3].int(), info[4].int(), info[5].int()), (1, 1, 1));

    for (command, words) in [
        (
            "sess.create",
            &["TOKEN", "TTL", "DATA", "NORESAVE", "MAXAGE", "MAXSESSIONS"][..],
        ),
        ("sess.get", &["JSON"]),
        ("sess.peek", &["JSON"]),
        ("sess.set", &["TTL", "JSON"]),
        ("sess.soid", &["LIMIT", "JSON"]),
        ("sess.soapp", &["LIMIT", "JSON"]),
    ] {
        let strings = c.call(&["COMMAND", "DOCS", command]).strings();
        for word in words {
            assert!(
                strings.iter().any(|s| s == word),
                "{command}: {word} in {strings:?}"
            );
        }
    }
    // The documented options are the accepted ones.
    let token = chosen("docs");
    assert_eq!(
        c.call(&["SESS.CREATE", "shop", "u", "ip", "TOKEN", &token])
            .text(),
        token
    );
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "v"]).int(), 1);
}

/// Reads MONITOR lines until one with `marker`; returns the SESS.* lines.
fn monitored_until(monitor: &mut Client, marker: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = monitor.read().unwrap().text();
        if line.contains(marker) {
            return lines;
        }
        if line.to_lowercase().contains("sess.") {
            lines.push(line);
        }
    }
}

#[test]
fn assign_keeps_its_token_out_of_slowlog_and_monitor() {
    let server = Server::start();
    let mut c = server.client();
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let token = create(&mut c, "shop", "u", &[]);
    let mut monitor = server.client();
    assert!(monitor.call(&["MONITOR"]).is_simple("OK"));
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "v"]).int(), 1);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &token, "v"]).int(), 1);
    c.call(&["SESS.ASSIGN", "shop", &token, ""]);
    c.call(&["SESS.GET", "shop", &token, "JSON"]);
    c.call(&["SESS.PEEK", "shop", &token, "JSON"]);
    c.call(&[
        "SESS.SET",
        "shop",
        &token,
        r#"{"a":1}"#,
        "TTL",
        "60",
        "JSON",
    ]);
    c.call(&["ECHO", "end-of-commands"]);
    let lines = monitored_until(&mut monitor, "end-of-commands");
    assert_eq!(lines.len(), 6, "{lines:?}");
    for line in &lines {
        assert!(!line.contains(&token), "MONITOR showed a token: {line}");
        assert!(line.contains("(redacted)"), "{line}");
    }
    let slowlog = c.call(&["SLOWLOG", "GET", "100"]).strings();
    assert_eq!(
        slowlog
            .iter()
            .filter(|s| s.eq_ignore_ascii_case("SESS.ASSIGN"))
            .count(),
        3,
        "{slowlog:?}"
    );
    assert!(
        !slowlog.contains(&token),
        "SLOWLOG showed a token: {slowlog:?}"
    );
}

/// Found a bug, since fixed: the TOKEN argument of SESS.CREATE is a
/// live session token from the moment the command runs, but it is not
/// redacted: MONITOR and SLOWLOG show it in clear, although "token arguments
/// are redacted from SLOWLOG and MONITOR, so an operator's tools never show
/// a live token" (contract, Additions v2). create.rs never calls `redact`.
///
/// ```text
/// (client 2) MONITOR
/// (client 1) CONFIG SET slowlog-log-slower-than 0
/// (client 1) SESS.CREATE shop u 1.1.1.1 TOKEN AAAA...A
/// (client 2) ... "SESS.CREATE" "shop" "u" "1.1.1.1" "TOKEN" "AAAA...A"
/// (client 1) SLOWLOG GET 1   -> shows the token as well
/// ```
#[test]
fn create_keeps_a_chosen_token_out_of_slowlog_and_monitor() {
    let server = Server::start();
    let mut c = server.client();
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let mut monitor = server.client();
    assert!(monitor.call(&["MONITOR"]).is_simple("OK"));
    let token = chosen("secretTOKEN");
    create_with_token(&mut c, "shop", "u", &token, &["TTL", "60"]);
    c.call(&["SESS.CREATE", "shop", "u", "ip", "TOKEN", &token]);
    c.call(&["ECHO", "end-of-commands"]);
    let lines = monitored_until(&mut monitor, "end-of-commands");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let slowlog = c.call(&["SLOWLOG", "GET", "100"]).strings();
    let mut shown = lines.iter().filter(|l| l.contains(&token)).count();
    shown += slowlog.iter().filter(|s| s.contains(&token)).count();
    assert_eq!(shown, 0, "MONITOR: {lines:?}\nSLOWLOG: {slowlog:?}");
}

#[test]
fn assign_keeps_a_fixed_end_and_an_absolute_deadline() {
    let server = Server::start();
    let mut c = server.client();
    let fixed = create(&mut c, "shop", "alice", &["NORESAVE", "TTL", "600"]);
    let bounded = create(&mut c, "shop", "alice", &["MAXAGE", "30", "TTL", "600"]);
    let ago = now(&mut c) - 100;
    c.call(&["HSET", &session_key("shop", &fixed), "la", &ago.to_string()]);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &fixed, "bob"]).int(), 1);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &bounded, "bob"]).int(), 1);

    let peek = c.call(&["SESS.PEEK", "shop", &fixed]);
    assert_eq!(peek.field("no_resave"), Some(Reply::Int(1)));
    let left = peek.field("ttl").unwrap().int();
    assert!((498..=500).contains(&left), "{left}");
    assert_eq!(
        zscore(&mut c, &user_key("shop", "bob"), &fixed),
        Some(ago + 601),
        "its end did not move"
    );
    let deadline: i64 = hget(&mut c, &session_key("shop", &bounded), "maxage_at")
        .unwrap()
        .parse()
        .unwrap();
    let peek = c.call(&["SESS.PEEK", "shop", &bounded]);
    assert!(peek.field("maxage").unwrap().int() <= 30);
    assert_eq!(peek.field("ttl").unwrap().int(), 600);
    assert_eq!(
        zscore(&mut c, &user_key("shop", "bob"), &bounded),
        Some(deadline + 1)
    );
    assert!(zscore(&mut c, "rs:{shop}:_expiry", "bob").unwrap() <= deadline + 1);
    assert_eq!(c.call(&["EXISTS", &user_key("shop", "alice")]).int(), 0);
}

/// A server importing from the Node library's namespace `rs`, without the
/// background import.
fn importing() -> Server {
    Server::with(
        Options::default()
            .module_arg("import-namespace", "rs")
            .module_arg("import-batch", "0"),
    )
}

#[test]
fn assign_set_ttl_and_json_work_on_sessions_still_in_the_librarys_keys() {
    let server = importing();
    let mut c = server.client();
    let moved = chosen("libAssign");
    library_session(&mut c, "shop", "alice", &moved, 30);
    assert_eq!(c.call(&["SESS.ASSIGN", "shop", &moved, "bob"]).int(), 1);
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{moved}")]).int(), 0);
    assert_eq!(c.call(&["EXISTS", "rs:shop:us:alice"]).int(), 0);
    assert_eq!(soid(&mut c, "shop", "bob"), std::slice::from_ref(&moved));
    assert_eq!(soid(&mut c, "shop", "alice"), Vec::<String>::new());
    let peek = c.call(&["SESS.PEEK", "shop", &moved]);
    assert_eq!(peek.field("id").unwrap().text(), "bob");
    assert_eq!(peek.field("idle").unwrap().int(), 0);
    assert_eq!(peek.field("r").unwrap().int(), 1);
    assert_eq!(
        c.call(&["SESS.ACTIVITY", "shop", "60"]).int(),
        1,
        "alice has no session left"
    );

    // PEEK JSON shows a library session where it is.
    let shown = chosen("libPeek");
    library_session(&mut c, "shop", "carol", &shown, 40);
    let (map, json) = in_one_second(&mut c, |c| {
        (
            c.call(&["SESS.PEEK", "shop", &shown]),
            c.call(&["SESS.PEEK", "shop", &shown, "JSON"]),
        )
    });
    assert_json_is_map(&json, &map);
    assert_eq!(json_field(&json, "idle").unwrap(), "40");
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{shown}")]).int(), 1);
    // SOAPP JSON lists it with the module's sessions.
    let (map, json) = in_one_second(&mut c, |c| {
        (
            c.call(&["SESS.SOAPP", "shop", "600"]),
            c.call(&["SESS.SOAPP", "shop", "600", "JSON"]),
        )
    });
    assert_eq!(map.array().len(), 2, "{map:?}");
    assert_json_listing_is_map(&json, &map);
    // SET ... TTL moves it and gives it the new ttl.
    let json = c.call(&[
        "SESS.SET",
        "shop",
        &shown,
        r#"{"a":1}"#,
        "TTL",
        "60",
        "JSON",
    ]);
    assert_eq!(json_field(&json, "ttl").unwrap(), "60");
    assert_eq!(json_field(&json, "id").unwrap(), "carol");
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{shown}")]).int(), 0);
    assert_eq!(
        hget(&mut c, &session_key("shop", &shown), "ttl").unwrap(),
        "60"
    );
    let la_now = la(&mut c, "shop", &shown);
    assert_eq!(
        zscore(&mut c, &user_key("shop", "carol"), &shown),
        Some(la_now + 61)
    );
    // GET JSON moves one too.
    let read = chosen("libGet");
    library_session(&mut c, "shop", "dave", &read, 50);
    let json = c.call(&["SESS.GET", "shop", &read, "JSON"]);
    assert_eq!(json_field(&json, "idle").unwrap(), "50");
    assert_eq!(json_field(&json, "id").unwrap(), "dave");
    assert_eq!(c.call(&["EXISTS", &format!("rs:shop:{read}")]).int(), 0);
}

#[test]
fn long_listings_reply_in_json_too() {
    let server = Server::start();
    let mut c = server.client();
    let commands: Vec<Vec<String>> = (0..6000)
        .map(|i| {
            vec![
                "SESS.CREATE".to_string(),
                "shop".into(),
                if i % 2 == 0 {
                    "whale".into()
                } else {
                    format!("u{i}")
                },
                "10.0.0.1".into(),
                "DATA".into(),
                format!(r#"{{"i":{i}}}"#),
            ]
        })
        .collect();
    for chunk in commands.chunks(1000) {
        for reply in c.pipeline(chunk) {
            assert!(matches!(reply, Reply::Bulk(_)), "{reply:?}");
        }
    }
    for (listing, expected) in [
        (vec!["SESS.SOID", "shop", "whale"], 3000),
        (vec!["SESS.SOAPP", "shop", "600"], 6000),
    ] {
        let mut json_listing = listing.clone();
        json_listing.push("JSON");
        let (map, json) = in_one_second(&mut c, |c| (c.call(&listing), c.call(&json_listing)));
        assert_eq!(map.array().len(), expected, "{listing:?}");
        assert_json_listing_is_map(&json, &map);
    }
}

/// ASSIGN ... MAXSESSIONS: a login that keeps its session respects the
/// same cap as one that creates a session. The least recently active of the
/// new user's sessions go (ties by token), never the one assigned; the cap
/// does not apply to the old user, and bad values change nothing.
#[test]
fn assign_with_maxsessions_caps_the_new_users_sessions() {
    let server = Server::start();
    let mut c = server.client();
    let start = now(&mut c);
    let oldest = create(&mut c, "shop", "bob", &[]);
    c.call(&[
        "HSET",
        &session_key("shop", &oldest),
        "la",
        &(start - 100).to_string(),
    ]);
    let older = create(&mut c, "shop", "bob", &[]);
    c.call(&[
        "HSET",
        &session_key("shop", &older),
        "la",
        &(start - 50).to_string(),
    ]);
    let newest = create(&mut c, "shop", "bob", &[]);
    let visitor = create(&mut c, "shop", "anon:1", &[]);
    let kept_by_visitor = create(&mut c, "shop", "anon:1", &[]);

    for bad in [
        &["MAXSESSIONS", "0"][..],
        &["MAXSESSIONS", "x"],
        &["MAX", "2"],
    ] {
        let mut args = vec!["SESS.ASSIGN", "shop", visitor.as_str(), "bob"];
        args.extend_from_slice(bad);
        let before = digest(&mut c);
        assert!(c.call(&args).is_error(), "{bad:?}");
        assert_eq!(digest(&mut c), before, "{bad:?}");
    }
    let reply = c.call(&["SESS.ASSIGN", "shop", &visitor, "bob", "maxsessions", "2"]);
    assert_eq!(reply, Reply::Int(1));
    assert_eq!(sorted(&[&visitor, &newest]), {
        let mut now_listed = soid(&mut c, "shop", "bob");
        now_listed.sort();
        now_listed
    });
    for gone in [&oldest, &older] {
        assert!(c.call(&["SESS.PEEK", "shop", gone]).is_nil());
        assert_eq!(c.call(&["EXISTS", &session_key("shop", gone)]).int(), 0);
    }
    assert_eq!(soid(&mut c, "shop", "anon:1"), vec![kept_by_visitor]);
}

/// A big kill (freed in steps while its client waits) whose index lists a
/// token that a session created since holds (a store derives the same token
/// from the same cookie): freeing the kill leaves that session alone, for a
/// KILLSOID and a KILLALL alike. (Found by review: the reaper deleted it.)
#[test]
fn a_session_created_with_a_token_a_big_kill_still_lists_outlives_the_kill() {
    for kill in ["KILLSOID", "KILLALL"] {
        let server = Server::start();
        let mut c = server.client();
        c.call(&["CONFIG", "SET", "sess.sweep-batch", "10"]);
        for _ in 0..1500 {
            create(&mut c, "shop", "alice", &[]);
        }
        let token = create(&mut c, "shop", "alice", &[]);
        let mut killer = server.client();
        let args: Vec<&str> = match kill {
            "KILLSOID" => vec!["SESS.KILLSOID", "shop", "alice"],
            _ => vec!["SESS.KILLALL", "shop"],
        };
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let waiting = std::thread::spawn(move || killer.call(&args).int());
        assert!(eventually(5, || c
            .call(&["EXISTS", "rs:{shop}:_graves"])
            .int()
            == 1));
        // In one transaction with the CREATE: whether the kill had already
        // freed the old session under that token.
        c.call(&["MULTI"]);
        c.call(&["EXISTS", &session_key("shop", &token)]);
        c.call(&[
            "SESS.CREATE",
            "shop",
            "alice",
            "9.9.9.9",
            "TTL",
            "600",
            "TOKEN",
            &token,
        ]);
        let replies = c.call(&["EXEC"]).array();
        assert_eq!(replies[1].text(), token, "{kill}");
        let taken_over = replies[0].int() == 1;
        // The kill counts the sessions it removed: an old session whose token
        // the new one took over first was removed by the CREATE, not the kill.
        let counted = if taken_over { 1500 } else { 1501 };
        assert_eq!(waiting.join().unwrap(), counted, "{kill}");
        let got = c.call(&["SESS.PEEK", "shop", &token, "JSON"]);
        assert!(
            !got.is_nil(),
            "{kill}: the session created after the kill was freed with it"
        );
        assert_eq!(soid(&mut c, "shop", "alice"), vec![token.clone()], "{kill}");
        assert!(eventually(10, || c
            .call(&["EXISTS", "rs:{shop}:_graves"])
            .int()
            == 0));
        assert!(!c.call(&["SESS.GET", "shop", &token]).is_nil(), "{kill}");
    }
}

/// While a KILLALL is being freed, a CREATE ... TOKEN refused and an ASSIGN
/// that finds no session change nothing: the index a graveyard will take
/// over is only moved by a command that goes on to write. ASSIGN is refused
/// over maxmemory like CREATE, and its MAXSESSIONS applies when the id
/// stays too.
#[test]
fn refused_creates_and_assigns_change_nothing_while_a_kill_is_freed() {
    let server = Server::start();
    let mut c = server.client();
    c.call(&["CONFIG", "SET", "sess.sweep-batch", "10"]);
    create(&mut c, "shop", "alice", &["TTL", "31536000"]);
    create(&mut c, "shop", "bob", &["TTL", "31536000"]);
    for i in 0..3000 {
        create(&mut c, "shop", &format!("u{i}"), &[]);
    }
    let mut killer = server.client();
    let waiting = std::thread::spawn(move || killer.call(&["SESS.KILLALL", "shop"]).int());
    assert!(eventually(5, || c
        .call(&["EXISTS", "rs:{shop}:_graves"])
        .int()
        == 1));
    // One transaction, so that the reaper cannot step in between.
    let live = create(&mut c, "shop", "zed", &[]);
    let unknown = chosen("unknown");
    c.call(&["MULTI"]);
    for args in [
        &["DEBUG", "DIGEST"][..],
        &["SESS.CREATE", "shop", "alice", "1.1.1.1", "TOKEN", &live],
        &["DEBUG", "DIGEST"],
        &["SESS.ASSIGN", "shop", &unknown, "bob"],
        &["DEBUG", "DIGEST"],
    ] {
        c.call(args);
    }
    let replies = c.call(&["EXEC"]).array();
    assert_eq!(replies[1].err(), "ERR token in use");
    assert_eq!(replies[3], Reply::Int(0));
    assert_eq!(
        replies[0], replies[2],
        "a refused CREATE ... TOKEN changed data"
    );
    assert_eq!(replies[2], replies[4], "an ASSIGN replying 0 changed data");
    assert_eq!(waiting.join().unwrap(), 3002);

    // The same id with MAXSESSIONS: the cap applies.
    let tokens: Vec<String> = (0..4)
        .map(|_| create(&mut c, "shop", "carl", &[]))
        .collect();
    let reply = c.call(&[
        "SESS.ASSIGN",
        "shop",
        &tokens[0],
        "carl",
        "MAXSESSIONS",
        "2",
    ]);
    assert_eq!(reply, Reply::Int(1));
    assert_eq!(soid(&mut c, "shop", "carl").len(), 2);
    assert!(!c.call(&["SESS.PEEK", "shop", &tokens[0]]).is_nil());

    // Over maxmemory: refused, nothing written.
    c.call(&["CONFIG", "SET", "maxmemory", "1"]);
    let e = refused(&mut c, &["SESS.ASSIGN", "shop", &tokens[0], "dora"]);
    assert!(e.starts_with("OOM"), "{e}");
    c.call(&["CONFIG", "SET", "maxmemory", "0"]);
}
