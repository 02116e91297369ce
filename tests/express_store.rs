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

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::cluster::{build_cluster, cluster_node};
use common::Server;

static NPM: Mutex<()> = Mutex::new(());

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/express")
}

/// Installs the store's packages once (both tests share them).
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
                panic!("npm is needed for the express store's tests (make test installs Node.js and npm): {e}")
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
        .unwrap_or_else(|e| panic!("node is needed for the express store's tests: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mocha {files:?} failed:\n{report}");
    assert!(report.contains("passing"), "{report}");
    assert!(!report.contains("pending"), "skipped cases:\n{report}");
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
