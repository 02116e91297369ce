//! Writes paused by the server: CLIENT PAUSE (WRITE and ALL), SHUTDOWN
//! waiting for a lagging replica, and FAILOVER waiting for its target. Redis
//! aborts (`serverAssert` in propagatePendingCommands) if anything propagates
//! a write while clients are paused, so the sweeper must stand still then, and
//! catch up within its 2 s promise once writes are allowed again.
//!
//! Each test makes sessions that expire in the middle of the pause, with
//! somewhere to propagate to (a replica or the AOF), which is what used to
//! crash the server.

mod common;

use common::{
    create, eventually, in_sync, keys, la, master_and_replica, replica_of, sleep_until, Client,
    Options, Server,
};

/// Creates `n` sessions of ttl 10 over a few users; returns the server second
/// from which they are all expired.
fn sessions_expiring_soon(c: &mut Client, n: usize) -> f64 {
    let tokens: Vec<String> = (0..n)
        .map(|i| create(c, "shop", &format!("user{}", i % 7), &["TTL", "10"]))
        .collect();
    // All were created within the same second or the next: the later one
    // decides when all of them are expired.
    let last = tokens.iter().map(|t| la(c, "shop", t)).max().unwrap();
    (last + 11) as f64
}

fn session_hashes(c: &mut Client) -> usize {
    keys(c)
        .iter()
        .filter(|k| k.starts_with("rs:{shop}:") && !k.contains(":_") && !k.contains(":us:"))
        .count()
}

fn assert_clean_log(server: &Server) {
    let log = server.log();
    assert!(
        !log.contains("ASSERTION") && !log.contains("crashed"),
        "the server crashed:\n{log}"
    );
}

#[test]
fn client_pause_write_with_a_replica_holds_the_sweeper_until_the_pause_ends() {
    let (master, replica) = master_and_replica();
    let mut m = master.client();
    let mut r = replica.client();
    let expired_at = sessions_expiring_soon(&mut m, 40);

    sleep_until(&mut m, expired_at - 1.0);
    assert!(m
        .call(&["CLIENT", "PAUSE", "3000", "WRITE"])
        .is_simple("OK"));
    sleep_until(&mut m, expired_at + 1.2);
    assert_eq!(
        session_hashes(&mut m),
        40,
        "nothing may be deleted while writes are paused"
    );

    // The pause ends at expired_at + 2; the 2 s promise counts from there.
    assert!(
        eventually(4, || session_hashes(&mut m) == 0),
        "left after the pause: {:?}",
        keys(&mut m)
    );
    assert_eq!(keys(&mut m), ["rs:{shop}:_users"]);
    assert!(in_sync(&mut m, &mut r));
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));
    assert_clean_log(&master);
}

#[test]
fn client_pause_all_with_the_aof_on_holds_the_sweeper_too() {
    let server = Server::with(Options::default().config("appendonly", "yes"));
    let mut c = server.client();
    let expired_at = sessions_expiring_soon(&mut c, 40);

    sleep_until(&mut c, expired_at - 1.0);
    assert!(c.call(&["CLIENT", "PAUSE", "3000", "ALL"]).is_simple("OK"));
    // A paused server answers no one; this waits for the pause to end.
    let mut other = server.client();
    assert_eq!(other.call(&["PING"]).text(), "PONG");
    assert!(
        eventually(3, || session_hashes(&mut other) == 0),
        "left after the pause: {:?}",
        keys(&mut other)
    );
    assert_clean_log(&server);
}

#[test]
fn shutdown_waiting_for_a_lagging_replica_exits_cleanly() {
    let mut master = Server::with(Options::default().config("shutdown-timeout", "4"));
    let healthy = replica_of(&master, Options::default());
    let lagging = replica_of(&master, Options::default());
    let mut m = master.client();
    let expired_at = sessions_expiring_soon(&mut m, 40);
    assert!(in_sync(&mut m, &mut healthy.client()));

    sleep_until(&mut m, expired_at - 1.0);
    // A write the frozen replica cannot acknowledge: SHUTDOWN now pauses
    // writes and waits for it (up to shutdown-timeout), while the sessions
    // expire.
    lagging.suspend();
    m.call(&["SET", "marker", "1"]);
    // A fresh connection: Redis 7.0.15 itself aborts when SHUTDOWN blocks on
    // a connection whose last blocking command (WAIT above) had a timeout.
    master.client().send_only(&["SHUTDOWN"]);

    let exited = master.wait_exit(15);
    lagging.resume();
    let log = master.log();
    assert!(log.contains("Waiting for replicas"), "{log}");
    assert_eq!(exited, Some(true), "{log}");
    assert!(log.contains("ready to exit, bye bye"), "{log}");
    assert_clean_log(&master);
}

#[test]
fn failover_waiting_for_its_target_holds_the_sweeper_and_resumes_after_the_abort() {
    let (master, replica) = master_and_replica();
    let mut m = master.client();
    let expired_at = sessions_expiring_soon(&mut m, 40);

    sleep_until(&mut m, expired_at - 1.0);
    replica.suspend();
    m.call(&["SET", "marker", "1"]);
    let failover = m.call(&[
        "FAILOVER",
        "TO",
        "127.0.0.1",
        &replica.port.to_string(),
        "TIMEOUT",
        "3000",
    ]);
    assert!(failover.is_simple("OK"), "{failover:?}");
    sleep_until(&mut m, expired_at + 1.2);
    assert_eq!(
        session_hashes(&mut m),
        40,
        "nothing may be deleted while the failover waits"
    );

    // The target never caught up: the failover is aborted at expired_at + 2
    // and the master goes on sweeping.
    assert!(
        eventually(4, || session_hashes(&mut m) == 0),
        "left after the abort: {:?}",
        keys(&mut m)
    );
    let role = m.call(&["ROLE"]).array()[0].text();
    assert_eq!(role, "master");
    replica.resume();
    assert!(in_sync(&mut m, &mut replica.client()));
    assert_eq!(
        replica.client().call(&["DEBUG", "DIGEST"]),
        m.call(&["DEBUG", "DIGEST"])
    );
    assert_clean_log(&master);
}
