//! The example app `examples/express-devices` (express-session on the
//! store in `clients/express`) in a real browser: its test drives Chromium
//! through puppeteer-core against `node server.js` and a server with the
//! module: two browsers of one user, a third user, and the log-out buttons.
//!
//! Chromium (Debian's `chromium`, at /usr/bin/chromium) is installed here by
//! `scripts/ensure-deps.sh browser` when missing, unless CHROMIUM_PATH names
//! another one. The example's npm packages are installed (`npm ci`, pinned by
//! its package-lock.json) when missing or when the store in `clients/express`
//! changed since; the store is installed as a copy (the example's .npmrc),
//! as it would be from the registry.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{node, Server};

const WHAT: &str = "the browser test";

fn root() -> PathBuf {
    node::repo_dir("")
}

fn ensure_chromium() {
    if std::env::var_os("CHROMIUM_PATH").is_some() {
        return;
    }
    let status = Command::new(root().join("scripts/ensure-deps.sh"))
        .arg("browser")
        .status()
        .unwrap_or_else(|e| panic!("could not run scripts/ensure-deps.sh browser: {e}"));
    assert!(
        status.success(),
        "scripts/ensure-deps.sh browser could not provide Chromium (its message is above): \
         the browser test needs /usr/bin/chromium (Debian: apt-get install chromium), \
         or CHROMIUM_PATH set to a Chromium or Chrome binary"
    );
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

/// Runs `npm ci` in the example when its packages are missing, older than
/// its lockfile, or hold another version of the store than clients/express.
fn example_packages() -> PathBuf {
    let dir = root().join("examples/express-devices");
    let store = root().join("clients/express");
    let installed = dir.join("node_modules/sess-express-store");
    let other_store = ["index.js", "package.json"]
        .iter()
        .any(|f| !same_file(&store.join(f), &installed.join(f)));
    node::packages(&dir, other_store, WHAT);
    dir
}

#[test]
fn the_devices_example_works_in_a_real_browser() {
    ensure_chromium();
    let dir = example_packages();
    let server = Server::start();
    let report = node::run(
        &dir,
        &["--test-reporter=tap", "test/browser.test.js"],
        &[("SESS_TEST_PORT", server.port.to_string())],
        WHAT,
    );
    assert!(report.contains("# fail 0"), "{report}");
    assert!(report.contains("# skipped 0"), "skipped cases:\n{report}");
    println!("{report}");
}
