//! The Node client in `clients/node`, run by its own mocha suites against
//! real servers with the module: the test suite of redis-sessions 4.0.0,
//! the client's own cases, the migration guide (docs/migration.md) against sessions
//! written by redis-sessions 4.0.0 itself, and a Redis Cluster client.
//!
//! Its npm packages are installed here (`npm ci`, pinned by
//! package-lock.json) when missing; `make test` installs Node.js and npm
//! first when the machine lacks them.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::cluster::{build_cluster, cluster_node};
use common::Server;

static NPM: Mutex<()> = Mutex::new(());

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/node")
}

/// Installs the client's packages once (both tests share them).
fn node_packages() -> PathBuf {
    let dir = client_dir();
    let _once = NPM.lock().unwrap_or_else(|p| p.into_inner());
    let marker = dir.join("node_modules/.package-lock.json");
    let stale = match (marker.metadata(), dir.join("package-lock.json").metadata()) {
        (Ok(installed), Ok(lock)) => installed.modified().ok() < lock.modified().ok(),
        _ => true,
    };
    if stale {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| {
                panic!("npm is needed for the Node client's tests (make test installs Node.js and npm): {e}")
            });
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    dir
}

/// Runs mocha on `files` with `env`; fails with its output.
fn mocha(files: &[&str], env: &[(&str, String)]) {
    let dir = node_packages();
    let mut command = Command::new("node");
    command
        .arg("node_modules/mocha/bin/mocha.js")
        .args(["--exit", "--timeout", "30000"])
        .args(files)
        .current_dir(&dir);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("node is needed for the Node client's tests: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mocha {files:?} failed:\n{report}");
    assert!(report.contains("passing"), "{report}");
    assert!(!report.contains("pending"), "skipped cases:\n{report}");
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
