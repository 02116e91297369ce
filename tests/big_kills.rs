//! Kills of more sessions than a command deletes by itself (over 1,000):
//! KILLALL and KILLSOID move the index to a graveyard in one step, the
//! sweeper frees it in bounded steps, and the caller waits for the count.
//!
//! The servers run with `sweep-batch 10`, so freeing a few thousand sessions
//! takes hundreds of steps: the tests look at the app while the graveyard is
//! still there (and check that it is, or they would prove nothing).

mod common;

use common::{create, eventually, in_sync, info_field, keys, replica_of, Client, Options, Server};

const GRAVES: &str = "rs:{shop}:_graves";

fn slow_reaper() -> Options {
    Options::default().module_arg("sweep-batch", "10")
}

/// `users` users with `each` sessions each; returns the tokens, per user.
fn populate(c: &mut Client, users: usize, each: usize) -> Vec<Vec<String>> {
    (0..users)
        .map(|u| {
            (0..each)
                .map(|_| create(c, "shop", &format!("u{u}"), &[]))
                .collect()
        })
        .collect()
}

/// Every way a client can reach a killed session finds none.
fn assert_killed(c: &mut Client, id: &str, token: &str) {
    assert!(c.call(&["SESS.GET", "shop", token]).is_nil(), "GET {token}");
    assert!(c.call(&["SESS.PEEK", "shop", token]).is_nil());
    assert!(c.call(&["SESS.SET", "shop", token, "{\"a\":1}"]).is_nil());
    assert!(c.call(&["SESS.ROTATE", "shop", token]).is_nil());
    assert_eq!(c.call(&["SESS.KILL", "shop", token]).int(), 0);
    assert!(c.call(&["SESS.SOID", "shop", id]).array().is_empty());
}

#[test]
fn killall_of_a_big_app_is_atomic_waits_for_the_count_and_frees_everything() {
    let master = Server::with(slow_reaper());
    let replica = replica_of(&master, Options::default());
    let mut m = master.client();
    let tokens = populate(&mut m, 1500, 2);
    let mut killer = master.client();
    killer.send_only(&["SESS.KILLALL", "shop"]);

    // Meanwhile, from another client: the kill is complete at once.
    assert!(
        eventually(5, || m.call(&["EXISTS", "rs:{shop}:_expiry"]).int() == 0),
        "KILLALL never ran"
    );
    assert_eq!(
        m.call(&["EXISTS", GRAVES]).int(),
        1,
        "already freed: nothing to see"
    );
    for u in [0, 700, 1499] {
        assert_killed(&mut m, &format!("u{u}"), &tokens[u][1]);
    }
    assert_eq!(m.call(&["SESS.ACTIVITY", "shop", "3600"]).int(), 0);
    assert!(m.call(&["SESS.SOAPP", "shop", "3600"]).array().is_empty());
    assert_eq!(m.call(&["SESS.KILLSOID", "shop", "u3"]).int(), 0);
    // A user signing in again gets a fresh index with only the new session.
    let back = create(&mut m, "shop", "u5", &[]);
    assert!(!m.call(&["SESS.GET", "shop", &back]).is_nil());
    let soid = m.call(&["SESS.SOID", "shop", "u5"]).array();
    assert_eq!(soid.len(), 1);
    assert_eq!(soid[0].field("token").unwrap().text(), back);
    assert!(m.call(&["SESS.GET", "shop", &tokens[5][0]]).is_nil());

    let reply = killer.read().unwrap();
    assert_eq!(reply.int(), 3000, "{reply:?}");
    let mut left = vec![
        format!("rs:{{shop}}:{back}"),
        "rs:{shop}:_expiry".into(),
        "rs:{shop}:_users".into(),
        "rs:{shop}:us:u5".into(),
    ];
    left.sort();
    assert_eq!(
        keys(&mut m),
        left,
        "everything killed is freed by the time of the reply"
    );
    assert_eq!(info_field(&mut m, "sess_killed"), 3000);
    assert!(!m.call(&["SESS.GET", "shop", &back]).is_nil());
    let mut r = replica.client();
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
}

