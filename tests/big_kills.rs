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

/// Sign-ups, reads and writes keep running while a big KILLALL is freed.
#[test]
fn a_big_killall_under_traffic_kills_exactly_what_existed_before_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let master = Server::with(slow_reaper());
    let replica = replica_of(&master, Options::default());
    let mut m = master.client();
    let before: Vec<String> = populate(&mut m, 1200, 2).into_iter().flatten().collect();
    let running = Arc::new(AtomicBool::new(true));
    // Sessions created by the traffic, each with whether it was created
    // after the KILLALL had replied.
    let created = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let replied = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (mut c, running, created, replied) = (
                master.client(),
                running.clone(),
                created.clone(),
                replied.clone(),
            );
            let old = before.clone();
            std::thread::spawn(move || {
                let mut i = 0usize;
                while running.load(Ordering::Relaxed) {
                    i += 1;
                    let after = replied.load(Ordering::Relaxed);
                    // Returning users (u0..u1199) and new ones.
                    let id = format!("u{}", (i * 7 + w) % 1500);
                    let token = create(&mut c, "shop", &id, &[]);
                    created.lock().unwrap().push((token.clone(), after));
                    // Nil only when the kill ran between the two commands.
                    let got = c.call(&["SESS.GET", "shop", &token]);
                    if after || !got.is_nil() {
                        assert_eq!(got.field("id").unwrap().text(), id);
                    }
                    // Old sessions may be read while the kill has not run:
                    // never an error either way.
                    let old = &old[(i * 13 + w) % old.len()];
                    let read = c.call(&["SESS.SET", "shop", old, r#"{"t":1}"#]);
                    assert!(!read.is_error(), "{read:?}");
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut killer = master.client();
    let killed = killer.call(&["SESS.KILLALL", "shop"]).int();
    replied.store(true, Ordering::Relaxed);
    std::thread::sleep(std::time::Duration::from_millis(200));
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("traffic thread");
    }

    for token in &before {
        assert!(
            m.call(&["SESS.PEEK", "shop", token]).is_nil(),
            "{token} survived"
        );
    }
    let created = created.lock().unwrap();
    let survivors = created
        .iter()
        .filter(|(token, _)| !m.call(&["SESS.PEEK", "shop", token]).is_nil())
        .count();
    let after = created.iter().filter(|(_, after)| *after).count();
    for (token, _) in created.iter().filter(|(_, after)| *after) {
        assert!(
            !m.call(&["SESS.PEEK", "shop", token]).is_nil(),
            "{token} lost"
        );
    }
    // Killed: the 2,400 sessions from before, plus the traffic's sessions
    // created before the kill ran.
    let traffic_killed = created.len() - survivors;
    assert_eq!(
        killed as usize,
        before.len() + traffic_killed,
        "{survivors} of {}",
        created.len()
    );
    assert!(survivors >= after && after > 0, "{survivors} {after}");
    // Every index entry points to a live session; the replica agrees.
    for id in m
        .call(&["ZRANGE", "rs:{shop}:_expiry", "0", "-1"])
        .strings()
    {
        for token in m
            .call(&["ZRANGE", &format!("rs:{{shop}}:us:{id}"), "0", "-1"])
            .strings()
        {
            assert!(
                !m.call(&["SESS.PEEK", "shop", &token]).is_nil(),
                "{id} {token}"
            );
        }
    }
    assert!(eventually(10, || m.call(&["EXISTS", GRAVES]).int() == 0));
    let mut r = replica.client();
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
}
