//! The node calls behind the desktop app's commands: editing an entry against the version the
//! editor showed, restoring an identity from a key backup, read marks and the sync status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use commonplace_model::{ActivityKind, EntryKind, EventKind, Role, TextEdit};
use commonplace_node::{
    ErrorCode, KdfParams, NewCommunity, NewEntry, NewEvent, NewThread, Node, NodeError, Profile,
    RelayMode, read_key_backup,
};

fn setup() -> (tempfile::TempDir, Node, commonplace_base::CommunityId) {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::init(Profile::at(dir.path().join("ana")), "Ana", None, None).unwrap();
    let c = node
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            domain: "Wound care".into(),
            ..Default::default()
        })
        .unwrap();
    (dir, node, c)
}

fn entry(node: &Node, c: &commonplace_base::CommunityId, body: &str) -> commonplace_base::DocId {
    node.create_entry(
        c,
        &NewEntry {
            kind: EntryKind::Method,
            title: Some("Dressing changes".into()),
            body: Some(body.into()),
            tags: vec![],
            from_thread: None,
        },
    )
    .unwrap()
}

#[test]
fn an_edit_against_an_older_version_keeps_what_arrived_meanwhile() {
    let (dir, ana, c) = setup();
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let id = entry(&ana, &c, "Clean the wound.");
    bea.import(&ana.export(&c).unwrap()).unwrap();
    // Ana's editor shows this version...
    let shown = ana.entry_view(&id).unwrap();
    // ...while Bea's edit arrives.
    bea.edit_entry(&id, &TextEdit::Append(" Dry it.".into()))
        .unwrap();
    ana.import(&bea.export(&c).unwrap()).unwrap();
    assert_eq!(ana.entry(&id).unwrap().body, "Clean the wound. Dry it.");
    // Ana's editor still shows the old version and sends its own text: both survive.
    let merged = ana
        .edit_entry_text(&id, &shown.version, "First: clean the wound.")
        .unwrap();
    assert_eq!(merged.entry.body, "First: clean the wound. Dry it.");
    // The merged version is what the editor continues from.
    let again = ana
        .edit_entry_text(&id, &merged.version, "First: clean the wound. Dry it well.")
        .unwrap();
    assert_eq!(again.entry.body, "First: clean the wound. Dry it well.");
    // Signed like any change: Bea verifies and gets the same text.
    bea.import(&ana.export(&c).unwrap()).unwrap();
    assert_eq!(
        bea.entry(&id).unwrap().body,
        "First: clean the wound. Dry it well."
    );
    // Durable: a fresh open reads the same text.
    let profile = ana.profile().clone();
    drop(ana);
    let reopened = Node::open(profile).unwrap();
    assert_eq!(
        reopened.entry(&id).unwrap().body,
        "First: clean the wound. Dry it well."
    );
}

#[test]
fn event_notes_edited_against_an_older_version_keep_what_arrived_meanwhile() {
    let (dir, ana, c) = setup();
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let id = ana
        .create_event(
            &c,
            &NewEvent {
                kind: EventKind::Meeting,
                title: "Regional meeting".into(),
                start_local: "2026-12-03T15:00".into(),
                tz: "Europe/Amsterdam".into(),
                duration_min: 90,
                place: Some("Town hall".into()),
                agenda: "Cases".into(),
                recur: None,
            },
        )
        .unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    let shown = ana.event_view(&id).unwrap();
    assert_eq!(shown.event.notes, "");
    let first = ana
        .edit_event_notes_text(&id, &shown.version, "Present: Ana.")
        .unwrap();
    assert_eq!(first.event.notes, "Present: Ana.");
    bea.import(&ana.export(&c).unwrap()).unwrap();
    // Bea appends while Ana's editor still shows `first`.
    let bv = bea.event_view(&id).unwrap();
    bea.edit_event_notes_text(&id, &bv.version, "Present: Ana.\nBea: bring the map.")
        .unwrap();
    ana.import(&bea.export(&c).unwrap()).unwrap();
    let merged = ana
        .edit_event_notes_text(&id, &first.version, "Present: Ana, Bea.")
        .unwrap();
    assert_eq!(
        merged.event.notes,
        "Present: Ana, Bea.\nBea: bring the map."
    );
    // Unchanged notes record nothing; a stale version is refused.
    let same = ana
        .edit_event_notes_text(&id, &merged.version, &merged.event.notes)
        .unwrap();
    assert_eq!(same.version, merged.version);
    let err = ana
        .edit_event_notes_text(&id, &first.version, "x")
        .unwrap_err();
    assert!(err.to_string().contains("changed since"), "{err}");
    // An observer may not write notes.
    let cy = Node::init(Profile::at(dir.path().join("cy")), "Cy", None, None).unwrap();
    ana.add_member(&c, &cy.member_id(), "Cy", Role::Observer)
        .unwrap();
    cy.import(&ana.export(&c).unwrap()).unwrap();
    let v = cy.event_view(&id).unwrap();
    assert!(cy.edit_event_notes_text(&id, &v.version, "mine").is_err());
    // Bea verifies Ana's merged notes and reads the same.
    bea.import(&ana.export(&c).unwrap()).unwrap();
    assert_eq!(bea.event(&id).unwrap().notes, merged.event.notes);
}

