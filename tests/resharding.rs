//! Legacy resharding of a live app: the slot of an app with 1,500 sessions
//! moves from node A to node B with the steps `redis-cli --cluster reshard`
//! takes (SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT + MIGRATE in batches of
//! 10, SETSLOT NODE), slowed down so that traffic overlaps every phase; then
//! from B to C with `redis-cli --cluster reshard` itself. Meanwhile cluster
//! clients GET, SET, CREATE, KILL and SOID without pause. Afterwards every
//! acknowledged write is checked, no key is left behind, and short sessions
//! expire on the new owner.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::cluster::{
    build_cluster, cluster_connection, cluster_node, key_slot, keys_in_slot, node_id, owner_of,
};
use common::{eventually, Reply, Server};
use redis::Value;

const USERS: usize = 300;
const READ_POOL: usize = 1000;
const SET_POOL: usize = 200;
const KILL_POOL: usize = 300;

/// What the traffic saw; every list must stay empty.
#[derive(Default)]
struct Seen {
    wrong: Vec<String>,
    errors: Vec<String>,
    acked_sets: HashMap<String, i64>,
    created: Vec<String>,
    killed: Vec<String>,
    calls: usize,
}

fn query(con: &mut redis::cluster::ClusterConnection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con)
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// The flat field/value reply of GET or SET as pairs.
fn field(v: &Value, name: &str) -> Option<String> {
    let Value::Array(items) = v else { return None };
    items
        .chunks(2)
        .find(|pair| text(&pair[0]) == name)
        .map(|pair| match &pair[1] {
            Value::Int(n) => n.to_string(),
            other => text(other),
        })
}

