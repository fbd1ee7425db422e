//! The real `commonplace` binary, driven with temporary profiles: two members exchanging
//! bundles, concurrent edits converging, and every kind of bad bundle refused with the store
//! unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use commonplace_base::SecretKey;
use commonplace_testkit::{Member, forge};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

/// Ana founds a community, opens a thread, adds Bea as a member and exports.
fn founded(root: &Path) -> (Member, Member, String, String) {
    let ana = Member::init(bin(), root, "ana", "Ana Silva");
    let bea = Member::init(bin(), root, "bea", "Bea Santos");
    let c = ana
        .ok(&[
            "community",
            "create",
            "--name",
            "Crime Prevention Network",
            "--domain",
            "Municipal crime prevention practice",
            "--issue",
            "Engaging Indigenous communities",
            "--value",
            "Partnership, not paternalism",
        ])
        .trim()
        .to_owned();
    ana.ok(&["member", "add", &bea.id, "--name", "Bea Santos"]);
    let t = ana
        .ok(&[
            "thread",
            "new",
            "-c",
            &c,
            "--kind",
            "request",
            "--title",
            "Lighting audits",
            "--body",
            "Has anyone run a night-time lighting audit with residents?",
            "--tag",
            "Lighting",
        ])
        .trim()
        .to_owned();
    (ana, bea, c, t)
}

fn exchange(from: &Member, to: &Member, root: &Path, name: &str) -> serde_json::Value {
    let file = root.join(name);
    from.ok(&["export", "--out", file.to_str().unwrap()]);
    to.json(&["import", file.to_str().unwrap()])
}

#[test]
fn two_members_exchange_bundles_both_ways() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, _c, t) = founded(root.path());
    let report = exchange(&ana, &bea, root.path(), "a1.bundle");
    assert_eq!(report["name"], "Crime Prevention Network");
    assert_eq!(report["exporter"], ana.id.as_str());
    assert!(report["new_changes"].as_u64().unwrap() >= 3);

    // Bea sees the thread and her membership.
    let threads = bea.json(&["thread", "list"]);
    assert_eq!(threads[0]["id"], t.as_str());
    assert_eq!(threads[0]["author"]["name"], "Ana Silva");
    assert_eq!(threads[0]["tags"][0], "lighting");
    let communities = bea.json(&["community", "list"]);
    assert_eq!(communities[0]["my_role"], "member");

    // Bea answers; Ana imports and resolves with Bea's answer.
    let post = bea
        .ok(&[
            "reply",
            &t[..8],
            "--body",
            "Yes: walk the route at 10pm with three residents.",
        ])
        .trim()
        .to_owned();
    exchange(&bea, &ana, root.path(), "b1.bundle");
    let shown = ana.json(&["thread", "show", &t]);
    assert_eq!(shown["posts"][0]["id"], post.as_str());
    assert_eq!(shown["posts"][0]["author"]["id"], bea.id.as_str());
    ana.ok(&["thread", "resolve", &t, "--answer", &post[..10]]);
    // Bea found Ana's question helpful (the opening post's id is the thread's).
    bea.ok(&["thread", "helped", &t, &t]);

    // Importing the same bundle twice adds nothing.
    let again = exchange(&bea, &ana, root.path(), "b2.bundle");
    assert_eq!(again["new_changes"], 1, "only Bea's 'helped' mark is new");
    let again = exchange(&bea, &ana, root.path(), "b2.bundle");
    assert_eq!(again["new_changes"], 0);

    // Promote to the repertoire, keeping links to the posts and contributors.
    let entry = ana
        .ok(&["entry", "new", "--kind", "lesson", "--from-thread", &t])
        .trim()
        .to_owned();
    let e = ana.json(&["entry", "show", &entry]);
    assert_eq!(e["title"], "Lighting audits");
    assert_eq!(e["source"]["thread"], t.as_str());
    assert!(e["body"].as_str().unwrap().contains("walk the route"));
    let contributors: Vec<&str> = e["source"]["contributors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(contributors, vec![ana.id.as_str(), bea.id.as_str()]);

    exchange(&ana, &bea, root.path(), "a2.bundle");
    assert_eq!(
        ana.snapshot(),
        bea.snapshot(),
        "both profiles show the same community"
    );
    let shown = bea.json(&["thread", "show", &t]);
    assert_eq!(shown["resolved"], true);
    assert_eq!(shown["answer"], post.as_str());
    assert_eq!(shown["opening"]["helped_by"][0], bea.id.as_str());
}