#[test]
fn an_unchanged_text_records_nothing_and_a_stale_version_is_refused() {
    let (_dir, node, c) = setup();
    let id = entry(&node, &c, "Same.");
    let v = node.entry_view(&id).unwrap();
    let same = node.edit_entry_text(&id, &v.version, "Same.").unwrap();
    assert_eq!(same.version, v.version, "no change for an unchanged text");
    // Our own later edit is not in the version sent: the editor lost track and must reload.
    node.edit_entry_text(&id, &v.version, "Same, edited.")
        .unwrap();
    // Refused as a kind of its own (front ends reload on the code, never on the sentence).
    let err = node
        .edit_entry_text(&id, &v.version, "Something else")
        .unwrap_err();
    assert!(matches!(err, NodeError::StaleVersion), "{err:?}");
    assert_eq!(err.code(), ErrorCode::StaleVersion);
    assert!(err.to_string().contains("changed since"), "{err}");
    let err = node
        .edit_entry_text(&id, &["not a version".into()], "x")
        .unwrap_err();
    assert!(matches!(err, NodeError::StaleVersion), "{err:?}");
    assert_eq!(node.entry(&id).unwrap().body, "Same, edited.");
}

const PASS: &str = "long enough passphrase";

#[test]
fn a_key_backup_restores_the_same_member_on_a_new_device() {
    let (dir, node, _c) = setup();
    let backup = dir.path().join("backup.txt");
    assert_eq!(node.identity().unwrap().backed_up_at, None);
    node.backup_key_with(&backup, PASS, KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    let first = node.identity().unwrap().backed_up_at.expect("recorded");
    // Saving again to the same place replaces the file (issue 12: "File exists").
    node.backup_key_with(&backup, PASS, KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    assert!(node.backed_up_at().unwrap().unwrap() >= first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&backup).unwrap();
    let secret = commonplace_base::encode_base32(&node.secret_key().to_secret_bytes());
    assert!(!text.contains(&secret[..12]), "the secret is sealed");
    assert!(
        text.contains(&node.member_id().to_string()),
        "it says whose it is"
    );

    let file = read_key_backup(&backup).unwrap();
    assert_eq!(file.member(), node.member_id());
    let laptop = Profile::at(dir.path().join("laptop"));
    let err = Node::restore(
        laptop.clone(),
        &file,
        "not the passphrase",
        "Ana",
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongPassphrase);
    assert!(
        err.to_string()
            .contains("wrong passphrase or damaged backup")
    );
    assert!(!dir.path().join("laptop").join("identity.key").exists());

    let restored = Node::restore(laptop, &file, PASS, "Ana", Some("North"), None).unwrap();
    assert_eq!(restored.member_id(), node.member_id());
    let id = restored.identity().unwrap();
    assert_eq!(id.region.as_deref(), Some("North"));
    assert!(id.backed_up_at.is_some(), "a sealed backup exists");

    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "not a key").unwrap();
    let err = read_key_backup(&junk).unwrap_err();
    assert!(
        err.to_string().contains("not a Commonplace key backup"),
        "{err}"
    );
    let err = read_key_backup(&dir.path().join("missing.txt")).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!err.to_string().contains("os error"), "{err}");
}

