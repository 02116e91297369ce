//! The Node.js suites (the Node client, the express store, the browser
//! test): their npm packages installed when stale, and a run of node whose
//! output is the test's report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One `npm ci` at a time per test binary (its tests share the folder).
static NPM: Mutex<()> = Mutex::new(());

/// A folder of the repository.
pub fn repo_dir(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs `npm ci` in `dir` when its packages are missing, older than its
/// lockfile, or `also_stale` says so; `what` names the suite in errors.
pub fn packages(dir: &Path, also_stale: bool, what: &str) {
    let _once = NPM.lock().unwrap_or_else(|p| p.into_inner());
    let marker = dir.join("node_modules/.package-lock.json");
    let stale = match (marker.metadata(), dir.join("package-lock.json").metadata()) {
        (Ok(installed), Ok(lock)) => installed.modified().ok() < lock.modified().ok(),
        _ => true,
    } || also_stale;
    if stale {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .unwrap_or_else(|e| {
                panic!("npm is needed for {what} (make test installs Node.js and npm): {e}")
            });
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
}

/// Runs node with `args` in `dir` with `env`; fails with its output unless
/// it succeeds. Returns the output.
pub fn run(dir: &Path, args: &[&str], env: &[(&str, String)], what: &str) -> String {
    let mut command = Command::new("node");
    command.args(args).current_dir(dir);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("node is needed for {what}: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{report}");
    report
}

/// Runs mocha on `files` in `dir`: every case passes, none is skipped.
pub fn mocha(dir: &Path, files: &[&str], env: &[(&str, String)], what: &str) -> String {
    let mut args = vec![
        "node_modules/mocha/bin/mocha.js",
        "--exit",
        "--timeout",
        "30000",
    ];
    args.extend_from_slice(files);
    let report = run(dir, &args, env, what);
    assert!(report.contains("passing"), "{report}");
    assert!(!report.contains("pending"), "skipped cases:\n{report}");
    report
}
