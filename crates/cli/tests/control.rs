//! Commands beside a running node: while `commonplace serve` holds a profile, every command
//! on it runs inside that process, through the profile's control socket. Real processes,
//! real iroh endpoints on loopback with relays disabled.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use commonplace_testkit::{Member, Serve};
use serde_json::Value;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

fn socket(m: &Member) -> PathBuf {
    m.dir().join("control.sock")
}

/// Runs `args` on `m`'s profile with `stdin` as standard input, in `cwd`.
fn with_stdin(m: &Member, args: &[&str], stdin: &[u8], cwd: &Path) -> Output {
    let mut child = m
        .command(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn commands_run_inside_a_running_serve() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    ana.ok(&["community", "create", "--name", "Nurses Exchange"]);
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
    let direct_json = ana.ok(&["thread", "list", "--json"]);
    let direct_community = ana.ok(&["community", "show", "--json"]);
    let direct_status = ana.json(&["status"]);
    assert_eq!(direct_status["online"], false);

    let serve = Serve::start(&ana);

    // The socket: owner-only, in the profile directory.
    let meta = std::fs::metadata(socket(&ana)).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // The same command gives the same output, byte for byte, through the socket.
    assert_eq!(ana.ok(&["thread", "list", "--json"]), direct_json);
    assert_eq!(ana.ok(&["community", "show", "--json"]), direct_community);

    // Status reads the running node's live state: online, at the address serve printed.
    let status = ana.json(&["status"]);
    assert_eq!(status["online"], true, "{status}");
    assert_eq!(status["address"], serve.address.as_str());
    assert_eq!(status["member_id"], ana.id.as_str());
    let text = ana.ok(&["status"]);
    assert!(text.contains("online (the running"), "{text}");

    // A thread posted through the socket, its body read from this command's standard input.
    let posted = with_stdin(
        &ana,
        &[
            "thread",
            "new",
            "--kind",
            "story",
            "--title",
            "From the socket",
            "--body",
            "-",
        ],
        "Written beside a running serve.\n".as_bytes(),
        root.path(),
    );
    let id = ok(&posted).trim().to_owned();
    let shown = ana.json(&["thread", "show", &id]);
    assert_eq!(shown["body"], "Written beside a running serve.\n");
    assert_eq!(ana.json(&["thread", "list"]).as_array().unwrap().len(), 2);

    // A passphrase read by the client (here from its standard input) and a relative path
    // resolved against the client's directory, not the server's.
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let backup = with_stdin(
        &ana,
        &[
            "backup",
            "--out",
            "ana.backup",
            "--passphrase-file",
            "/dev/stdin",
        ],
        b"correct horse battery\n",
        &work,
    );
    let said = ok(&backup);
    assert!(said.contains("backed up the key"), "{said}");
    assert!(work.join("ana.backup").exists());

    // A failing command fails here too, with the same kind of message and status.
    let failed = ana.run(&["thread", "show", "ffffffff"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&failed.stderr).starts_with("error: "),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    // A second serve on the same profile is refused.
    let err = ana.fails(&["serve", "--relay", "none", "--no-mdns"]);
    assert!(err.contains("already online"), "{err}");

    serve.stop();
    // Stopped: no socket left, and the thread posted through it is in the profile.
    assert!(!socket(&ana).exists());
    assert_eq!(
        ana.json(&["thread", "show", &id])["title"],
        "From the socket"
    );
    assert_eq!(ana.json(&["status"])["online"], false);

    // The backup opens with the passphrase: the key is Ana's.
    let restored = root.path().join("restored");
    let out = std::process::Command::new(bin())
        .args(["--profile", restored.to_str().unwrap(), "restore"])
        .arg(work.join("ana.backup"))
        .args(["--name", "Ana again", "--json"])
        .env("COMMONPLACE_PASSPHRASE", "correct horse battery")
        .env_remove("COMMONPLACE_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["member_id"], ana.id.as_str());
}

#[test]
fn a_stale_socket_is_removed_and_the_profile_opened_directly() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    // A socket file nobody listens on, as a killed process leaves it.
    drop(std::os::unix::net::UnixListener::bind(socket(&ana)).unwrap());
    assert!(socket(&ana).exists());
    let me = ana.json(&["whoami"]);
    assert_eq!(me["member_id"], ana.id.as_str());
    assert!(!socket(&ana).exists(), "the stale socket was left");
}

#[test]
fn status_through_the_socket_shows_who_is_connected_now() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let bea = Member::init(bin(), root.path(), "bea", "Bea Santos");
    ana.ok(&["community", "create", "--name", "Nurses Exchange"]);
    ana.ok(&["member", "add", &bea.id, "--name", "Bea Santos"]);
    let ana_serve = Serve::start(&ana);
    // Bea gets the community from Ana's running node, then runs her own.
    bea.ok(&[
        "sync",
        "--peer",
        &ana_serve.address,
        "--bind",
        "127.0.0.1:0",
        "--relay",
        "none",
    ]);
    let bea_serve = Serve::start(&bea);
    let connected = || {
        let s = ana.json(&["status"]);
        s["peers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["member_id"] == bea.id.as_str() && p["connected"] == true)
    };
    let mut seen = false;
    for _ in 0..60 {
        if connected() {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(seen, "Ana's status never showed Bea connected");
    drop(bea_serve);
    drop(ana_serve);
    // Run on its own, status knows nobody connected.
    let s = ana.json(&["status"]);
    assert_eq!(s["online"], false);
    assert!(
        s["peers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["connected"] == false)
    );
}