#[test]
fn concurrent_edits_of_one_entry_converge() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, c, _) = founded(root.path());
    let entry = ana
        .ok(&[
            "entry",
            "new",
            "-c",
            &c,
            "--kind",
            "method",
            "--title",
            "Night walk",
            "--body",
            "Walk the route at night.",
        ])
        .trim()
        .to_owned();
    exchange(&ana, &bea, root.path(), "a.bundle");
    // Both edit while apart.
    ana.ok(&[
        "entry",
        "edit",
        &entry,
        "--insert-at",
        "0",
        "--text",
        "Step 1: ",
    ]);
    bea.ok(&[
        "entry",
        "edit",
        &entry,
        "--append",
        " Note the broken lamps.",
    ]);
    bea.ok(&[
        "entry",
        "edit",
        &entry,
        "--insert-at",
        "5",
        "--text",
        "slowly ",
    ]);
    exchange(&ana, &bea, root.path(), "a2.bundle");
    exchange(&bea, &ana, root.path(), "b.bundle");
    let a = ana.json(&["entry", "show", &entry]);
    let b = bea.json(&["entry", "show", &entry]);
    assert_eq!(a["body"], b["body"]);
    assert_eq!(
        a["body"],
        "Step 1: Walk slowly the route at night. Note the broken lamps."
    );
    let editors: Vec<&str> = a["editors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(editors.contains(&ana.id.as_str()) && editors.contains(&bea.id.as_str()));
}

/// Imports `bytes` into `who` and expects a refusal mentioning `needle`, with nothing changed.
fn refused(who: &Member, root: &Path, name: &str, bytes: &[u8], needle: &str) {
    let before = who.snapshot();
    let path = root.join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = who.fails(&["import", path.to_str().unwrap()]);
    assert!(
        err.contains(needle),
        "error for {name} should mention '{needle}': {err}"
    );
    assert!(err.starts_with("error: "), "one clear line: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert_eq!(who.snapshot(), before, "{name} changed the store");
}

#[test]
fn bad_bundles_are_refused_and_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, _c, _t) = founded(root.path());
    // Bea already holds an older state, so "unchanged" is a real check.
    exchange(&ana, &bea, root.path(), "old.bundle");
    let second: commonplace_base::DocId = ana
        .ok(&[
            "thread", "new", "--kind", "story", "--title", "Second", "--body", "More.",
        ])
        .trim()
        .parse()
        .unwrap();
    let path = root.path().join("genuine.bundle");
    ana.ok(&["export", "--out", path.to_str().unwrap()]);
    let genuine = std::fs::read(&path).unwrap();
    let body = forge::open(&genuine);
    let mallory = SecretKey::from_seed([66; 32]);
    let bea_key =
        SecretKey::from_key_file(&std::fs::read_to_string(bea.dir().join("identity.key")).unwrap())
            .unwrap();

    // One byte flipped anywhere: caught by the bundle's signature.
    for at in [70, genuine.len() / 2, genuine.len() - 70] {
        let mut bytes = genuine.clone();
        bytes[at] ^= 0x04;
        refused(
            &bea,
            root.path(),
            "flipped.bundle",
            &bytes,
            "altered or damaged",
        );
    }
    // Truncated.
    refused(
        &bea,
        root.path(),
        "short.bundle",
        &genuine[..genuine.len() / 3],
        "truncated",
    );
    refused(
        &bea,
        root.path(),
        "empty.bundle",
        b"",
        "not a Commonplace bundle",
    );
    refused(
        &bea,
        root.path(),
        "text.bundle",
        b"hello, world",
        "not a Commonplace bundle",
    );

    // A change signed by someone who is not a member, in an otherwise genuine bundle.
    let forged = forge::seal(&forge::thread_by(&body, &mallory, 1), &mallory);
    refused(
        &bea,
        root.path(),
        "nonmember.bundle",
        &forged,
        "not a member",
    );

    // A member (Bea) promoting herself: roster changes need a coordinator.
    let forged = forge::seal(&forge::self_promotion(&body, &bea_key, 2), &bea_key);
    refused(
        &bea,
        root.path(),
        "promotion.bundle",
        &forged,
        "not a coordinator",
    );

    // A forged signature on a genuine change, and a tampered change.
    let forged = forge::seal(&forge::forged_signature(&body, &second), &mallory);
    refused(
        &bea,
        root.path(),
        "forged.bundle",
        &forged,
        "forged or damaged signature",
    );
    let forged = forge::seal(&forge::tampered_change(&body, &second), &mallory);
    refused(&bea, root.path(), "tampered.bundle", &forged, "refused");

    // A change whose actor names Bea but which Mallory signed.
    let forged = forge::seal(
        &forge::mismatched_actor(&body, &bea_key, &mallory, 3),
        &mallory,
    );
    refused(
        &bea,
        root.path(),
        "actor.bundle",
        &forged,
        "forged or damaged signature",
    );

    // And the genuine bundle still imports afterwards.
    let report = bea.json(&["import", path.to_str().unwrap()]);
    assert!(report["new_changes"].as_u64().unwrap() >= 1);
}

