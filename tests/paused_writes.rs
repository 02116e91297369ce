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
    create, eventually, in_sync, keys, la, master_and_replica, replica_of, session_hashes,
    sessions_expiring_soon, sleep_until, Options, Server,
};

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
    let (_, expired_at) = sessions_expiring_soon(&mut m, 40);

    sleep_until(&mut m, expired_at - 1.0);
    assert!(m
        .call(&["CLIENT", "PAUSE", "3000", "WRITE"])
        .is_simple("OK"));
    sleep_until(&mut m, expired_at + 1.2);
    assert_eq!(
        session_hashes(&mut m).len(),
        40,
        "nothing may be deleted while writes are paused"
    );

    // The pause ends at expired_at + 2; the 2 s promise counts from there.
    assert!(
        eventually(4, || session_hashes(&mut m).is_empty()),
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
    let (_, expired_at) = sessions_expiring_soon(&mut c, 40);

    sleep_until(&mut c, expired_at - 1.0);
    assert!(c.call(&["CLIENT", "PAUSE", "3000", "ALL"]).is_simple("OK"));
    // A paused server answers no one; this waits for the pause to end.
    let mut other = server.client();
    assert_eq!(other.call(&["PING"]).text(), "PONG");
    assert!(
        eventually(3, || session_hashes(&mut other).is_empty()),
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
    let (_, expired_at) = sessions_expiring_soon(&mut m, 40);
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
    let (_, expired_at) = sessions_expiring_soon(&mut m, 40);

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
        session_hashes(&mut m).len(),
        40,
        "nothing may be deleted while the failover waits"
    );

    // The target never caught up: the failover is aborted at expired_at + 2
    // and the master goes on sweeping.
    assert!(
        eventually(4, || session_hashes(&mut m).is_empty()),
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

fn cluster_node() -> Server {
    Server::with(
        Options::default()
            .module_arg("sweep-batch", "10")
            .config("cluster-enabled", "yes")
            .config("cluster-config-file", "nodes.conf")
            .config("cluster-node-timeout", "5000"),
    )
}

fn node_id(node: &Server) -> String {
    node.client().call(&["CLUSTER", "MYID"]).text()
}

fn role(node: &Server) -> String {
    node.client().call(&["ROLE"]).array()[0].text()
}

#[test]
fn cluster_failover_in_the_middle_of_a_sweep_backlog_hands_over_cleanly() {
    // One master owning every slot, and its replica.
    let master = cluster_node();
    let replica = cluster_node();
    let mut m = master.client();
    assert!(m
        .call(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
        .is_simple("OK"));
    let mut r = replica.client();
    r.call(&["CLUSTER", "MEET", "127.0.0.1", &master.port.to_string()]);
    let master_id = node_id(&master);
    assert!(eventually(20, || r
        .call(&["CLUSTER", "REPLICATE", &master_id])
        .is_simple("OK")));
    assert!(eventually(20, || r
        .call(&["INFO", "replication"])
        .text()
        .contains("master_link_status:up")));
    assert!(eventually(20, || m
        .call(&["CLUSTER", "INFO"])
        .text()
        .contains("cluster_state:ok")));

    // 40,000 sessions expiring within a few seconds, swept 10 per step, one
    // step per millisecond: the sweeper works without a pause for about 4 s.
    let creates: Vec<Vec<String>> = (0..40_000)
        .map(|i| {
            [
                "SESS.CREATE",
                "shop",
                &format!("u{}", i % 50),
                "10.0.0.1",
                "TTL",
                "10",
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    let first_token = create(&mut m, "shop", "first", &["TTL", "10"]);
    let first = la(&mut m, "shop", &first_token);
    for chunk in creates.chunks(1000) {
        m.pipeline(chunk);
    }
    let expired_at = (first + 11) as f64;

    // A manual failover pauses the master's writes while the replica
    // catches up, right in the middle of the backlog.
    sleep_until(&mut m, expired_at + 1.0);
    let left_at_failover = session_hashes(&mut m).len();
    // At most about 10,000 can have been swept by now.
    assert!(left_at_failover > 10_000, "no backlog: {left_at_failover}");
    assert!(r.call(&["CLUSTER", "FAILOVER"]).is_simple("OK"));
    assert!(
        eventually(20, || role(&replica) == "master"
            && role(&master) == "slave"),
        "the failover did not complete:\n{}",
        master.log()
    );
    assert!(master.log().contains("Manual failover requested"));
    assert!(master.is_alive());
    assert_clean_log(&master);

    // The new master finishes the sweep; the old one follows it.
    assert!(
        eventually(10, || session_hashes(&mut r).is_empty()),
        "left on the new master: {}",
        session_hashes(&mut r).len()
    );
    assert!(in_sync(&mut r, &mut m));
    assert_eq!(m.call(&["DEBUG", "DIGEST"]), r.call(&["DEBUG", "DIGEST"]));
}
