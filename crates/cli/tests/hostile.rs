//! Hostile inputs to the real `commonplace` binary: absurd numbers, escape sequences in what
//! others wrote, odd output targets, endless input streams. Each must end in one clear
//! `error:` line (or harmless output), never a panic, a hang or a huge allocation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use commonplace_testkit::Member;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

fn founded(root: &Path) -> Member {
    let ana = Member::init(bin(), root, "ana", "Ana Silva");
    ana.ok(&["community", "create", "--name", "Night Walks"]);
    ana
}

#[test]
fn absurd_durations_and_periods_are_refused_at_parse_time() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let started = std::time::Instant::now();
    for (args, needle) in [
        (
            vec![
                "event",
                "new",
                "--kind",
                "call",
                "--title",
                "x",
                "--start",
                "2026-12-03T15:00",
                "--tz",
                "UTC",
                "--duration",
                "99999999999999999d",
            ],
            "too long",
        ),
        (
            vec![
                "event",
                "new",
                "--kind",
                "call",
                "--title",
                "x",
                "--start",
                "2026-12-03T15:00",
                "--tz",
                "UTC",
                "--duration",
                "4d",
            ],
            "at most 3d",
        ),
        (
            vec!["invite", "create", "--expires", "99999999999999999d"],
            "too long",
        ),
        (
            vec!["invite", "create", "--expires", "400d"],
            "at most 365d",
        ),
        (vec!["sync", "--timeout", "99999999999999999d"], "too long"),
        (vec!["sync", "--timeout", "0s"], "too short"),
        (vec!["serve", "--interval", "213503982334601d"], "too long"),
        (vec!["serve", "--interval", "0"], "too short"),
        (
            vec!["health", "--since", "99999999999999d"],
            "at most 3650d",
        ),
        (vec!["health", "--since", "9999999999d"], "at most 3650d"),
        (
            vec!["health", "--since", "99999999d", "--json"],
            "at most 3650d",
        ),
        (
            vec!["health", "--since", "9999999999999999999w"],
            "not a number of days",
        ),
        (vec!["health", "--since", "0d"], "too short"),
        (
            vec!["member", "thresholds", "--window", "99999999999999d"],
            "at most 3650d",
        ),
    ] {
        let err = ana.fails(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Refused at once, not after minutes of work.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // The longest allowed values still work.
    ana.ok(&["health", "--since", "3650d"]);
    ana.ok(&["health", "--since", "521w", "--json"]);
}

/// `import` looks at the header before reading on: an endless stream is refused after a few
/// bytes, and a file that claims to be a bundle is read no further than its declared length.
#[test]
fn import_reads_no_more_than_a_bundle_can_be() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let err = ana.fails(&["import", "/dev/zero"]);
    assert!(
        err.contains("not a Commonplace bundle") || err.contains("bundle"),
        "{err}"
    );
    // A genuine header followed by far more than it declares.
    let file = root.path().join("long.bundle");
    ana.ok(&["export", "--out", file.to_str().unwrap()]);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
    std::fs::write(&file, &bytes).unwrap();
    let err = ana.fails(&["import", file.to_str().unwrap()]);
    assert!(err.contains("follow the end of the bundle"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A profile directory made before `init` (0755) is tightened to 0700 and its database is
/// 0600: other local users read neither the key nor the community.
#[cfg(unix)]
#[test]
fn a_profile_made_beforehand_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("pre");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(bin())
        .args(["--profile", dir.to_str().unwrap(), "init", "--name", "Pre"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(mode(&f) & 0o077, 0, "{} is readable by others", f.display());
    }
}

/// Two communities and no `-c`: the message names them, in good English.
#[test]
fn an_ambiguous_community_is_named_in_plural() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    ana.ok(&["community", "create", "--name", "Day Walks"]);
    let err = ana.fails(&["thread", "list"]);
    assert!(err.contains("several communities"), "{err}");
}

/// Escape sequences in what members wrote (a screen clear, an OSC 52 clipboard write, a C1
/// control, a bidi override) reach no terminal: human output shows them escaped, `--json`
/// keeps the text exact.
#[test]
fn escape_sequences_in_what_others_wrote_are_shown_not_obeyed() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let title = "Lights\u{1b}[2J\u{1b}]52;c;SGVsbG8=\u{7} out";
    let body = "Line one\nline\ttwo \u{9b}31m red \u{202e}desrever";
    let t = ana
        .ok(&[
            "thread", "new", "--kind", "story", "--title", title, "--body", body,
        ])
        .trim()
        .to_owned();
    for args in [
        vec!["thread", "list"],
        vec!["thread", "show", &t],
        vec!["member", "list"],
    ] {
        let shown = ana.ok(&args);
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(
                !shown.contains(bad),
                "{args:?} printed {:?} raw: {shown}",
                bad
            );
        }
        if args[0] != "member" {
            assert!(shown.contains("\\u{1b}[2J"), "{shown}");
        }
    }
    let shown = ana.ok(&["thread", "show", &t]);
    assert!(
        shown.contains("line\ttwo"),
        "tabs and newlines stay: {shown}"
    );
    let json = ana.json(&["thread", "show", &t]);
    assert_eq!(json["title"], title);
}