#[test]
fn local_rules_and_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, c, t) = founded(root.path());
    exchange(&ana, &bea, root.path(), "a.bundle");
    // Bea is a member, not a coordinator.
    let err = bea.fails(&[
        "member", "add", &ana.id, "--name", "X", "--role", "observer",
    ]);
    assert!(err.contains("only coordinators may add members"), "{err}");
    let err = bea.fails(&["thread", "resolve", &t]);
    assert!(err.contains("author or a coordinator"), "{err}");
    // Weak keys (here the identity point and all-zero bytes, both of small order) are never
    // members: anyone could forge their signatures.
    for weak in [format!("ae{}", "a".repeat(50)), "a".repeat(52)] {
        let err = ana.fails(&["member", "add", &weak, "--name", "Nobody"]);
        assert!(err.contains("not a valid member id"), "{err}");
    }
    // The last coordinator cannot step down.
    let err = ana.fails(&["member", "role", &ana.id, "member"]);
    assert!(err.contains("at least one coordinator"), "{err}");
    // Observers read only.
    ana.ok(&["member", "role", "Bea Santos", "observer", "-c", &c]);
    exchange(&ana, &bea, root.path(), "a2.bundle");
    let err = bea.fails(&["reply", &t, "--body", "hi"]);
    assert!(
        err.contains("you are a observer") || err.contains("observer"),
        "{err}"
    );
    // Unknown words and empty inputs.
    let err = ana.fails(&[
        "thread", "new", "--kind", "poem", "--title", "x", "--body", "y",
    ]);
    assert!(err.contains("problem"), "{err}");
    let err = ana.fails(&[
        "thread", "new", "--kind", "story", "--title", "  ", "--body", "y",
    ]);
    assert!(err.contains("title must not be empty"), "{err}");
    // Unknown ids and short prefixes.
    let err = ana.fails(&["thread", "show", "zzzzzzzz"]);
    assert!(err.contains("no thread matches"), "{err}");
    let err = ana.fails(&["thread", "show", "ab"]);
    assert!(err.contains("at least 4 characters"), "{err}");
    // A profile without identity.
    let empty = root.path().join("nobody");
    let out = std::process::Command::new(bin())
        .args(["--profile", empty.to_str().unwrap(), "whoami"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("commonplace init"));
    // init twice.
    let err = ana.fails(&["init", "--name", "Again"]);
    assert!(err.contains("already has an identity"), "{err}");
}

#[test]
fn secret_key_is_private_and_never_printed() {
    let root = tempfile::tempdir().unwrap();
    let (ana, _bea, _c, t) = founded(root.path());
    let key_text = std::fs::read_to_string(ana.dir().join("identity.key")).unwrap();
    let secret = key_text.lines().nth(1).unwrap().trim().to_owned();
    assert_eq!(secret.len(), 52);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ana.dir().join("identity.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(ana.dir()).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o077, 0, "profile directory is private");
    }
    let mut seen = String::new();
    for args in [
        vec!["whoami"],
        vec!["whoami", "--json"],
        vec!["community", "list", "--json"],
        vec!["thread", "show", t.as_str(), "--json"],
        vec!["member", "list", "--json"],
    ] {
        let out = ana
            .command(&args)
            .env("COMMONPLACE_LOG", "trace")
            .output()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let bundle = root.path().join("x.bundle");
    ana.ok(&["export", "--out", bundle.to_str().unwrap()]);
    let bytes = std::fs::read(&bundle).unwrap();
    assert!(!seen.contains(&secret[..16]), "secret key printed");
    assert!(
        !String::from_utf8_lossy(&bytes).contains(&secret[..16]),
        "secret key in a bundle"
    );
}

#[test]
fn a_profile_open_elsewhere_gives_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let held = commonplace_node::Node::open(commonplace_node::Profile::at(ana.dir())).unwrap();
    let started = std::time::Instant::now();
    let err = ana.fails(&["whoami"]);
    assert!(
        err.contains("in use by another Commonplace process"),
        "{err}"
    );
    // "Not a hang": the refusal comes at once (a generous bound, not a timing benchmark).
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(held);
    ana.ok(&["whoami"]);
}

#[test]
fn profile_comes_from_the_environment_when_not_given() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("env-profile");
    let out = std::process::Command::new(bin())
        .args(["init", "--name", "Env"])
        .env("COMMONPLACE_PROFILE", &dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.join("identity.key").exists());
    // And the XDG data dir when neither is given.
    let xdg = root.path().join("xdg");
    let out = std::process::Command::new(bin())
        .args(["init", "--name", "Xdg"])
        .env_remove("COMMONPLACE_PROFILE")
        .env("XDG_DATA_HOME", &xdg)
        .env("HOME", root.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(xdg.join("commonplace/default/identity.key").exists());
}