#[test]
fn an_app_moves_twice_under_traffic_without_a_wrong_answer_or_a_lost_write() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let a = owner_of(&nodes, 0);
    let b = owner_of(&nodes, 8000);
    let c = owner_of(&nodes, 16000);
    // An app of A whose slot comes before B's range, so that the reshard
    // of one slot from B to C picks it (redis-cli takes a node's lowest).
    let app = (0..)
        .map(|i| format!("shop{i}"))
        .find(|name| {
            let slot = key_slot(&nodes[a], name);
            slot < 5000 && owner_of(&nodes, slot) == a
        })
        .unwrap();
    let slot = key_slot(&nodes[a], &app);

    let mut con = cluster_connection(&nodes);
    let mut tokens = Vec::new();
    let mut owner = Vec::new();
    for i in 0..READ_POOL + SET_POOL + KILL_POOL {
        let user = format!("u{}", i % USERS);
        let token = text(
            &query(
                &mut con,
                &["SESS.CREATE", &app, &user, "10.0.0.1", "TTL", "3600"],
            )
            .unwrap(),
        );
        tokens.push(token);
        owner.push(user);
    }
    let short: Vec<String> = (0..30)
        .map(|i| {
            let user = format!("short{i}");
            text(
                &query(
                    &mut con,
                    &["SESS.CREATE", &app, &user, "10.0.0.2", "TTL", "10"],
                )
                .unwrap(),
            )
        })
        .collect();
    let tokens = Arc::new(tokens);
    let owner = Arc::new(owner);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for role in ["get", "get", "set", "create", "kill", "soid"] {
        let (nodes_ports, tokens, owner, seen, stop, app) = (
            nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
            tokens.clone(),
            owner.clone(),
            seen.clone(),
            stop.clone(),
            app.clone(),
        );
        workers.push(thread::spawn(move || {
            let urls: Vec<String> = nodes_ports
                .iter()
                .map(|p| format!("redis://127.0.0.1:{p}/"))
                .collect();
            let mut con = redis::cluster::ClusterClient::builder(urls)
                .retries(40)
                .build()
                .unwrap()
                .get_connection()
                .unwrap();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let outcome: Result<(), String> = match role {
                    "get" => {
                        let k = (i * 7919 + if role == "get" { 0 } else { 1 }) % READ_POOL;
                        match query(&mut con, &["SESS.GET", &app, &tokens[k]]) {
                            Ok(Value::Nil) => {
                                Err(format!("wrong: GET of live session {k} answered nil"))
                            }
                            Ok(v) if field(&v, "id").as_deref() != Some(owner[k].as_str()) => {
                                Err(format!("wrong: GET {k} answered {v:?}"))
                            }
                            Ok(_) => Ok(()),
                            Err(e) => Err(format!("error: GET: {e}")),
                        }
                    }
                    "set" => {
                        let k = READ_POOL + i % SET_POOL;
                        let json = format!(r#"{{"n":{i}}}"#);
                        match query(&mut con, &["SESS.SET", &app, &tokens[k], &json]) {
                            Ok(Value::Nil) => {
                                Err(format!("wrong: SET of live session {k} answered nil"))
                            }
                            Ok(_) => {
                                seen.lock()
                                    .unwrap()
                                    .acked_sets
                                    .insert(tokens[k].clone(), i as i64);
                                Ok(())
                            }
                            Err(e) => Err(format!("error: SET: {e}")),
                        }
                    }
                    "create" => {
                        // New users and users that already have sessions.
                        let user = if i.is_multiple_of(2) {
                            format!("new{i}")
                        } else {
                            format!("u{}", i % USERS)
                        };
                        // Slow, as real sign-ins are: the migration must catch up.
                        thread::sleep(Duration::from_millis(5));
                        match query(
                            &mut con,
                            &["SESS.CREATE", &app, &user, "10.0.0.3", "TTL", "3600"],
                        ) {
                            Ok(Value::BulkString(t)) => {
                                seen.lock()
                                    .unwrap()
                                    .created
                                    .push(String::from_utf8(t).unwrap());
                                Ok(())
                            }
                            Ok(v) => Err(format!("wrong: CREATE answered {v:?}")),
                            Err(e) => Err(format!("error: CREATE: {e}")),
                        }
                    }
                    "kill" => {
                        if i > KILL_POOL {
                            thread::sleep(Duration::from_millis(5));
                            Ok(())
                        } else {
                            let k = READ_POOL + SET_POOL + i - 1;
                            match query(&mut con, &["SESS.KILL", &app, &tokens[k]]) {
                                Ok(Value::Int(1)) => {
                                    seen.lock().unwrap().killed.push(tokens[k].clone());
                                    thread::sleep(Duration::from_millis(10));
                                    Ok(())
                                }
                                Ok(v) => {
                                    Err(format!("wrong: KILL of live session {k} answered {v:?}"))
                                }
                                Err(e) => Err(format!("error: KILL: {e}")),
                            }
                        }
                    }
                    _ => {
                        // Every read-pool session of the user is listed.
                        let user = format!("u{}", i % USERS);
                        match query(&mut con, &["SESS.SOID", &app, &user]) {
                            Ok(Value::Array(entries)) => {
                                let listed: Vec<String> =
                                    entries.iter().filter_map(|e| field(e, "token")).collect();
                                let missing = (0..READ_POOL)
                                    .filter(|k| owner[*k] == user && !listed.contains(&tokens[*k]))
                                    .count();
                                if missing == 0 {
                                    Ok(())
                                } else {
                                    Err(format!(
                                        "wrong: SOID {user} misses {missing} live sessions"
                                    ))
                                }
                            }
                            Ok(v) => Err(format!("wrong: SOID answered {v:?}")),
                            Err(e) => Err(format!("error: SOID: {e}")),
                        }
                    }
                };
                let mut seen = seen.lock().unwrap();
                seen.calls += 1;
                match outcome {
                    Ok(()) => {}
                    Err(e) if e.starts_with("wrong") => seen.wrong.push(e),
                    Err(e) => seen.errors.push(e),
                }
            }
        }));
    }

    // Move 1, A -> B, step by step as redis-cli does, slowly.
    thread::sleep(Duration::from_millis(500));
    let (id_a, id_b, id_c) = (node_id(&nodes[a]), node_id(&nodes[b]), node_id(&nodes[c]));
    let s = slot.to_string();
    let mut ca = nodes[a].client();
    let mut cb = nodes[b].client();
    assert_eq!(
        cb.call(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &id_a])
            .text(),
        "OK"
    );
    assert_eq!(
        ca.call(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &id_b])
            .text(),
        "OK"
    );
    let mut batches = 0;
    loop {
        let keys: Vec<String> = ca
            .call(&["CLUSTER", "GETKEYSINSLOT", &s, "10"])
            .array()
            .iter()
            .map(|k| k.text())
            .collect();
        if keys.is_empty() {
            break;
        }
        let port = nodes[b].port.to_string();
        let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
        args.extend(keys.iter().map(String::as_str));
        let reply = ca.call(&args);
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
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }

    let seen = seen.lock().unwrap();
    eprintln!(
        "{} calls during the moves ({batches} MIGRATE batches by hand): {} sessions SET, {} CREATEs, {} KILLs acknowledged",
        seen.calls,
        seen.acked_sets.len(),
        seen.created.len(),
        seen.killed.len()
    );
    assert!(
        seen.calls > 1000,
        "only {} calls overlapped the moves",
        seen.calls
    );
    assert!(
        seen.wrong.is_empty(),
        "{} wrong answers, first: {:?}",
        seen.wrong.len(),
        &seen.wrong[..seen.wrong.len().min(5)]
    );
    assert!(
        seen.errors.is_empty(),
        "{} errors, first: {:?}",
        seen.errors.len(),
        &seen.errors[..seen.errors.len().min(5)]
    );
    assert!(seen.created.len() > 20 && seen.killed.len() > 20 && seen.acked_sets.len() > 20);

    // Every acknowledged write holds on the new owner.
    for (k, token) in tokens.iter().enumerate().take(READ_POOL) {
        let v = query(&mut con, &["SESS.PEEK", &app, token]).unwrap();
        assert_eq!(
            field(&v, "id").as_deref(),
            Some(owner[k].as_str()),
            "read-pool session {k} lost"
        );
    }
    for (token, n) in &seen.acked_sets {
        let v = query(&mut con, &["SESS.PEEK", &app, token]).unwrap();
        assert_eq!(
            field(&v, "d"),
            Some(format!(r#"{{"n":{n}}}"#)),
            "an acknowledged SET was lost"
        );
    }
    for token in &seen.created {
        assert_ne!(
            query(&mut con, &["SESS.PEEK", &app, token]).unwrap(),
            Value::Nil,
            "a created session was lost"
        );
    }
    for token in &seen.killed {
        assert_eq!(
            query(&mut con, &["SESS.PEEK", &app, token]).unwrap(),
            Value::Nil,
            "a killed session came back"
        );
    }
    assert_eq!(keys_in_slot(&nodes[a], slot), 0, "keys left on A");
    assert_eq!(keys_in_slot(&nodes[b], slot), 0, "keys left on B");
    assert!(keys_in_slot(&nodes[c], slot) > 1000);

    // The new owner's sweeper removes the short sessions with their indexes.
    let mut cc = nodes[c].client();
    let gone = eventually(30, || {
        short.iter().enumerate().all(|(i, token)| {
            cc.call(&[
                "EXISTS",
                &format!("rs:{{{app}}}:{token}"),
                &format!("rs:{{{app}}}:us:short{i}"),
            ])
            .int()
                == 0
        })
    });
    assert!(gone, "short sessions were not swept on the new owner");
}