#[test]
fn an_old_plaintext_key_file_still_restores_but_counts_as_no_backup() {
    let (dir, node, _c) = setup();
    let old = dir.path().join("old.txt");
    std::fs::write(&old, node.secret_key().to_key_file()).unwrap();
    let file = read_key_backup(&old).unwrap();
    assert!(!file.is_sealed());
    let restored = Node::restore(
        Profile::at(dir.path().join("laptop")),
        &file,
        "",
        "Ana",
        None,
        None,
    )
    .unwrap();
    assert_eq!(restored.member_id(), node.member_id());
    assert_eq!(restored.backed_up_at().unwrap(), None, "remind to seal one");
}

#[test]
fn a_backup_never_leaves_a_readable_file_or_a_short_passphrase() {
    let (dir, node, _c) = setup();
    let backup = dir.path().join("b.txt");
    let err = node
        .backup_key_with(&backup, "short", KdfParams::INSECURE_FOR_TESTS)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("at least 8 characters"), "{err}");
    assert!(!backup.exists());
    assert_eq!(node.backed_up_at().unwrap(), None);
    // A readable file already there becomes private.
    std::fs::write(&backup, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
        node.backup_key_with(&backup, PASS, KdfParams::INSECURE_FOR_TESTS)
            .unwrap();
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A folder is refused with a sentence.
    let err = node
        .backup_key_with(dir.path(), PASS, KdfParams::INSECURE_FOR_TESTS)
        .unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn read_marks_and_status_without_network() {
    let (_dir, node, c) = setup();
    let t = node
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Silver dressings?".into(),
                body: "Worth the cost?".into(),
                tags: vec![],
            },
        )
        .unwrap();
    assert!(node.read_marks(&c).unwrap().is_empty());
    node.mark_read(&t, 3).unwrap();
    assert_eq!(node.read_marks(&c).unwrap().get(&t), Some(&3));
    let status = node.sync_status(None).unwrap();
    assert!(!status.online);
    assert!(status.peers.is_empty());
    assert_eq!(status.relay, RelayMode::Default);
    assert_eq!(status.unshared.len(), 1);
    assert_eq!(
        status.unshared[0].changes, 2,
        "the community and the thread"
    );
    assert_eq!(
        node.communities().unwrap()[0].my_role,
        Some(Role::Coordinator)
    );
}

#[test]
fn relay_words_round_trip() {
    for (word, mode) in [
        ("default", RelayMode::Default),
        ("none", RelayMode::Off),
        ("off", RelayMode::Off),
        (
            "https://relay.example.org",
            RelayMode::Custom("https://relay.example.org".into()),
        ),
    ] {
        assert_eq!(RelayMode::parse(word), mode);
        assert_eq!(RelayMode::parse(&mode.as_setting()), mode);
    }
}

#[test]
fn a_member_updates_their_own_profile_and_other_members_accept_it() {
    let (dir, ana, c) = setup();
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    let me = bea
        .update_profile("Bea Okafor", Some("North"), Some("St Mary"))
        .unwrap();
    assert_eq!(
        (me.name.as_str(), me.region.as_deref()),
        ("Bea Okafor", Some("North"))
    );
    // Ana's node verifies Bea's change to her own roster entry and shows it.
    ana.import(&bea.export(&c).unwrap()).unwrap();
    let entry = &ana.community(&c).unwrap().roster.members[&bea.member_id()];
    assert_eq!(
        (
            entry.name.as_str(),
            entry.region.as_deref(),
            entry.organisation.as_deref(),
            entry.role
        ),
        ("Bea Okafor", Some("North"), Some("St Mary"), Role::Member)
    );
    // Clearing the region works too; an empty name is refused and changes nothing.
    bea.update_profile("Bea Okafor", None, Some("St Mary"))
        .unwrap();
    ana.import(&bea.export(&c).unwrap()).unwrap();
    assert_eq!(
        ana.community(&c).unwrap().roster.members[&bea.member_id()].region,
        None
    );
    assert!(bea.update_profile("  ", None, None).is_err());
    assert_eq!(bea.identity().unwrap().name, "Bea Okafor");
}

