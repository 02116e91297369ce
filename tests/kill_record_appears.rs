//! A kill record (`_kills`) that appears by any means ends the sessions it
//! names at once. While no database holds one, GET and CREATE skip its
//! lookup (registry.rs); a record created by a kill, a hand HSET, RESTORE,
//! RENAME, COPY, a restart or replication must turn the lookup back on
//! before the next command. (MOVE and SWAPDB can only bring one that some
//! database already held, which keeps the lookup on.)

mod common;

use common::{create, eventually, master_and_replica, server_now, Client, Options, Server};

/// A kill of user `bob` of app `shop` now, as a kill record's fields.
fn kill_fields(c: &mut Client) -> Vec<String> {
    let epoch = ((server_now(c) * 1000.0) as i64).to_string();
    vec!["n".into(), epoch.clone(), "u:bob".into(), epoch]
}

fn hset(c: &mut Client, key: &str, fields: &[String]) {
    let mut args = vec!["HSET".to_string(), key.to_string()];
    args.extend_from_slice(fields);
    assert_eq!(c.call(&args).int(), 2);
}

const KILLS: &str = "rs:{shop}:_kills";

/// A session of bob, live, with no kill record anywhere and a full pass of
/// the keyspace scan since (so the lookup is off, as on a server that never
/// saw a kill).
fn live_session(c: &mut Client) -> String {
    let token = create(c, "shop", "bob", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!c.call(&["SESS.GET", "shop", &token]).is_nil());
    token
}

fn gets_nothing(c: &mut Client, token: &str) {
    assert!(
        c.call(&["SESS.GET", "shop", token]).is_nil(),
        "a session the kill record ends answered"
    );
    assert!(c.call(&["SESS.PEEK", "shop", token]).is_nil());
}

#[test]
fn a_record_written_by_hand_restored_renamed_or_copied_ends_the_session() {
    let server = Server::start();
    let mut c = server.client();
    type Make = fn(&mut Client, &[String]);
    let ways: [(&str, Make); 4] = [
        ("HSET", |c, f| hset(c, KILLS, f)),
        ("RESTORE", |c, f| {
            hset(c, "elsewhere", f);
            let dump = c.call(&["DUMP", "elsewhere"]).bytes();
            c.call(&["DEL", "elsewhere"]);
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let restore = [b"RESTORE".to_vec(), KILLS.into(), b"0".to_vec(), dump];
            assert!(c.call(&restore).is_simple("OK"));
        }),
        ("RENAME", |c, f| {
            hset(c, "elsewhere", f);
            std::thread::sleep(std::time::Duration::from_millis(1500));
            assert!(c.call(&["RENAME", "elsewhere", KILLS]).is_simple("OK"));
        }),
        ("COPY", |c, f| {
            hset(c, "elsewhere", f);
            std::thread::sleep(std::time::Duration::from_millis(1500));
            assert_eq!(c.call(&["COPY", "elsewhere", KILLS]).int(), 1);
            c.call(&["DEL", "elsewhere"]);
        }),
    ];
    for (_way, make) in ways {
        c.call(&["FLUSHALL"]);
        let token = live_session(&mut c);
        let fields = kill_fields(&mut c);
        make(&mut c, &fields);
        gets_nothing(&mut c, &token);
    }
}

#[test]
fn a_record_survives_a_restart_and_a_failover() {
    let dir = common::server::fresh_dir();
    let server = Server::with(Options::default().dir(&dir));
    let mut c = server.client();
    let token = live_session(&mut c);
    let fields = kill_fields(&mut c);
    hset(&mut c, KILLS, &fields);
    gets_nothing(&mut c, &token);
    assert!(c.call(&["SAVE"]).is_simple("OK"));
    drop(c);
    server.stop();
    let server = Server::with(Options::default().dir(&dir));
    let mut c = server.client();
    gets_nothing(&mut c, &token);

    let (master, replica) = master_and_replica();
    let (mut m, mut r) = (master.client(), replica.client());
    let token = live_session(&mut m);
    let fields = kill_fields(&mut m);
    hset(&mut m, KILLS, &fields);
    assert!(eventually(5, || r.call(&["EXISTS", KILLS]).int() == 1));
    assert!(r.call(&["REPLICAOF", "NO", "ONE"]).is_simple("OK"));
    gets_nothing(&mut r, &token);
}
