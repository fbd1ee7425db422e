//! The automerge-repo references: runs `node bench/automerge-repo/bench.js` with the same
//! sizes as our scenario and reads its one JSON line of results.
//!
//! Skipped (with the reason in the table) when `node` is not on the PATH or the packages are
//! not installed (`npm ci` in `bench/automerge-repo`, which `make bench` does).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::Args;
use crate::child;

/// The longest a reference run may take (they take well under a minute on the project
/// machine): past it the reference is killed and reported as failed.
const LIMIT: Duration = Duration::from_secs(300);

/// Why a reference has no figures in this run.
#[derive(Debug, Clone)]
pub enum Unavailable {
    /// Not measured: Node or the packages are not installed.
    Skipped(String),
    /// It was run and gave no result: it died, stalled or answered nonsense.
    Failed(String),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::Skipped(why) => write!(f, "skipped: {why}"),
            Unavailable::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// Where the reference program lives: `COMMONPLACE_AMREPO_DIR`, or the repository's
/// `bench/automerge-repo`.
fn dir() -> PathBuf {
    std::env::var_os("COMMONPLACE_AMREPO_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/automerge-repo"),
        PathBuf::from,
    )
}

fn run(args: &[String]) -> Result<Value, Unavailable> {
    run_in(&dir(), args, child::limit(LIMIT))
}

/// Runs `node bench.js ARGS` in `dir`, within `limit`.
fn run_in(dir: &Path, args: &[String], limit: Duration) -> Result<Value, Unavailable> {
    let installed = dir
        .join("node_modules/@automerge/automerge-repo/package.json")
        .exists();
    let node = child::output(
        Command::new("node").arg("--version").stderr(Stdio::null()),
        Duration::from_secs(30),
    )
    .is_ok();
    if !node || !installed {
        return Err(Unavailable::Skipped("node/npm packages missing".into()));
    }
    eprintln!(
        "automerge-repo reference: node bench.js {}…",
        args.join(" ")
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("bench.js"))
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::inherit());
    result_line(&mut cmd, limit)
}

/// Runs a reference program and reads the last JSON line of its output.
fn result_line(cmd: &mut Command, limit: Duration) -> Result<Value, Unavailable> {
    let failed = |why: String| Unavailable::Failed(why);
    let out = child::output(cmd, limit).map_err(|e| failed(e.to_string()))?;
    let line = out
        .iter()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| failed("no result line".into()))?;
    serde_json::from_str(line).map_err(|e| failed(e.to_string()))
}

/// W1 by automerge-repo: two processes, a WebSocket server and a client.
pub fn reconcile(args: &Args, base: usize) -> Result<Value, Unavailable> {
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
pub fn star(clients: usize, posts: usize) -> Result<Value, Unavailable> {
    run(&[
        "star".into(),
        "--clients".into(),
        clients.to_string(),
        "--posts".into(),
        posts.to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn node_or_sh(script_js: &str, script_sh: &str) -> Command {
        // Node when it is installed (the real reference's runtime), a shell otherwise.
        if child::output(
            Command::new("node").arg("--version"),
            Duration::from_secs(30),
        )
        .is_ok()
        {
            let mut c = Command::new("node");
            c.args(["-e", script_js]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", script_sh]);
            c
        }
    }

    #[test]
    fn a_reference_that_dies_is_failed_at_once() {
        let started = Instant::now();
        let mut cmd = node_or_sh("process.abort()", "kill -ABRT $$");
        let r = result_line(cmd.stderr(Stdio::null()), Duration::from_secs(60));
        assert!(matches!(r, Err(Unavailable::Failed(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_reference_whose_helper_outlives_it_is_failed_at_once() {
        // The reference forks helpers that inherit its output, then dies.
        let started = Instant::now();
        let mut cmd = node_or_sh(
            "require('child_process').spawn('sleep', ['300'], {stdio: 'inherit'}); process.abort()",
            "sleep 300 & kill -ABRT $$",
        );
        let r = result_line(cmd.stderr(Stdio::null()), Duration::from_secs(60));
        assert!(matches!(r, Err(Unavailable::Failed(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_reference_that_stalls_is_failed_at_its_deadline() {
        let started = Instant::now();
        let mut cmd = node_or_sh("setInterval(() => {}, 1000)", "sleep 300");
        let r = result_line(&mut cmd, Duration::from_secs(1));
        assert!(
            matches!(&r, Err(Unavailable::Failed(why)) if why.contains("no answer")),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// A reference directory whose `bench.js` is `script`, as `make bench` installs it.
    fn reference(script: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("node_modules/@automerge/automerge-repo");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("package.json"), "{}").unwrap();
        std::fs::write(dir.path().join("bench.js"), script).unwrap();
        dir
    }

    #[test]
    fn the_w1_reference_dying_with_its_server_running_is_failed_at_once() {
        // What `make bench` met: V8 aborted in the reconcile while the server process it
        // forked (holding the same output) kept running.
        let dir = reference(
            "const { fork } = require('node:child_process');\n\
             if (process.argv[2] === 'child') { setInterval(() => {}, 1000); }\n\
             else { fork(__filename, ['child']); setTimeout(() => process.abort(), 200); }\n",
        );
        let started = Instant::now();
        let r = run_in(dir.path(), &["reconcile".into()], Duration::from_secs(120));
        match r {
            Err(Unavailable::Failed(why)) => assert!(why.contains("exited"), "{why}"),
            // Without Node the reference is skipped, as in a run.
            Err(Unavailable::Skipped(_)) => {}
            Ok(v) => panic!("{v}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn the_reference_stalling_is_failed_at_its_deadline() {
        let dir = reference("setInterval(() => {}, 1000);\n");
        let started = Instant::now();
        let r = run_in(dir.path(), &["star".into()], Duration::from_secs(2));
        match r {
            Err(Unavailable::Failed(why)) => assert!(why.contains("no answer"), "{why}"),
            Err(Unavailable::Skipped(_)) => {}
            Ok(v) => panic!("{v}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_reference_answer_is_read() {
        let mut cmd = node_or_sh(
            "console.log('warming up'); console.log(JSON.stringify({time_s: 1.5}))",
            "echo 'warming up'; echo '{\"time_s\": 1.5}'",
        );
        let v = result_line(&mut cmd, Duration::from_secs(30)).unwrap();
        assert_eq!(v["time_s"].as_f64(), Some(1.5));
    }
}