#[test]
fn an_export_signs_each_actors_newest_change_and_every_copy_verifies() {
    use commonplace_model::bundle;
    let (dir, ana, c) = setup();
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    let cy = Node::init(Profile::at(dir.path().join("cy")), "Cy", None, None).unwrap();
    let dan = Node::init(Profile::at(dir.path().join("dan")), "Dan", None, None).unwrap();
    for (who, name) in [(&bea, "Bea"), (&cy, "Cy"), (&dan, "Dan")] {
        ana.add_member(&c, &who.member_id(), name, Role::Member)
            .unwrap();
    }
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Night shifts".into(),
                body: "How do you hand over?".into(),
                tags: vec![],
            },
        )
        .unwrap();
    for k in 0..5 {
        ana.reply(&t, &format!("Ana {k}"), None).unwrap();
    }
    bea.import(&ana.export(&c).unwrap()).unwrap();
    for k in 0..4 {
        bea.reply(&t, &format!("Bea {k}"), None).unwrap();
    }
    // Bea holds Ana's earlier changes without their signatures (vouched for by Ana's newest),
    // and her export carries one signature per actor and document.
    let exported = bea.export(&c).unwrap();
    let body = bundle::decode(&exported).unwrap().body;
    let thread = body.docs.iter().find(|d| d.id == t).unwrap();
    assert_eq!(thread.changes.len(), 1 + 5 + 4);
    let signed = thread
        .changes
        .iter()
        .filter(|c| c.signature.is_some())
        .count();
    assert_eq!(signed, 2, "Ana's newest and Bea's newest");
    // A third member verifies all of it, and so does Ana.
    cy.import(&exported).unwrap();
    assert_eq!(cy.thread(&t).unwrap().replies.len(), 9);
    ana.import(&exported).unwrap();
    assert_eq!(ana.thread(&t).unwrap().replies.len(), 9);
    // The signatures that remain are checked: a flipped byte refuses the whole bundle.
    let mut forged = body.clone();
    let doc = forged.docs.iter_mut().find(|d| d.id == t).unwrap();
    doc.changes
        .iter_mut()
        .find_map(|c| c.signature.as_mut())
        .unwrap()
        .0[9] ^= 1;
    let err = dan
        .import(&bundle::encode(&forged, bea.secret_key()).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
    assert!(dan.communities().unwrap().is_empty(), "nothing was stored");
}

#[test]
fn closing_the_node_snapshots_documents_with_a_long_tail() {
    let (dir, ana, c) = setup();
    let new_thread = |title: &str| {
        ana.create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Story,
                title: title.into(),
                body: "It was late.".into(),
                tags: vec![],
            },
        )
        .unwrap()
    };
    let long = new_thread("The night bus");
    let short = new_thread("The early train");
    for k in 0..12 {
        ana.reply(&long, &format!("reply {k}"), None).unwrap();
    }
    for k in 0..3 {
        ana.reply(&short, &format!("reply {k}"), None).unwrap();
    }
    let before = ana.thread(&long).unwrap();
    let db = ana.profile().db_path();
    let profile = ana.profile().clone();
    drop(ana);
    {
        let store = commonplace_store::Store::open(&db).unwrap();
        let rec = store.doc_record(&long).unwrap().unwrap();
        assert_eq!(
            rec.snapshot_upto, rec.changes,
            "12 changes after the snapshot: saved"
        );
        assert!(store.load_doc(&long).unwrap().unwrap().tail.is_empty());
        let rec = store.doc_record(&short).unwrap().unwrap();
        assert_eq!(
            rec.changes - rec.snapshot_upto,
            3,
            "3 changes: left as they are"
        );
        assert_eq!(
            store.changes(&long).unwrap().len(),
            13,
            "the change log is kept whole"
        );
    }
    // The next start reads the same thread from the new snapshot, and writes on.
    let ana = Node::open(profile).unwrap();
    assert_eq!(ana.thread(&long).unwrap(), before);
    ana.reply(&long, "one more", None).unwrap();
    assert_eq!(ana.thread(&long).unwrap().replies.len(), 13);
    // Nothing is due now; an explicit compaction writes nothing.
    assert_eq!(ana.compact().unwrap(), 0);
    let _ = dir;
}