/// `commonplace … | head -1`: a reader that goes away ends the program quietly.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let mut child = ana
        .command(&["member", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}

/// A failure is one line, ours: no library log lines before it, and a bad address is
/// refused before anything goes online.
#[test]
fn a_failure_is_one_line() {
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let err = ana.fails(&["sync", "--peer", "not-an-address"]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.trim().starts_with("error:"), "{err}");
}

/// `--out` replaces a regular file atomically, keeping its mode; writes through a symbolic
/// link to the file it names; refuses what is not a regular file; leaves no partial file.
#[cfg(unix)]
#[test]
fn out_writes_through_links_keeps_modes_and_refuses_other_targets() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let ana = founded(root.path());
    let dir = root.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let real = dir.join("real.bundle");
    std::fs::write(&real, b"old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.bundle");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    ana.ok(&["export", "--out", link.to_str().unwrap()]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let meta = std::fs::metadata(&real).unwrap();
    assert!(meta.len() > 3, "the link's target was written");
    assert_eq!(meta.permissions().mode() & 0o777, 0o640, "its mode kept");
    for target in [dir.clone(), std::path::PathBuf::from("/dev/null")] {
        let err = ana.fails(&["export", "--out", target.to_str().unwrap()]);
        assert!(err.contains("not a regular file"), "{err}");
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}

/// `commonplace thread list | head -1` with more threads than a pipe holds: the reader goes
/// away while the list is still being written, in both the human and the `--json` form.
#[test]
fn a_long_list_into_a_pipe_closed_after_one_line_ends_quietly() {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("many");
    {
        let node = commonplace_node::Node::init(
            commonplace_node::Profile::at(dir.clone()),
            "Ana",
            None,
            None,
        )
        .unwrap();
        let c = node
            .create_community(&commonplace_node::NewCommunity {
                name: "Many threads".into(),
                ..Default::default()
            })
            .unwrap();
        // About 170 bytes a line: 600 lines are well past a 64 KiB pipe buffer.
        for i in 0..600 {
            node.create_thread(
                &c,
                &commonplace_node::NewThread {
                    activity: commonplace_model::ActivityKind::Discussion,
                    title: format!(
                        "Thread {i:04} {}",
                        "about lighting audits at night ".repeat(4)
                    ),
                    body: "…".into(),
                    tags: vec![],
                },
            )
            .unwrap();
        }
    }
    for args in [&["thread", "list"][..], &["--json", "thread", "list"][..]] {
        let mut child = std::process::Command::new(bin())
            .arg("--profile")
            .arg(&dir)
            .args(args)
            .env_remove("COMMONPLACE_PROFILE")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        // The reader is dropped here: the pipe is closed after one line.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {stderr}");
    }
}
