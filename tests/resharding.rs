//! Slot migration of a live app, both kinds.
//!
//! Legacy resharding of a live app: the slot of an app with 2,000 sessions
//! moves from node A to node B with the steps `redis-cli --cluster reshard`
//! takes (SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT + MIGRATE in batches of
//! 10, SETSLOT NODE), slowed down so that traffic overlaps every phase; then
//! from B to C with `redis-cli --cluster reshard` itself. Meanwhile cluster
//! clients GET, SET, CREATE, KILL and SOID without pause. Afterwards every
//! acknowledged write is checked, no key is left behind, and short sessions
//! expire on the new owner.

//!
//! Atomic slot migration (Valkey 9, `CLUSTER MIGRATESLOTS`) of the same
//! workload, on servers that have it: the module declares support, the
//! traffic sees no error and no wrong answer, and the new owner holds and
//! expires every session while the old one keeps none.

mod common;

use std::process::Command;
use std::thread;
use std::time::Duration;

use common::cluster::{build_cluster, cluster_node, key_slot, keys_in_slot, node_id, owner_of};
use common::traffic::Workload;
use common::{eventually, Reply, Server};

/// A cluster of three nodes and an app of the node that owns slot 0, with
/// a slot before the range of the node that owns slot 8000.
fn cluster_with_app() -> (Vec<Server>, String, i64) {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let a = owner_of(&nodes, 0);
    let app = (0..)
        .map(|i| format!("shop{i}"))
        .find(|name| {
            let slot = key_slot(&nodes[a], name);
            slot < 5000 && owner_of(&nodes, slot) == a
        })
        .unwrap();
    let slot = key_slot(&nodes[a], &app);
    (nodes, app, slot)
}

/// The first step of a legacy move of `slot` from `from` to `to`, as
/// `redis-cli --cluster reshard` takes it: IMPORTING on the target, then
/// MIGRATING on the source.
fn start_move(from: &Server, to: &Server, slot: &str) {
    let (id_from, id_to) = (node_id(from), node_id(to));
    let importing = to
        .client()
        .call(&["CLUSTER", "SETSLOT", slot, "IMPORTING", &id_from]);
    assert_eq!(importing.text(), "OK");
    let migrating = from
        .client()
        .call(&["CLUSTER", "SETSLOT", slot, "MIGRATING", &id_to]);
    assert_eq!(migrating.text(), "OK");
}

/// MIGRATEs `keys` from the node of `from` to the node listening on `port`.
fn migrate(from: &mut common::Client, port: &str, keys: &[String]) -> Reply {
    let mut args = vec!["MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS"];
    args.extend(keys.iter().map(String::as_str));
    from.call(&args)
}

/// Up to `count` keys of `slot` still on the node of `from`.
fn keys_left(from: &mut common::Client, slot: &str, count: &str) -> Vec<String> {
    from.call(&["CLUSTER", "GETKEYSINSLOT", slot, count])
        .strings()
}

#[test]
fn an_app_moves_twice_under_traffic_without_a_wrong_answer_or_a_lost_write() {
    let (nodes, app, slot) = cluster_with_app();
    let a = owner_of(&nodes, 0);
    let b = owner_of(&nodes, 8000);
    let c = owner_of(&nodes, 16000);

    let load = Workload::create(&nodes, &app);
    let traffic = load.start(&nodes);

    // Move 1, A -> B, step by step as redis-cli does, slowly.
    thread::sleep(Duration::from_millis(500));
    let (id_b, id_c) = (node_id(&nodes[b]), node_id(&nodes[c]));
    let s = slot.to_string();
    let mut ca = nodes[a].client();
    start_move(&nodes[a], &nodes[b], &s);
    let port = nodes[b].port.to_string();
    let mut batches = 0;
    loop {
        let keys = keys_left(&mut ca, &s, "10");
        if keys.is_empty() {
            break;
        }
        let reply = migrate(&mut ca, &port, &keys);
        assert!(
            matches!(&reply, Reply::Simple(s) if s == "OK" || s == "NOKEY"),
            "MIGRATE failed after {batches} batches: {reply:?}"
        );
        batches += 1;
        assert!(
            batches < 2000,
            "the slot never emptied: traffic outran the migration"
        );
        thread::sleep(Duration::from_millis(20));
    }
    for node in [&nodes[b], &nodes[a], &nodes[c]] {
        assert_eq!(
            node.client()
                .call(&["CLUSTER", "SETSLOT", &s, "NODE", &id_b])
                .text(),
            "OK"
        );
    }
    assert!(
        batches > 100,
        "the move took {batches} batches: too few to overlap traffic"
    );

    // Move 2, B -> C, by redis-cli --cluster reshard itself.
    let entry = format!("127.0.0.1:{}", nodes[b].port);
    assert!(
        eventually(20, || Command::new("redis-cli")
            .args(["--cluster", "check", &entry])
            .output()
            .is_ok_and(
                |o| o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("[ERR]")
            )),
        "the cluster did not agree after the first move"
    );
    thread::sleep(Duration::from_millis(500));
    let out = Command::new("redis-cli")
        .args([
            "--cluster",
            "reshard",
            &entry,
            "--cluster-from",
            &id_b,
            "--cluster-to",
            &id_c,
        ])
        .args(["--cluster-slots", "1", "--cluster-yes"])
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !log.contains("ERR"),
        "reshard failed:\n{log}"
    );
    assert_eq!(
        owner_of(&nodes, slot),
        c,
        "reshard moved another slot:\n{log}"
    );
    thread::sleep(Duration::from_millis(1000));
    let seen = traffic.stop();
    eprintln!("{batches} MIGRATE batches by hand");
    load.check(&nodes, &seen, &nodes[c]);
    assert_eq!(keys_in_slot(&nodes[a], slot), 0, "keys left on A");
    assert_eq!(keys_in_slot(&nodes[b], slot), 0, "keys left on B");
    assert!(keys_in_slot(&nodes[c], slot) > 1000);
}

