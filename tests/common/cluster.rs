//! Redis Cluster test support: nodes on loopback joined by `redis-cli
//! --cluster create`, and a cluster-aware client (redis-rs).

use std::process::Command;

use redis::cluster::ClusterClient;
use redis::Value;

use super::{eventually, Options, Server};

pub fn cluster_node() -> Server {
    Server::with(
        Options::default()
            .config("cluster-enabled", "yes")
            .config("cluster-config-file", "nodes.conf")
            .config("cluster-node-timeout", "5000"),
    )
}

pub fn build_cluster(nodes: &[Server]) {
    let addresses: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let out = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli (from redis-tools) must be installed");
    assert!(
        out.status.success(),
        "cluster create failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for node in nodes {
        let mut c = node.client();
        assert!(
            eventually(30, || c
                .call(&["CLUSTER", "INFO"])
                .text()
                .contains("cluster_state:ok")),
            "cluster never became ok"
        );
    }
}

/// A cluster-aware client (redis-rs) over `nodes`, as a function that runs
/// one command and panics on an error reply.
pub fn cluster_caller(nodes: &[Server]) -> impl FnMut(&[&str]) -> Value {
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}/", n.port))
        .collect();
    let client = ClusterClient::new(urls).expect("cluster client");
    let mut con = client.get_connection().expect("cluster connection");
    move |args: &[&str]| -> Value {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query::<Value>(&mut con)
            .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
    }
}

pub fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("expected a string, got {other:?}"),
    }
}

pub fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A cluster connection of its own, for a traffic thread.
pub fn cluster_connection(nodes: &[Server]) -> redis::cluster::ClusterConnection {
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}/", n.port))
        .collect();
    ClusterClient::builder(urls)
        .retries(40)
        .build()
        .expect("cluster client")
        .get_connection()
        .expect("cluster connection")
}

/// The node's cluster id.
pub fn node_id(node: &Server) -> String {
    node.client().call(&["CLUSTER", "MYID"]).text()
}

/// The slot of a key name.
pub fn key_slot(node: &Server, key: &str) -> i64 {
    node.client().call(&["CLUSTER", "KEYSLOT", key]).int()
}

/// How many keys of `slot` the node holds.
pub fn keys_in_slot(node: &Server, slot: i64) -> i64 {
    node.client()
        .call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
        .int()
}

/// The index (in `nodes`) of the node that owns `slot`, as CLUSTER SLOTS
/// of the first node says.
pub fn owner_of(nodes: &[Server], slot: i64) -> usize {
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let reply = nodes[0].client().call(&["CLUSTER", "SLOTS"]);
    for range in reply.array() {
        let fields = range.array();
        if (fields[0].int()..=fields[1].int()).contains(&slot) {
            let port = fields[2].array()[1].int() as u16;
            return ports
                .iter()
                .position(|p| *p == port)
                .expect("owner is one of the nodes");
        }
    }
    panic!("slot {slot} is not served");
}
