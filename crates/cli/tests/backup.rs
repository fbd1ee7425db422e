//! `commonplace backup` and `restore`: the key sealed under a passphrase, restored on a new
//! device; wrong passphrases, old plaintext key files and file errors, each as a sentence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use commonplace_testkit::Member;

const PASS: &str = "a passphrase for tests";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

fn cmd(profile: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("--profile")
        .arg(profile)
        .args(args)
        .env_remove("COMMONPLACE_PROFILE")
        .env_remove("COMMONPLACE_PASSPHRASE")
        .stdin(std::process::Stdio::null());
    c
}

fn key_text(member: &Member) -> String {
    std::fs::read_to_string(member.dir().join("identity.key")).unwrap()
}

#[test]
fn a_sealed_backup_restores_the_member_and_saving_twice_works() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let before = ana.json(&["whoami"]);
    assert_eq!(before["backed_up_at"], serde_json::Value::Null);
    assert!(ana.ok(&["whoami"]).contains("key backed up: never"));

    let pass_file = root.path().join("pass.txt");
    std::fs::write(&pass_file, format!("{PASS}\n")).unwrap();
    let backup = root.path().join("ana-key.txt");
    let args = [
        "backup",
        "--out",
        backup.to_str().unwrap(),
        "--passphrase-file",
        pass_file.to_str().unwrap(),
    ];
    ana.ok(&args);
    // Saving over the same file is not "File exists (os error 17)".
    let again = ana.run(&args);
    assert!(again.status.success(), "{again:?}");
    assert!(ana.json(&["whoami"])["backed_up_at"].is_string());

    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(text.starts_with("commonplace-key-backup-v2\n"));
    assert!(text.contains(&ana.id), "the file says whose key it is");
    let secret = key_text(&ana);
    let secret_line = secret.lines().nth(1).unwrap();
    assert!(!text.contains(secret_line), "the key is sealed");

    // A wrong passphrase is refused and leaves no identity behind.
    let laptop = root.path().join("laptop");
    let wrong = cmd(
        &laptop,
        &["restore", backup.to_str().unwrap(), "--name", "Ana"],
    )
    .env("COMMONPLACE_PASSPHRASE", "not the passphrase")
    .output()
    .unwrap();
    assert!(!wrong.status.success());
    let err = String::from_utf8(wrong.stderr).unwrap();
    assert!(err.contains("wrong passphrase or damaged backup"), "{err}");
    assert!(!err.contains(secret_line));
    assert!(!laptop.join("identity.key").exists());

    // A changed byte is refused the same way.
    let tampered = root.path().join("tampered.txt");
    let at = text.find("sealed: ").unwrap() + 10;
    let mut bytes = text.clone().into_bytes();
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&tampered, bytes).unwrap();
    let out = cmd(
        &laptop,
        &["restore", tampered.to_str().unwrap(), "--name", "Ana"],
    )
    .env("COMMONPLACE_PASSPHRASE", PASS)
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase or damaged backup"));

    let out = cmd(
        &laptop,
        &[
            "restore",
            backup.to_str().unwrap(),
            "--name",
            "Ana",
            "--json",
        ],
    )
    .env("COMMONPLACE_PASSPHRASE", PASS)
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let id: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(id["member_id"], ana.id.as_str());
    assert!(id["backed_up_at"].is_string());
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(secret_line));
    }
}

#[test]
fn short_passphrases_and_missing_passphrase_files_are_explained() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let backup = root.path().join("k.txt");
    let out = cmd(ana.dir(), &["backup", "--out", backup.to_str().unwrap()])
        .env("COMMONPLACE_PASSPHRASE", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("at least 8 characters"), "{err}");
    assert!(err.contains("try short passphrases"), "says why: {err}");
    assert!(!backup.exists());

    let missing = root.path().join("nowhere").join("pass.txt");
    let err = ana.fails(&[
        "backup",
        "--out",
        backup.to_str().unwrap(),
        "--passphrase-file",
        missing.to_str().unwrap(),
    ]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn file_errors_are_sentences_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let run = |args: &[&str]| {
        let out = cmd(ana.dir(), args)
            .env("COMMONPLACE_PASSPHRASE", PASS)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let err = run(&["backup", "--out", root.path().to_str().unwrap()]);
    assert!(err.contains("not a regular file"), "{err}");
    let into_missing = root.path().join("no-such-dir").join("k.txt");
    let err = run(&["backup", "--out", into_missing.to_str().unwrap()]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    let err = run(&[
        "import",
        root.path().join("nothing.bundle").to_str().unwrap(),
    ]);
    assert!(err.contains("nothing.bundle' does not exist"), "{err}");
    let laptop = root.path().join("laptop");
    let out = cmd(
        &laptop,
        &["restore", root.path().to_str().unwrap(), "--name", "A"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("is a folder, not a file"), "{err}");
}

#[test]
fn an_old_plaintext_key_file_restores_with_a_note() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let old = root.path().join("old-key.txt");
    std::fs::write(&old, key_text(&ana)).unwrap();
    let out = cmd(
        &root.path().join("laptop"),
        &["restore", old.to_str().unwrap(), "--name", "Ana"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ana.id);
    let note = String::from_utf8(out.stderr).unwrap();
    assert!(note.contains("old backup without a passphrase"), "{note}");
    assert!(note.contains("commonplace backup --out FILE"), "{note}");
}
