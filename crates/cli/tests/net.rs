//! The networked commands end to end: real processes, real iroh endpoints on loopback with
//! relays disabled.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Stdio};

use commonplace_testkit::Member;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

/// A running `serve`; stopped with SIGTERM on drop.
struct Serve {
    child: Child,
    address: String,
}

impl Serve {
    fn start(m: &Member) -> Serve {
        let mut child = m
            .command(&["serve", "--relay", "none", "--no-mdns", "--interval", "2s"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = commonplace_testkit::serve_address(&mut child);
        Serve { child, address }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn invite_join_serve_and_sync_between_processes() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let bea = Member::init(bin(), root.path(), "bea", "Bea Santos");
    let c = ana
        .ok(&["community", "create", "--name", "Nurses Exchange"])
        .trim()
        .to_owned();
    ana.ok(&[
        "thread",
        "new",
        "--kind",
        "request",
        "--title",
        "Night shifts",
        "--body",
        "How do you rest?",
    ]);
    let code = ana
        .ok(&[
            "invite",
            "create",
            "--bind",
            "127.0.0.1:0",
            "--relay",
            "none",
            "--no-mdns",
            "--role",
            "member",
        ])
        .trim()
        .to_owned();
    assert!(code.starts_with("cpinvite1"));
    let serve = Serve::start(&ana);

    // While serve holds Ana's profile, other commands say so at once.
    let err = ana.fails(&["thread", "list"]);
    assert!(
        err.contains("in use by another Commonplace process"),
        "{err}"
    );

    // Bea joins with the code and receives the community.
    let joined = bea.json(&["join", &code, "--relay", "none"]);
    assert_eq!(joined["community"], c.as_str());
    assert_eq!(bea.json(&["thread", "list"])[0]["title"], "Night shifts");
    let members = bea.json(&["member", "list"]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Bea Santos" && m["role"] == "member")
    );
    // The code is single-use.
    let eve = Member::init(bin(), root.path(), "eve", "Eve");
    let err = eve.fails(&["join", &code, "--relay", "none"]);
    assert!(err.contains("already used"), "{err}");

    // Bea writes offline, then syncs once with Ana's always-on peer.
    let t = bea.json(&["thread", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bea.ok(&["reply", &t, "--body", "Short naps before the shift."]);
    // Status tells the truth: one change of Bea's has reached nobody yet.
    assert_eq!(bea.json(&["status"])["unshared"][0]["changes"], 1);
    let summary = bea.json(&[
        "sync",
        "--peer",
        &serve.address,
        "--relay",
        "none",
        "--timeout",
        "30s",
    ]);
    assert_eq!(summary[0]["ok"], true);
    // The reply travels in this session, or in the catch-up session the two nodes start when
    // gossip links them a moment earlier (the summary counts only this one); either way Ana
    // holds it below.
    assert!(summary[0]["sent"].as_u64().is_some(), "{summary}");
    // Status remembers the peer and the sync.
    let status = bea.json(&["status"]);
    assert_eq!(status["peers"][0]["member_id"], ana.id.as_str());
    assert_eq!(status["syncs"][0]["ok"], true);
    assert_eq!(status["unshared"][0]["changes"], 0);
    drop(serve);
    // After serve stops, Ana's profile holds Bea's reply.
    let shown = ana.json(&["thread", "show", &t]);
    assert_eq!(shown["posts"][0]["body"], "Short naps before the shift.");
    assert_eq!(shown["posts"][0]["author"]["name"], "Bea Santos");
    // A sync with nobody listening fails clearly, within its timeout.
    let err = bea.fails(&["sync", "--relay", "none", "--timeout", "5s"]);
    assert!(err.contains("error:"), "{err}");
}
