//! Redis Cluster: three masters on loopback, built by `redis-cli --cluster
//! create`. A cluster-aware client (redis-rs) runs the whole command set for
//! 50 apps; every command lands on the node that owns its app, and every key
//! of an app sits on that node only.

mod common;

use common::cluster::{build_cluster, cluster_caller, cluster_node, int, text};
use common::Server;
use redis::Value;

#[test]
fn fifty_apps_run_every_command_through_a_cluster_client_and_stay_in_their_slot() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let mut call = cluster_caller(&nodes);

    let apps: Vec<String> = (0..50).map(|i| format!("app{i:02}")).collect();
    for app in &apps {
        let alice = text(&call(&[
            "SESS.CREATE",
            app,
            "alice",
            "10.0.0.1",
            "DATA",
            r#"{"a":1}"#,
        ]));
        let alice2 = text(&call(&[
            "SESS.CREATE",
            app,
            "alice",
            "10.0.0.2",
            "TTL",
            "600",
            "NORESAVE",
        ]));
        let bob = text(&call(&["SESS.CREATE", app, "bob:{x}", "10.0.0.3"]));
        assert!(matches!(
            call(&["SESS.GET", app, &alice]),
            Value::Array(_) | Value::Map(_)
        ));
        assert!(matches!(
            call(&["SESS.SET", app, &bob, r#"{"b":2}"#]),
            Value::Array(_) | Value::Map(_)
        ));
        let Value::Array(soid) = call(&["SESS.SOID", app, "alice"]) else {
            panic!("soid")
        };
        assert_eq!(soid.len(), 2);
        let Value::Array(soapp) = call(&["SESS.SOAPP", app, "60"]) else {
            panic!("soapp")
        };
        assert_eq!(soapp.len(), 3);
        assert_eq!(int(&call(&["SESS.ACTIVITY", app, "60"])), 2);
        assert_eq!(int(&call(&["SESS.KILL", app, &alice2])), 1);
        if app.ends_with('0') {
            assert_eq!(int(&call(&["SESS.KILLALL", app])), 2);
        } else if app.ends_with('1') {
            assert_eq!(int(&call(&["SESS.KILLSOID", app, "alice"])), 1);
        }
    }

    let mut apps_seen_per_node = vec![0; nodes.len()];
    for app in &apps {
        let slot = nodes[0].client().call(&["CLUSTER", "KEYSLOT", app]).int();
        let pattern = format!("rs:{{{app}}}:*");
        let mut holders = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let mut c = node.client();
            let found = c.call(&["KEYS", &pattern]).strings();
            let owns = c
                .call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
                .int() as usize
                == found.len()
                && !found.is_empty();
            // A kill leaves its record for a pass or two of the keyspace
            // scan (tests/hostile_data.rs): in the slot, but no session.
            if found.iter().any(|k| !k.ends_with(":_kills")) {
                holders.push(i);
                assert!(owns, "{app}: keys outside slot {slot} on node {i}");
            }
        }
        if app.ends_with('0') {
            assert!(holders.is_empty(), "{app} was killed entirely");
        } else {
            assert_eq!(holders.len(), 1, "{app} keys on nodes {holders:?}");
            apps_seen_per_node[holders[0]] += 1;
        }
    }
    assert!(
        apps_seen_per_node.iter().all(|&n| n > 0),
        "apps spread over every node: {apps_seen_per_node:?}"
    );
}

#[test]
fn a_node_that_does_not_own_the_app_redirects_the_command() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let replies: Vec<String> = nodes
        .iter()
        .map(
            |n| match n.client().call(&["SESS.ACTIVITY", "someapp", "60"]) {
                common::Reply::Error(e) => e,
                other => format!("{other:?}"),
            },
        )
        .collect();
    assert_eq!(
        replies.iter().filter(|r| r.starts_with("MOVED ")).count(),
        2,
        "{replies:?}"
    );
    assert_eq!(
        replies.iter().filter(|r| *r == "Int(0)").count(),
        1,
        "{replies:?}"
    );
}

/// The command filter that routes SESS.* commands by their real key (see
/// tests/resharding.rs) also runs for commands queued in MULTI, called from
/// a Lua script or re-processed after a CLIENT PAUSE, and MONITOR never
/// shows a token, not even inside the routing key.
#[test]
fn commands_work_in_transactions_scripts_and_after_a_pause_on_the_owning_node() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let owner = common::cluster::owner_of(&nodes, common::cluster::key_slot(&nodes[0], "shop"));
    let mut c = nodes[owner].client();
    let token = common::create(&mut c, "shop", "alice", &[]);

    c.call(&["MULTI"]);
    c.call(&["SESS.GET", "shop", &token]);
    c.call(&["SESS.SOID", "shop", "alice"]);
    let done = c.call(&["EXEC"]).array();
    assert_eq!(done[0].field("id").unwrap().text(), "alice", "{done:?}");
    assert_eq!(done[1].array().len(), 1, "{done:?}");

    let script = "return redis.call('SESS.PEEK', KEYS[1], ARGV[1])";
    let peek = c.call(&["EVAL", script, "1", "shop", &token]);
    assert_eq!(peek.field("r").unwrap().int(), 2, "{peek:?}");

    // A write postponed by CLIENT PAUSE WRITE is filtered again when it runs
    // (Redis 7.0): it must still find its arguments where they belong.
    let mut admin = nodes[owner].client();
    admin.call(&["CLIENT", "PAUSE", "300", "WRITE"]);
    let started = std::time::Instant::now();
    let got = c.call(&["SESS.GET", "shop", &token]);
    assert!(
        started.elapsed().as_millis() >= 200,
        "the GET was not paused"
    );
    assert_eq!(got.field("r").unwrap().int(), 2, "{got:?}");

    let mut monitor = nodes[owner].client();
    monitor.call(&["MONITOR"]);
    c.call(&["SESS.GET", "shop", &token]);
    c.call(&["PING"]);
    let mut seen = String::new();
    while !seen.contains("PING") && !seen.contains("ping") {
        seen.push_str(&format!("{:?}\n", monitor.read()));
    }
    assert!(seen.to_lowercase().contains("sess.get"), "{seen}");
    assert!(!seen.contains(&token), "MONITOR showed the token: {seen}");
}

