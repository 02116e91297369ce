//! The Node client in `clients/node`, run by its own mocha suites against
//! real servers with the module: the test suite of redis-sessions 4.0.0,
//! the client's own cases, the migration guide (docs/migration.md) against sessions
//! written by redis-sessions 4.0.0 itself, and a Redis Cluster client.
//!
//! Its npm packages are installed here (`npm ci`, pinned by
//! package-lock.json) when missing; `make test` installs Node.js and npm
//! first when the machine lacks them.

mod common;

use common::cluster::{build_cluster, cluster_node};
use common::{node, Server};

const WHAT: &str = "the Node client's tests";

/// Runs mocha on `files` with `env`, the client's packages installed.
fn mocha(files: &[&str], env: &[(&str, String)]) {
    let dir = node::repo_dir("clients/node");
    node::packages(&dir, false, WHAT);
    node::mocha(&dir, files, env, WHAT);
}

#[test]
fn the_library_suite_the_client_cases_and_the_migration_guide_pass() {
    let server = Server::start();
    mocha(
        &[
            "test/library-suite.test.js",
            "test/module.test.js",
            "test/migration.test.js",
        ],
        &[("SESS_TEST_PORT", server.port.to_string())],
    );
}

#[test]
fn the_client_works_through_a_cluster_client() {
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node()).collect();
    build_cluster(&nodes);
    mocha(
        &["test/cluster.js"],
        &[("SESS_TEST_CLUSTER_PORT", nodes[0].port.to_string())],
    );
}
