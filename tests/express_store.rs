//! The express-session store in `clients/express` (sess-express-store), run
//! by its own mocha suites against real servers with the module: the store's
//! API through node-redis v4, v5, v6 and ioredis; express 4 and express 5
//! with express-session and passport 0.7 over real HTTP; @fastify/session;
//! the cookie value absent from keys, values, MONITOR and the AOF; memory per
//! anonymous session; errors with the server stopped; and a three-master
//! cluster through node-redis and ioredis cluster clients.
//!
//! Its npm packages are installed here (`npm ci`, pinned by
//! package-lock.json) when missing or older than the lockfile.

mod common;

use common::cluster::{build_cluster, cluster_node};
use common::{node, Server};

const WHAT: &str = "the express store's tests";

/// Runs mocha on `files` with `env`, the store's packages installed.
fn mocha(files: &[&str], env: &[(&str, String)]) {
    let dir = node::repo_dir("clients/express");
    node::packages(&dir, false, WHAT);
    let report = node::mocha(&dir, files, env, WHAT);
    // The memory figures, for `cargo test -- --nocapture`.
    println!("{report}");
}

#[test]
fn the_store_express_fastify_and_failure_suites_pass() {
    let server = Server::start();
    // A second server, which the error suite shuts down under the apps.
    let doomed = Server::start();
    mocha(
        &[
            "test/store.test.js",
            "test/express.test.js",
            "test/fastify.test.js",
            "test/privacy.test.js",
            "test/memory.test.js",
            "test/errors.test.js",
        ],
        &[
            ("SESS_TEST_PORT", server.port.to_string()),
            ("SESS_TEST_DOWN_PORT", doomed.port.to_string()),
        ],
    );
    assert!(
        server.is_alive(),
        "the main server survived:\n{}",
        server.log()
    );
    assert!(!doomed.is_alive(), "the error suite stopped its server");
}

#[test]
fn the_store_works_on_a_three_master_cluster() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    mocha(
        &["test/cluster.js"],
        &[("SESS_TEST_CLUSTER_PORT", nodes[0].port.to_string())],
    );
}
