//! Replication by effects: a replica, even one without the module, ends up
//! with exactly the master's keys, values and expiry state after a mixed
//! workload, and a promoted replica takes over the sweeping.

mod common;

use std::time::Duration;

use common::wait_for_link;
use common::{
    create, eventually, in_sync, info_field, keys, master_and_replica, Client, Options, Reply,
    Server,
};

/// Everything about a key that a user could observe.
fn dump(c: &mut Client, key: &str) -> String {
    let kind = c.call(&["TYPE", key]).text();
    let value = match kind.as_str() {
        "hash" => {
            let mut pairs: Vec<String> = c
                .call(&["HGETALL", key])
                .pairs()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.text()))
                .collect();
            pairs.sort();
            pairs.join(",")
        }
        "zset" => format!("{:?}", c.call(&["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        other => other.to_string(),
    };
    let ttl = c.call(&["PEXPIRETIME", key]).int();
    format!("{key} {kind} {value} expire={ttl}")
}

fn dataset(c: &mut Client) -> Vec<String> {
    keys(c).iter().map(|k| dump(c, k)).collect()
}

fn mixed_workload(c: &mut Client) -> Vec<String> {
    let mut short_lived = Vec::new();
    for app in ["shop", "blog"] {
        for user in ["u1", "u:2", "ü3 {x}"] {
            create(c, app, user, &["DATA", r#"{"cart":1,"theme":"dark"}"#]);
            let t = create(c, app, user, &["TTL", "300", "NORESAVE"]);
            c.call(&["SESS.GET", app, &t]);
            c.call(&["SESS.SET", app, &t, r#"{"cart":null,"n":2}"#]);
            let doomed = create(c, app, user, &[]);
            assert_eq!(c.call(&["SESS.KILL", app, &doomed]).int(), 1);
            short_lived.push(create(c, app, user, &["TTL", "10"]));
        }
        create(c, app, "leaver", &[]);
        assert_eq!(c.call(&["SESS.KILLSOID", app, "leaver"]).int(), 1);
    }
    create(c, "temp", "x", &[]);
    assert_eq!(c.call(&["SESS.KILLALL", "temp"]).int(), 1);
    short_lived
}

#[test]
fn a_replica_without_the_module_holds_exactly_the_masters_data() {
    let master = Server::start();
    let replica = Server::with(
        Options::default()
            .without_module()
            .config("replicaof", &format!("127.0.0.1 {}", master.port)),
    );
    wait_for_link(&replica);
    let mut m = master.client();
    let mut r = replica.client();

    let short_lived = mixed_workload(&mut m);
    // The sweeper's deletions must reach the replica too.
    assert!(eventually(20, || short_lived.iter().all(|t| m
        .call(&["EXISTS", &format!("rs:{{shop}}:{t}")])
        .int()
        == 0
        && m.call(&["EXISTS", &format!("rs:{{blog}}:{t}")]).int() == 0)));
    assert!(in_sync(&mut m, &mut r));

    let master_data = dataset(&mut m);
    assert!(master_data.len() > 10, "{master_data:?}");
    assert_eq!(dataset(&mut r), master_data);
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), m.call(&["DEBUG", "DIGEST"]));

    let stats = r.call(&["INFO", "commandstats"]).text().to_lowercase();
    assert!(
        !stats.contains("cmdstat_sess."),
        "the replica received SESS.* commands:\n{stats}"
    );
    assert!(
        stats.contains("cmdstat_hset")
            && stats.contains("cmdstat_zadd")
            && stats.contains("cmdstat_del")
    );
    assert!(
        !replica.log().contains("Unknown command"),
        "{}",
        replica.log()
    );
}

#[test]
fn write_commands_are_refused_on_a_replica_and_reads_work() {
    let (master, replica) = master_and_replica();
    let mut m = master.client();
    let mut r = replica.client();
    let token = create(&mut m, "shop", "u", &[]);
    assert!(in_sync(&mut m, &mut r));
    let refused = r.call(&["SESS.GET", "shop", &token]);
    assert!(refused.err().starts_with("READONLY"), "{refused:?}");
    assert_eq!(r.call(&["SESS.SOID", "shop", "u"]).array().len(), 1);
    assert_eq!(r.call(&["SESS.ACTIVITY", "shop", "60"]).int(), 1);
}

#[test]
fn a_promoted_replica_sweeps_sessions_created_on_the_old_master() {
    let (master, replica) = master_and_replica();
    let mut m = master.client();
    let mut r = replica.client();
    let token = create(&mut m, "shop", "u", &["TTL", "10"]);
    assert!(in_sync(&mut m, &mut r));
    let la: i64 = r
        .call(&["HGET", &format!("rs:{{shop}}:{token}"), "la"])
        .text()
        .parse()
        .unwrap();
    drop(m);
    drop(master);
    assert!(r.call(&["REPLICAOF", "NO", "ONE"]).is_simple("OK"));

    let now: i64 = r.call(&["TIME"]).array()[0].text().parse().unwrap();
    std::thread::sleep(Duration::from_secs((la + 11 - now).max(0) as u64));
    assert!(
        eventually(3, || r.call(&["DBSIZE"]).int() == 1),
        "left: {:?}",
        keys(&mut r)
    );
    assert_eq!(r.call(&["SESS.GET", "shop", &token]), Reply::Nil);
}

#[test]
fn a_replica_forgets_apps_the_master_deleted() {
    let (master, replica) = master_and_replica();
    let mut m = master.client();
    let mut r = replica.client();
    let apps: Vec<String> = (0..30).map(|i| format!("app{i}")).collect();
    for app in &apps {
        create(&mut m, app, "u", &[]);
    }
    assert!(in_sync(&mut m, &mut r));
    assert!(eventually(5, || info_field(&mut r, "sess_apps") == 30));
    for app in &apps {
        assert_eq!(m.call(&["SESS.KILLALL", app]).int(), 1);
    }
    assert!(in_sync(&mut m, &mut r));
    assert!(
        eventually(5, || info_field(&mut r, "sess_apps") == 0),
        "the replica still knows {} apps",
        info_field(&mut r, "sess_apps")
    );
    // A master forgets an app on its next pass over the app's activity
    // history, at most 10 s after the last one (HORIZON_PASS_EVERY): at
    // once when the sweeper had not visited the app yet, later when it had,
    // as on a busy machine.
    assert!(eventually(12, || info_field(&mut m, "sess_apps") == 0));
    assert_eq!(info_field(&mut m, "sess_sweep_backlog"), 0);
}
