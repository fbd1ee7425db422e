//! The automerge-repo references: runs `node bench/automerge-repo/bench.js` with the same
//! sizes as our scenario and reads its one JSON line of results.
//!
//! Skipped (with the reason in the table) when `node` is not on the PATH or the packages are
//! not installed (`npm ci` in `bench/automerge-repo`, which `make bench` does).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::Args;

/// Where the reference program lives: `COMMONPLACE_AMREPO_DIR`, or the repository's
/// `bench/automerge-repo`.
fn dir() -> PathBuf {
    std::env::var_os("COMMONPLACE_AMREPO_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/automerge-repo"),
        PathBuf::from,
    )
}

fn run(args: &[String]) -> Result<Value, String> {
    let dir = dir();
    let installed = dir
        .join("node_modules/@automerge/automerge-repo/package.json")
        .exists();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node || !installed {
        return Err("skipped: node/npm packages missing".into());
    }
    eprintln!(
        "automerge-repo reference: node bench.js {}…",
        args.join(" ")
    );
    let out = Command::new("node")
        .arg(dir.join("bench.js"))
        .args(args)
        .current_dir(&dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("failed: {e}"))?;
    if !out.status.success() {
        return Err(format!("failed: exit {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("failed: no result line")?;
    serde_json::from_str(line).map_err(|e| format!("failed: {e}"))
}

/// W1 by automerge-repo: two processes, a WebSocket server and a client.
pub fn reconcile(args: &Args, base: usize) -> Result<Value, String> {
    run(&[
        "reconcile".into(),
        "--threads".into(),
        args.threads.to_string(),
        "--base".into(),
        base.to_string(),
        "--posts".into(),
        args.posts.to_string(),
    ])
}

/// W2 by automerge-repo: a sync server and `clients` client processes.
pub fn star(clients: usize, posts: usize) -> Result<Value, String> {
    run(&[
        "star".into(),
        "--clients".into(),
        clients.to_string(),
        "--posts".into(),
        posts.to_string(),
    ])
}