/// A snapshot is a cache of the change log: one that does not load (damaged, or written
/// before the gate refused changes Automerge does not reproduce) costs a replay of the log,
/// never the document.
#[test]
fn a_document_whose_snapshot_does_not_load_is_rebuilt_from_its_change_log() {
    let (dir, ana, c) = setup();
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Story,
                title: "The night bus".into(),
                body: "It was late.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    for k in 0..3 {
        ana.reply(&t, &format!("reply {k}"), None).unwrap();
    }
    let before = ana.thread(&t).unwrap();
    let db = ana.profile().db_path();
    let profile = ana.profile().clone();
    drop(ana);
    {
        let store = commonplace_store::Store::open(&db).unwrap();
        let rec = store.doc_record(&t).unwrap().unwrap();
        let damaged = b"\x85\x6f\x4a\x83 not a document".to_vec();
        assert_eq!(
            store.put_snapshots(&[(t, rec.changes, damaged)]).unwrap(),
            1
        );
    }
    let ana = Node::open(profile).unwrap();
    assert_eq!(ana.thread(&t).unwrap(), before);
    ana.reply(&t, "still writable", None).unwrap();
    assert_eq!(ana.thread(&t).unwrap().replies.len(), 4);
    // Its community's other documents and lists are untouched.
    assert_eq!(ana.threads(&c, &Default::default()).unwrap().len(), 1);
    let _ = dir;
}

#[test]
fn promoting_a_thread_already_in_the_repertoire_names_the_entry_and_writes_nothing() {
    use commonplace_node::{EntryFilter, NodeError, Promotion};
    let (dir, ana, c) = setup();
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Dressing a burn".into(),
                body: "What do you use?".into(),
                tags: vec!["burns".into()],
            },
        )
        .unwrap();
    let promote = || NewEntry {
        kind: EntryKind::Lesson,
        title: None,
        body: None,
        tags: vec![],
        from_thread: Some(t),
    };
    let Promotion::Created { entry: first } = ana.promote_thread(&c, &promote()).unwrap() else {
        panic!("the first promotion creates an entry");
    };
    assert_eq!(
        ana.promote_thread(&c, &promote()).unwrap(),
        Promotion::Existing { entry: first }
    );
    // create_entry refuses it too, with a variant that names the entry.
    match ana.create_entry(&c, &promote()) {
        Err(e @ NodeError::AlreadyPromoted { entry, .. }) => {
            assert_eq!(entry, first);
            assert_eq!(e.code(), commonplace_node::ErrorCode::AlreadyPromoted);
        }
        other => panic!("expected AlreadyPromoted, got {other:?}"),
    }
    // Also when another member promoted it: Bea's node sees Ana's entry.
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    assert_eq!(
        bea.promote_thread(&c, &promote()).unwrap(),
        Promotion::Existing { entry: first }
    );
    assert_eq!(ana.entries(&c, &EntryFilter::default()).unwrap().len(), 1);
    assert_eq!(bea.entries(&c, &EntryFilter::default()).unwrap().len(), 1);
}

#[test]
fn this_helped_is_for_others_posts_and_each_member_withdraws_only_their_own() {
    use commonplace_node::NodeError;
    let (dir, ana, c) = setup();
    let bea = Node::init(Profile::at(dir.path().join("bea")), "Bea", None, None).unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Dressing a burn".into(),
                body: "What do you use?".into(),
                tags: vec!["burns".into()],
            },
        )
        .unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    let reply = bea.reply(&t, "Silver dressings.", None).unwrap();
    let opening = commonplace_base::PostId::from_bytes(*t.as_bytes());
    // Nobody marks their own post.
    for (n, p) in [(&bea, &reply), (&ana, &opening)] {
        match n.mark_helped(&t, p) {
            Err(NodeError::NotAllowed(_)) => {}
            other => panic!("own post marked: {other:?}"),
        }
    }
    // Ana marks Bea's reply and Bea marks Ana's question; Ana then withdraws hers.
    ana.import(&bea.export(&c).unwrap()).unwrap();
    ana.mark_helped(&t, &reply).unwrap();
    bea.mark_helped(&t, &opening).unwrap();
    ana.import(&bea.export(&c).unwrap()).unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    let marks = |n: &Node| {
        let th = n.thread(&t).unwrap();
        (
            th.replies[0].helped_by.clone(),
            th.opening.helped_by.clone(),
        )
    };
    assert_eq!(marks(&bea), (vec![ana.member_id()], vec![bea.member_id()]));
    ana.unmark_helped(&t, &reply).unwrap();
    // Withdrawing what one never marked does nothing (Bea's mark stays Bea's).
    ana.unmark_helped(&t, &opening).unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    assert_eq!(marks(&bea), (vec![], vec![bea.member_id()]));
    assert_eq!(marks(&ana), (vec![], vec![bea.member_id()]));
}
