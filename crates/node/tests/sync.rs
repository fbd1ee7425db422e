//! Two real profiles (redb files in temporary directories) syncing through sessions, with the
//! frames passed in memory: what the network layer will carry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{node, sync};
use commonplace_model::{ActivityKind, Role, TextEdit};
use commonplace_node::{NewCommunity, NewEntry, NewThread, Node, Profile, ThreadFilter};

#[test]
fn two_profiles_converge_through_sessions() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = ana
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    // Bea has nothing yet; she receives the whole community.
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Night shifts".into(),
                body: "How do you rest?".into(),
                tags: vec![],
            },
        )
        .unwrap();
    let mut events = bea.subscribe();
    sync(&ana, &bea, &c).unwrap();
    assert!(events.try_recv().is_ok(), "sync publishes events");
    assert_eq!(bea.thread(&t).unwrap().title, "Night shifts");
    let entry = ana
        .create_entry(
            &c,
            &NewEntry {
                kind: commonplace_model::EntryKind::Method,
                title: Some("Rest plan".into()),
                body: Some("Sleep.".into()),
                tags: vec![],
                from_thread: None,
            },
        )
        .unwrap();
    sync(&ana, &bea, &c).unwrap();
    // Both write apart, then sync.
    for i in 0..40 {
        ana.reply(&t, &format!("ana {i}"), None).unwrap();
        bea.reply(&t, &format!("bea {i}"), None).unwrap();
    }
    ana.edit_entry(&entry, &TextEdit::Append(" Eat.".into()))
        .unwrap();
    bea.edit_entry(
        &entry,
        &TextEdit::Insert {
            at: 0,
            text: "Plan: ".into(),
        },
    )
    .unwrap();
    sync(&ana, &bea, &c).unwrap();
    let ta = ana.thread(&t).unwrap();
    let tb = bea.thread(&t).unwrap();
    assert_eq!(ta.replies.len(), 80);
    assert_eq!(ta, tb);
    assert_eq!(ana.entry(&entry).unwrap().body, "Plan: Sleep. Eat.");
    assert_eq!(bea.entry(&entry).unwrap().body, "Plan: Sleep. Eat.");
    // The read index follows.
    let la = ana.threads(&c, &ThreadFilter::default()).unwrap();
    let lb = bea.threads(&c, &ThreadFilter::default()).unwrap();
    assert_eq!(la, lb);
    assert_eq!(la[0].replies, 80);
    // And both survive a reopen.
    drop(bea);
    let bea = Node::open(Profile::at(root.path().join("bea"))).unwrap();
    assert_eq!(bea.thread(&t).unwrap(), ta);
}

#[test]
fn a_non_member_may_not_sync() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let eve = node(root.path(), "eve");
    let c = ana
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(!ana.may_sync(&c, &eve.member_id()).unwrap());
    assert!(ana.may_sync(&c, &ana.member_id()).unwrap());
}

/// A community of Ana and Bea with one entry holding `body`, synced to both.
fn shared_entry(root: &std::path::Path, body: &str) -> (Node, Node, commonplace_base::DocId) {
    let ana = node(root, "ana");
    let bea = node(root, "bea");
    let c = ana
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let entry = ana
        .create_entry(
            &c,
            &NewEntry {
                kind: commonplace_model::EntryKind::Method,
                title: Some("Night shift handbook".into()),
                body: Some(body.into()),
                tags: vec![],
                from_thread: None,
            },
        )
        .unwrap();
    sync(&ana, &bea, &c).unwrap();
    assert_eq!(bea.entry(&entry).unwrap().body, body);
    (ana, bea, entry)
}

#[test]
fn members_replacing_different_paragraphs_of_one_entry_keep_both_edits() {
    let root = tempfile::tempdir().unwrap();
    let body: String = (0..300)
        .map(|i| format!("Paragraph {i}: rest between rounds, drink water.\n\n"))
        .collect();
    let (ana, bea, entry) = shared_entry(root.path(), &body);
    let c = ana.entry(&entry).unwrap().community;
    // Each replaces the whole text, as an editor saving does, changing a different paragraph
    // (and Bea two words of one line), without having seen the other's edit.
    let by_ana = body.replace("Paragraph 7: rest", "Paragraph 7: always rest");
    let by_bea = body.replace(
        "Paragraph 250: rest between rounds, drink water.",
        "Paragraph 250: nap between rounds, drink tea.",
    );
    ana.edit_entry(&entry, &TextEdit::Replace(by_ana)).unwrap();
    bea.edit_entry(&entry, &TextEdit::Replace(by_bea)).unwrap();
    sync(&ana, &bea, &c).unwrap();
    let both = body
        .replace("Paragraph 7: rest", "Paragraph 7: always rest")
        .replace(
            "Paragraph 250: rest between rounds, drink water.",
            "Paragraph 250: nap between rounds, drink tea.",
        );
    assert_eq!(ana.entry(&entry).unwrap().body, both);
    assert_eq!(bea.entry(&entry).unwrap().body, both);
    // And different words of one line.
    let by_ana = both.replace("Paragraph 100: rest", "Paragraph 100: pause");
    let by_bea = both.replace(
        "Paragraph 100: rest between rounds, drink",
        "Paragraph 100: rest between rounds, sip",
    );
    ana.edit_entry(&entry, &TextEdit::Replace(by_ana)).unwrap();
    bea.edit_entry(&entry, &TextEdit::Replace(by_bea)).unwrap();
    sync(&ana, &bea, &c).unwrap();
    let both = both.replace(
        "Paragraph 100: rest between rounds, drink",
        "Paragraph 100: pause between rounds, sip",
    );
    assert_eq!(ana.entry(&entry).unwrap().body, both);
    assert_eq!(bea.entry(&entry).unwrap().body, both);
}

#[test]
fn replacing_a_million_characters_is_bounded_work() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let c = ana
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            ..Default::default()
        })
        .unwrap();
    // Just under the limit of an entry's body, in lines as prose comes.
    let line = "Check the drip rate, then the patient's comfort, then the chart.\n";
    let body = line.repeat(commonplace_model::entry::MAX_ENTRY_BODY / line.len());
    let entry = ana
        .create_entry(
            &c,
            &NewEntry {
                kind: commonplace_model::EntryKind::Method,
                title: Some("Night shift handbook".into()),
                body: Some(body.clone()),
                tags: vec![],
                from_thread: None,
            },
        )
        .unwrap();
    // One character in the middle: a splice of one character.
    let mut small = body.clone();
    small.replace_range(body.len() / 2..body.len() / 2 + 1, "K");
    ana.edit_entry(&entry, &TextEdit::Replace(small.clone()))
        .unwrap();
    assert_eq!(ana.entry(&entry).unwrap().body, small);
    // A total rewrite: one splice of the whole text (before, a diff that never finished).
    let other = "Every hour: water, a walk, a word with the next shift.\n"
        .repeat(commonplace_model::entry::MAX_ENTRY_BODY / 56);
    ana.edit_entry(&entry, &TextEdit::Replace(other.clone()))
        .unwrap();
    assert_eq!(ana.entry(&entry).unwrap().body, other);
}