#[test]
fn killsoid_of_a_big_user_keeps_the_except_session_and_counts_the_rest() {
    let server = Server::with(slow_reaper());
    let mut c = server.client();
    let big = populate(&mut c, 1, 1500).remove(0);
    let other = create(&mut c, "shop", "other", &[]);
    let keep = &big[700];
    let mut killer = server.client();
    killer.send_only(&["SESS.KILLSOID", "shop", "u0", "EXCEPT", keep]);

    assert!(eventually(5, || c.call(&["EXISTS", GRAVES]).int() == 1));
    assert!(c.call(&["SESS.GET", "shop", &big[0]]).is_nil());
    assert!(c.call(&["SESS.PEEK", "shop", &big[1499]]).is_nil());
    assert!(!c.call(&["SESS.GET", "shop", keep]).is_nil());
    assert!(!c.call(&["SESS.GET", "shop", &other]).is_nil());
    let soid = c.call(&["SESS.SOID", "shop", "u0"]).array();
    assert_eq!(soid.len(), 1);
    assert_eq!(soid[0].field("token").unwrap().text(), *keep);

    assert_eq!(killer.read().unwrap().int(), 1499);
    assert_eq!(c.call(&["EXISTS", GRAVES]).int(), 0);
    assert_eq!(
        c.call(&["ZRANGE", "rs:{shop}:us:u0", "0", "-1"]).strings(),
        std::slice::from_ref(keep)
    );
    assert_eq!(common::session_hashes(&mut c).len(), 2);
    assert_eq!(c.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 2);
}

#[test]
fn inside_multi_a_big_kill_runs_in_the_command_as_before() {
    let server = Server::start();
    let mut c = server.client();
    populate(&mut c, 1, 1200);
    populate(&mut c, 600, 1);
    c.call(&["MULTI"]);
    c.call(&["SESS.KILLSOID", "shop", "u0"]);
    c.call(&["SESS.KILLALL", "shop"]);
    let replies = c.call(&["EXEC"]).array();
    assert_eq!(replies[0].int(), 1201);
    assert_eq!(
        replies[1].int(),
        599,
        "u0 of the second batch was killed already"
    );
    assert!(keys(&mut c).is_empty());
    let script = "return redis.call('SESS.KILLSOID', 'shop', 'u0')";
    populate(&mut c, 1, 1100);
    assert_eq!(c.call(&["EVAL", script, "0"]).int(), 1100);
}

#[test]
fn a_graveyard_outlives_a_restart_and_is_freed_after_it() {
    let server = Server::with(slow_reaper().config("appendonly", "yes"));
    let mut c = server.client();
    let tokens = populate(&mut c, 1, 3000).remove(0);
    let mut killer = server.client();
    killer.send_only(&["SESS.KILLSOID", "shop", "u0"]);
    assert!(eventually(5, || c.call(&["EXISTS", GRAVES]).int() == 1));
    let dir = server.stop();

    let server = Server::with(slow_reaper().config("appendonly", "yes").dir(&dir));
    let mut c = server.client();
    assert!(c.call(&["SESS.GET", "shop", &tokens[2999]]).is_nil());
    assert!(c.call(&["SESS.SOID", "shop", "u0"]).array().is_empty());
    assert!(
        eventually(20, || keys(&mut c).is_empty()),
        "left: {} keys",
        keys(&mut c).len()
    );
}

#[test]
fn a_client_waiting_on_a_server_that_turns_replica_gets_an_error() {
    let server = Server::with(slow_reaper());
    let mut c = server.client();
    populate(&mut c, 1, 3000);
    let mut killer = server.client();
    killer.send_only(&["SESS.KILLSOID", "shop", "u0"]);
    assert!(eventually(5, || c.call(&["EXISTS", GRAVES]).int() == 1));
    let nobody = common::server::free_port().to_string();
    assert!(c.call(&["REPLICAOF", "127.0.0.1", &nobody]).is_simple("OK"));
    // Redis itself unblocks a waiting client when its server turns replica
    // (7.0 on); the module answers one it still holds with its own error.
    let reply = killer.read().unwrap();
    assert!(reply.is_error(), "{reply:?}");
    assert!(c.call(&["SESS.SOID", "shop", "u0"]).array().is_empty());
    // Master again: the graveyard is freed all the same.
    assert!(c.call(&["REPLICAOF", "NO", "ONE"]).is_simple("OK"));
    assert!(
        eventually(20, || keys(&mut c).is_empty()),
        "{:?}",
        keys(&mut c).len()
    );
    assert!(server.is_alive());
}

#[test]
fn a_graves_key_of_another_type_fails_a_big_kill_before_any_change() {
    let server = Server::start();
    let mut c = server.client();
    let tokens = populate(&mut c, 1, 1100).remove(0);
    c.call(&["SET", GRAVES, "not a sorted set"]);
    let before = keys(&mut c);
    for kill in [
        &["SESS.KILLSOID", "shop", "u0"][..],
        &["SESS.KILLALL", "shop"],
    ] {
        let reply = c.call(kill);
        assert!(reply.err().starts_with("WRONGTYPE"), "{reply:?}");
    }
    assert_eq!(keys(&mut c), before);
    assert!(!c.call(&["SESS.GET", "shop", &tokens[0]]).is_nil());
}
