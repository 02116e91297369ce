//! Persistence: sessions survive restarts with their tokens, the AOF holds
//! only plain commands (it loads into a Redis without the module), and
//! sessions that expired while the server was down are cleaned up after
//! loading.

mod common;

use std::time::Duration;

use common::{create, eventually, keys, Client, Options, Reply, Server};

fn with_aof() -> Options {
    Options::default()
        .config("appendonly", "yes")
        .config("appendfsync", "always")
}

fn snapshot(c: &mut Client, app: &str, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| {
            let mut pairs: Vec<String> = c
                .call(&["HGETALL", &format!("rs:{{{app}}}:{t}")])
                .pairs()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.text()))
                .collect();
            pairs.sort();
            pairs.join(" ")
        })
        .collect()
}

fn aof_text(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir.join("appendonlydir")).expect("appendonlydir") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    all
}

#[test]
fn an_aof_restart_keeps_every_session_and_token() {
    let server = Server::with(with_aof());
    let mut c = server.client();
    let tokens: Vec<String> = (0..5)
        .map(|i| {
            create(
                &mut c,
                "shop",
                &format!("user{i}"),
                &["DATA", r#"{"cart":1}"#],
            )
        })
        .collect();
    c.call(&["SESS.GET", "shop", &tokens[0]]);
    c.call(&["SESS.SET", "shop", &tokens[1], r#"{"x":"y"}"#]);
    let before = snapshot(&mut c, "shop", &tokens);
    let port = server.port;
    let dir = server.stop();
    assert!(
        !aof_text(&dir).to_lowercase().contains("sess."),
        "the AOF must hold effects only"
    );

    let again = Server::with(with_aof().dir(&dir).port(port));
    let mut c = again.client();
    assert_eq!(snapshot(&mut c, "shop", &tokens), before);
    let got = c.call(&["SESS.GET", "shop", &tokens[0]]);
    assert_eq!(got.field("r").unwrap().int(), 2);
    assert_eq!(
        c.call(&["SESS.GET", "shop", &tokens[1]])
            .field("d")
            .unwrap()
            .text(),
        r#"{"cart":1,"x":"y"}"#
    );
}

#[test]
fn the_aof_loads_into_a_redis_without_the_module_before_and_after_a_rewrite() {
    let server = Server::with(with_aof());
    let mut c = server.client();
    let tokens: Vec<String> = (0..5)
        .map(|i| create(&mut c, "shop", &format!("u{i}"), &[]))
        .collect();
    c.call(&["SESS.KILL", "shop", &tokens[4]]);
    let before_keys = keys(&mut c);
    let before = snapshot(&mut c, "shop", &tokens);
    let port = server.port;
    let dir = server.stop();

    // The incremental AOF, as written command by command.
    let plain = Server::with(with_aof().without_module().dir(&dir).port(port));
    let mut c = plain.client();
    assert_eq!(keys(&mut c), before_keys);
    assert_eq!(snapshot(&mut c, "shop", &tokens), before);
    drop(c);
    let dir = plain.stop();

    // A rewritten AOF (RDB preamble plus tail), written with the module.
    let server = Server::with(with_aof().dir(&dir).port(port));
    let mut c = server.client();
    c.call(&["SESS.GET", "shop", &tokens[0]]);
    assert!(c
        .call(&["BGREWRITEAOF"])
        .is_simple("Background append only file rewriting started"));
    assert!(eventually(20, || c
        .call(&["INFO", "persistence"])
        .text()
        .contains("aof_rewrite_in_progress:0")));
    std::thread::sleep(Duration::from_millis(200));
    let after = snapshot(&mut c, "shop", &tokens);
    drop(c);
    let dir = server.stop();

    let plain = Server::with(with_aof().without_module().dir(&dir).port(port));
    let mut c = plain.client();
    assert_eq!(snapshot(&mut c, "shop", &tokens), after);
    assert_eq!(keys(&mut c), before_keys);
}

fn expired_while_down(options: impl Fn() -> Options, save: &[&str]) {
    let server = Server::with(options());
    let mut c = server.client();
    let doomed = create(&mut c, "shop", "gone", &["TTL", "10"]);
    let kept = create(&mut c, "shop", "kept", &["TTL", "600"]);
    let la: i64 = c
        .call(&["HGET", &format!("rs:{{shop}}:{doomed}"), "la"])
        .text()
        .parse()
        .unwrap();
    if !save.is_empty() {
        assert!(c.call(save).is_simple("OK"));
    }
    let port = server.port;
    let dir = server.stop();

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    std::thread::sleep(Duration::from_secs((la + 12 - now).max(0) as u64));
    let again = Server::with(options().dir(&dir).port(port));
    let mut c = again.client();
    assert!(
        eventually(2, || c
            .call(&["EXISTS", &format!("rs:{{shop}}:{doomed}")])
            .int()
            == 0
            && c.call(&["EXISTS", "rs:{shop}:us:gone"]).int() == 0),
        "the expired session was not cleaned up after loading: {:?}",
        keys(&mut c)
    );
    assert!(c.call(&["SESS.GET", "shop", &kept]).field("id").is_some());
    assert_eq!(c.call(&["SESS.GET", "shop", &doomed]), Reply::Nil);
}

#[test]
fn sessions_that_expired_while_the_server_was_down_are_swept_after_an_rdb_load() {
    expired_while_down(Options::default, &["SAVE"]);
}

#[test]
fn sessions_that_expired_while_the_server_was_down_are_swept_after_an_aof_load() {
    expired_while_down(with_aof, &[]);
}