#[test]
fn atomic_slot_migration_moves_an_app_under_traffic() {
    let probe = Server::start();
    let version = probe.client().call(&["INFO", "server"]).text();
    let valkey_major = version
        .lines()
        .find_map(|l| l.strip_prefix("valkey_version:"))
        .and_then(|v| v.split('.').next()?.trim().parse::<u32>().ok());
    drop(probe);
    if valkey_major.is_none_or(|major| major < 9) {
        eprintln!("skipped: this server has no CLUSTER MIGRATESLOTS (Valkey 9+)");
        return;
    }
    let (nodes, app, slot) = cluster_with_app();
    let a = owner_of(&nodes, 0);
    let b = owner_of(&nodes, 8000);
    let load = Workload::create(&nodes, &app);
    let traffic = load.start(&nodes);
    thread::sleep(Duration::from_millis(500));

    let s = slot.to_string();
    let mut ca = nodes[a].client();
    let started = ca.call(&[
        "CLUSTER",
        "MIGRATESLOTS",
        "SLOTSRANGE",
        &s,
        &s,
        "NODE",
        &node_id(&nodes[b]),
    ]);
    assert!(
        matches!(&started, Reply::Simple(ok) if ok == "OK"),
        "MIGRATESLOTS: {started:?}"
    );
    let mut state = String::new();
    let done = eventually(30, || {
        let jobs = ca.call(&["CLUSTER", "GETSLOTMIGRATIONS"]).array();
        state = jobs
            .last()
            .map(|job| {
                let fields = job.array();
                let at = fields
                    .iter()
                    .position(|f| matches!(f, Reply::Bulk(b) if b == b"state"));
                at.map(|i| fields[i + 1].text()).unwrap_or_default()
            })
            .unwrap_or_default();
        state == "success" || state == "failed" || state == "cancelled"
    });
    assert!(
        done && state == "success",
        "the migration ended as {state:?}"
    );
    assert_eq!(owner_of(&nodes, slot), b);
    thread::sleep(Duration::from_millis(1000));
    let seen = traffic.stop();
    load.check(&nodes, &seen, &nodes[b]);
    assert!(
        eventually(10, || keys_in_slot(&nodes[a], slot) == 0),
        "the old owner kept keys of the slot"
    );
    assert!(keys_in_slot(&nodes[b], slot) > 1000);
}

#[test]
fn a_kill_while_the_kill_record_has_moved_answers_tryagain_and_the_move_completes() {
    let (nodes, app, slot) = cluster_with_app();
    let a = owner_of(&nodes, 0);
    let b = owner_of(&nodes, 8000);
    let (mut ca, mut cb) = (nodes[a].client(), nodes[b].client());
    for id in ["alice", "bob"] {
        let created = ca.call(&["SESS.CREATE", &app, id, "10.0.0.1"]);
        assert!(!created.is_error(), "{created:?}");
    }
    assert_eq!(ca.call(&["SESS.KILLSOID", &app, "alice"]).int(), 1);
    let kills = format!("rs:{{{app}}}:_kills");
    assert_eq!(ca.call(&["EXISTS", &kills]).int(), 1);

    let s = slot.to_string();
    start_move(&nodes[a], &nodes[b], &s);
    let port = nodes[b].port.to_string();
    let moved = migrate(&mut ca, &port, std::slice::from_ref(&kills));
    assert!(moved.is_simple("OK"), "{moved:?}");

    // Writing a new record here would collide with the moved one.
    let refused = ca.call(&["SESS.KILLSOID", &app, "bob"]);
    assert!(refused.err().starts_with("TRYAGAIN"), "{refused:?}");
    let left_here = keys_left(&mut ca, &s, "1000");
    assert!(!left_here.contains(&kills), "{left_here:?}");

    loop {
        let keys = keys_left(&mut ca, &s, "100");
        if keys.is_empty() {
            break;
        }
        let reply = migrate(&mut ca, &port, &keys);
        assert!(reply.is_simple("OK"), "MIGRATE failed: {reply:?}");
    }
    let id_b = node_id(&nodes[b]);
    for node in &nodes {
        node.client()
            .call(&["CLUSTER", "SETSLOT", &s, "NODE", &id_b]);
    }
    assert_eq!(cb.call(&["SESS.KILLSOID", &app, "bob"]).int(), 1);
    assert_eq!(keys_in_slot(&nodes[a], slot), 0);
}