#[test]
fn each_session_event_is_announced_exactly_once_by_the_node_that_owns_the_app() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let mut listeners: Vec<common::Client> = nodes
        .iter()
        .map(|n| {
            let mut c = n.client();
            c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kd"]);
            c.send_only(&["PSUBSCRIBE", "__keyspace@0__:rs:*"]);
            c.read().expect("psubscribe");
            c
        })
        .collect();
    let mut call = cluster_caller(&nodes);

    // Per app: 2 created, 1 rotated, 1 killed by KILL, 1 killed by KILLALL.
    let apps: Vec<String> = (0..30).map(|i| format!("app{i:02}")).collect();
    for app in &apps {
        let a = text(&call(&["SESS.CREATE", app, "alice", "10.0.0.1"]));
        let b = text(&call(&["SESS.CREATE", app, "alice", "10.0.0.1"]));
        let rotated = text(&call(&["SESS.ROTATE", app, &a]));
        assert_eq!(int(&call(&["SESS.KILL", app, &b])), 1);
        assert_eq!(int(&call(&["SESS.KILLALL", app])), 1);
        assert!(!rotated.is_empty());
    }

    let mut seen: std::collections::BTreeMap<(String, String), Vec<u16>> = Default::default();
    for (node, listener) in nodes.iter().zip(listeners.iter_mut()) {
        // Everything was announced before the commands replied; a PING on
        // a subscribed connection marks the end of what this node sent.
        listener.send_only(&["PING"]);
        loop {
            let message = listener.read().expect("notification").array();
            if message[0].text().eq_ignore_ascii_case("pong") {
                break;
            }
            let channel = message[2].text();
            let app = channel
                .split('{')
                .nth(1)
                .unwrap()
                .split('}')
                .next()
                .unwrap()
                .to_string();
            seen.entry((app, message[3].text()))
                .or_default()
                .push(node.port);
        }
    }
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    for app in &apps {
        let owner = seen[&(app.clone(), "sess.created".into())][0];
        assert!(ports.contains(&owner));
        for (event, times) in [("sess.created", 2), ("sess.rotated", 1), ("sess.killed", 2)] {
            assert_eq!(
                seen.get(&(app.clone(), event.to_string())),
                Some(&vec![owner; times]),
                "{app} {event}"
            );
        }
    }
    assert_eq!(seen.len(), apps.len() * 3, "unexpected events: {seen:?}");
}

#[test]
fn big_kills_through_a_cluster_client_count_every_session_and_free_them() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let mut call = cluster_caller(&nodes);
    // Over 1,000 sessions each: both kills go through a graveyard.
    for i in 0..1100 {
        call(&["SESS.CREATE", "big", "whale", "10.0.0.1"]);
        call(&["SESS.CREATE", "big", &format!("u{}", i % 300), "10.0.0.1"]);
    }
    let kept = text(&call(&["SESS.CREATE", "big", "whale", "10.0.0.2"]));
    assert_eq!(
        int(&call(&["SESS.KILLSOID", "big", "whale", "EXCEPT", &kept])),
        1100
    );
    assert_eq!(int(&call(&["SESS.ACTIVITY", "big", "60"])), 301);
    assert_eq!(int(&call(&["SESS.KILLALL", "big"])), 1101);
    for node in &nodes {
        assert!(
            node.client()
                .call(&["KEYS", "rs:{big}:*"])
                .strings()
                .iter()
                .all(|k| k == "rs:{big}:_kills"),
            "keys left on port {}",
            node.port
        );
    }
}

#[test]
fn the_import_of_redis_sessions_data_is_refused_in_cluster_mode() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    let slot = common::cluster::key_slot(&nodes[0], "shop");
    let mut c = nodes[common::cluster::owner_of(&nodes, slot)].client();
    let set = c.call(&["CONFIG", "SET", "sess.import-namespace", "rs"]);
    assert!(set.err().contains("cluster mode"), "{set:?}");
    let import = c.call(&["SESS.IMPORT", "shop"]);
    assert!(import.err().contains("cluster mode"), "{import:?}");
    let refused = Server::try_with(
        common::Options::default()
            .config("cluster-enabled", "yes")
            .module_arg("import-namespace", "rs"),
    );
    assert!(
        refused.is_err(),
        "loaded with an import namespace in cluster mode"
    );
}