/// Making a member who has written an observer must not make the community's history
/// unverifiable: a newcomer imports the coordinator's bundle whole, Bea's reply included,
/// and what Bea writes as an observer is refused.
#[test]
fn a_demotion_keeps_the_history_verifiable_for_newcomers() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, c, t) = founded(root.path());
    exchange(&ana, &bea, root.path(), "a1.bundle");
    bea.ok(&["reply", &t, "--body", "We walked it at 10pm."]);
    exchange(&bea, &ana, root.path(), "b1.bundle");
    // Change timestamps are in milliseconds: let the change of role come strictly later.
    std::thread::sleep(std::time::Duration::from_millis(5));
    ana.ok(&["member", "role", "Bea Santos", "observer", "-c", &c]);
    let cy = Member::init(bin(), root.path(), "cy", "Cy Tremblay");
    ana.ok(&["member", "add", &cy.id, "--name", "Cy Tremblay"]);
    let report = exchange(&ana, &cy, root.path(), "a2.bundle");
    assert!(report["new_changes"].as_u64().unwrap() >= 4, "{report}");
    let shown = cy.json(&["thread", "show", &t]);
    assert_eq!(shown["posts"][0]["author"]["id"], bea.id.as_str());
    // Bea, now an observer, cannot write.
    exchange(&ana, &bea, root.path(), "a3.bundle");
    let err = bea.fails(&["reply", &t, "--body", "One more thing."]);
    assert!(err.contains("observer"), "{err}");
}

#[test]
fn promoting_a_thread_twice_names_the_entry_it_already_has() {
    let root = tempfile::tempdir().unwrap();
    let (ana, _bea, _c, t) = founded(root.path());
    let first = ana.ok(&["entry", "new", "--kind", "lesson", "--from-thread", &t]);
    let first = first.trim();
    // Again: the same entry, said so, and no second copy.
    let out = ana.run(&["entry", "new", "--kind", "lesson", "--from-thread", &t]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), first);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in the repertoire"), "{err}");
    let again = ana.json(&["entry", "new", "--kind", "story", "--from-thread", &t]);
    assert_eq!(again["id"], first);
    assert_eq!(again["existing"], true);
    let entries = ana.json(&["entry", "list"]);
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
}

#[test]
fn this_helped_is_for_others_posts_and_can_be_withdrawn() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, _c, t) = founded(root.path());
    exchange(&ana, &bea, root.path(), "a.bundle");
    let post = bea
        .ok(&["reply", &t, "--body", "Yes, with residents at night."])
        .trim()
        .to_owned();
    exchange(&bea, &ana, root.path(), "b.bundle");
    let helped_by = |m: &commonplace_testkit::Member| {
        let shown = m.json(&["thread", "show", &t]);
        shown["posts"][0]["helped_by"].clone()
    };
    // Bea may not mark her own reply, nor Ana her own question.
    let err = bea.fails(&["thread", "helped", &t, &post]);
    assert!(err.contains("your own post"), "{err}");
    let err = ana.fails(&["thread", "helped", &t, &t]);
    assert!(err.contains("your own post"), "{err}");
    // Ana marks Bea's reply, then withdraws it; Bea's node sees both.
    ana.ok(&["thread", "helped", &t, &post]);
    exchange(&ana, &bea, root.path(), "a2.bundle");
    assert_eq!(helped_by(&bea), serde_json::json!([ana.id]));
    let done = ana.json(&["thread", "helped", &t, &post, "--undo"]);
    assert_eq!(done["ok"], true);
    exchange(&ana, &bea, root.path(), "a3.bundle");
    assert_eq!(helped_by(&bea), serde_json::json!([]));
    // Withdrawing again changes nothing.
    ana.ok(&["thread", "helped", &t, &post, "--undo"]);
}

#[test]
fn the_region_and_organisation_given_at_init_are_in_the_roster() {
    let root = tempfile::tempdir().unwrap();
    let cy = Member::init_with(
        bin(),
        root.path(),
        "cy",
        &[
            "--name",
            "Cy Lee",
            "--region",
            "North",
            "--organisation",
            "St Mary",
        ],
    );
    cy.ok(&[
        "community",
        "create",
        "--name",
        "Nurses",
        "--domain",
        "Wound care",
    ]);
    let me = cy.json(&["whoami"]);
    assert_eq!(me["region"], "North");
    let members = cy.json(&["member", "list"]);
    assert_eq!(members[0]["region"], "North", "{members}");
    assert_eq!(members[0]["organisation"], "St Mary", "{members}");
}
