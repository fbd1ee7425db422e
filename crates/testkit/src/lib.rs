//! Shared test fixtures: temporary profiles driven through the real `commonplace` binary,
//! and builders of hostile bundles (forged, tampered, unauthorised) for the verification
//! tests of every layer.
//!
//! Fixtures never touch the real user's data: every profile lives in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod forge;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// One member's profile in a temporary directory, driven through the real CLI binary.
#[derive(Debug)]
pub struct Member {
    bin: PathBuf,
    dir: PathBuf,
    /// The member id printed by `init`.
    pub id: String,
}

impl Member {
    /// `commonplace init --name NAME` in `root/label`.
    pub fn init(bin: &Path, root: &Path, label: &str, name: &str) -> Member {
        let dir = root.join(label);
        let mut m = Member {
            bin: bin.to_owned(),
            dir,
            id: String::new(),
        };
        m.id = m.ok(&["init", "--name", name]).trim().to_owned();
        m
    }

    /// `commonplace init ARGS…` in `root/label` (`args` holds `--name` and any others).
    pub fn init_with(bin: &Path, root: &Path, label: &str, args: &[&str]) -> Member {
        let mut m = Member {
            bin: bin.to_owned(),
            dir: root.join(label),
            id: String::new(),
        };
        let all: Vec<&str> = std::iter::once("init")
            .chain(args.iter().copied())
            .collect();
        m.id = m.ok(&all).trim().to_owned();
        m
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A command for this profile, with no inherited profile variable.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--profile")
            .arg(&self.dir)
            .args(args)
            .env_remove("COMMONPLACE_PROFILE")
            .stdin(Stdio::null());
        c
    }

    /// Runs a command and returns its output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run commonplace")
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "commonplace {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "commonplace {args:?} unexpectedly succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Runs a command with `--json` and parses its output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).expect("valid JSON")
    }

    /// Everything the profile shows about a community, for "unchanged" comparisons: the
    /// community, its roster, threads and entries with their full contents.
    pub fn snapshot(&self) -> Value {
        let communities = self.json(&["community", "list"]);
        let mut out = Vec::new();
        for c in communities.as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            // The viewer's own role differs between profiles; everything else must not.
            let mut c = c.clone();
            c.as_object_mut().unwrap().remove("my_role");
            let threads = self.json(&["thread", "list", "-c", id]);
            let full_threads: Vec<Value> = threads
                .as_array()
                .unwrap()
                .iter()
                .map(|t| self.json(&["thread", "show", t["id"].as_str().unwrap()]))
                .collect();
            let entries = self.json(&["entry", "list", "-c", id]);
            let full_entries: Vec<Value> = entries
                .as_array()
                .unwrap()
                .iter()
                .map(|e| self.json(&["entry", "show", e["id"].as_str().unwrap()]))
                .collect();
            out.push(serde_json::json!({
                "community": c,
                "members": self.json(&["member", "list", "-c", id]),
                "threads": full_threads,
                "entries": full_entries,
            }));
        }
        Value::Array(out)
    }
}

/// Waits (at most 30 s) for a spawned `commonplace serve` to print its address (`cppeer1…`)
/// and returns it; keeps draining its stdout afterwards so it never writes into a closed pipe.
pub fn serve_address(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let started = std::time::Instant::now();
    let mut address = String::new();
    while started.elapsed() < std::time::Duration::from_secs(30) {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("cppeer1") => {
                address = l;
                break;
            }
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(!address.is_empty(), "serve printed no address");
    address
}

/// A running `commonplace serve` on a member's profile (loopback, relays and local-network
/// discovery off), stopped with SIGTERM when dropped or by [`Serve::stop`].
#[derive(Debug)]
pub struct Serve {
    child: std::process::Child,
    /// Its address, as it printed it.
    pub address: String,
}

impl Serve {
    /// Starts `serve` on `m`'s profile and waits for its address.
    pub fn start(m: &Member) -> Serve {
        let mut child = m
            .command(&[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--relay",
                "none",
                "--no-mdns",
                "--interval",
                "2s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start commonplace serve");
        let address = serve_address(&mut child);
        Serve { child, address }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it (SIGTERM) and waits until it has exited.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}
