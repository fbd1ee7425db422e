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
