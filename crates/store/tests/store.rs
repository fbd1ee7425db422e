//! The store's public API: commits are atomic and durable, documents load as snapshot plus
//! tail, index rows are kept per community, and one profile has one owner at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use redb::ReadableDatabase;

use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use commonplace_base::{CommunityId, DocId, MemberId, SecretKey, Signature, Timestamp};
use commonplace_model::{
    ActivityKind, Charter, Community, DocKind, DocRef, EntryKind, EntrySummary, Genesis, Roster,
    SignedChange, ThreadSummary, new_document, thread,
};
use commonplace_store::{Commit, DocRecord, DocWrite, IndexRow, OpenError, Store, StoreError};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn member(seed: u8) -> MemberId {
    SecretKey::from_seed([seed; 32]).member_id()
}

fn community_id(n: u8) -> CommunityId {
    CommunityId::from_bytes([n; 16])
}

/// A fake change: the store does not look inside changes, it only keeps them.
fn change(seed: u8, len: usize, signed: bool) -> SignedChange {
    SignedChange {
        bytes: (0..len).map(|i| seed.wrapping_add(i as u8)).collect(),
        signature: signed.then_some(Signature([seed; 64])),
    }
}

fn fake_hash(seed: u8) -> [u8; 32] {
    let mut h = [seed; 32];
    h[0] = 0xaa;
    h
}

fn thread_summary(community: CommunityId, id: DocId, title: &str) -> ThreadSummary {
    ThreadSummary {
        id,
        community,
        activity: ActivityKind::Problem,
        title: title.into(),
        author: Some(member(1)),
        tags: vec!["youth".into()],
        created_at: Timestamp(1),
        last_activity: Timestamp(2),
        replies: 3,
        first_reply_at: Some(Timestamp(2)),
        resolved: false,
        answer: None,
        resolved_at: None,
        participants: vec![member(1), member(2)],
        helped: 1,
        excerpt: "excerpt".into(),
    }
}

fn entry_summary(community: CommunityId, id: DocId, title: &str) -> EntrySummary {
    EntrySummary {
        id,
        community,
        kind: EntryKind::Tool,
        title: title.into(),
        author: Some(member(2)),
        editors: vec![member(2)],
        tags: vec![],
        created_at: Timestamp(5),
        updated_at: Timestamp(6),
        source_thread: None,
        excerpt: String::new(),
    }
}

fn community_row(id: CommunityId, name: &str) -> Community {
    let genesis = Genesis {
        founder: member(1),
        nonce: [id.as_bytes()[0]; 16],
    };
    Community {
        id,
        genesis,
        charter: Charter {
            name: name.into(),
            ..Charter::default()
        },
        roster: Roster::default(),
        created_at: Timestamp(7),
    }
}

/// A write of fake changes to a thread, its heads the last change's hash.
fn thread_write(
    community: CommunityId,
    id: DocId,
    changes: Vec<(SignedChange, [u8; 32])>,
    snapshot: Option<Vec<u8>>,
) -> DocWrite {
    let heads = changes.last().map(|(_, h)| vec![*h]).unwrap_or_default();
    let (changes, hashes) = changes.into_iter().unzip();
    DocWrite {
        doc: DocRef {
            community,
            kind: DocKind::Thread,
            id,
        },
        changes,
        hashes,
        heads,
        snapshot,
        index: IndexRow::Thread(Box::new(thread_summary(community, id, "t"))),
        activity: None,
    }
}

fn numbered(from: u8, n: u8) -> Vec<(SignedChange, [u8; 32])> {
    (from..from + n)
        .map(|i| (change(i, 10 + usize::from(i), i % 2 == 0), fake_hash(i)))
        .collect()
}

fn open(path: &Path) -> Store {
    Store::open(path).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_profile_is_empty_and_has_a_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.redb");
    let store = open(&path);
    assert_eq!(store.path(), path);
    assert!(store.communities().unwrap().is_empty());
    let c = community_id(1);
    assert_eq!(store.community(&c).unwrap(), None);
    assert!(store.threads(&c).unwrap().is_empty());
    assert!(store.entries(&c).unwrap().is_empty());
    assert!(store.docs_of(&c).unwrap().is_empty());
    let d = DocId::from_bytes([1; 16]);
    assert_eq!(store.doc_record(&d).unwrap(), None);
    assert!(store.load_doc(&d).unwrap().is_none());
    assert!(store.changes(&d).unwrap().is_empty());
    assert_eq!(store.signatures(&d, &[fake_hash(1)]).unwrap(), vec![None]);
    assert_eq!(
        store.meta("format").unwrap(),
        Some(1u32.to_le_bytes().to_vec())
    );
    assert_eq!(store.meta("nothing").unwrap(), None);
}

#[test]
fn a_second_open_while_the_first_is_alive_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.redb");
    let first = open(&path);
    match Store::open(&path) {
        Err(OpenError::InUse { path: p }) => assert_eq!(p, path),
        other => panic!("expected InUse, got {other:?}"),
    }
    // The first handle still works.
    first
        .commit(&Commit {
            meta: vec![("name".into(), b"Ana".to_vec())],
            ..Commit::default()
        })
        .unwrap();
    drop(first);
    let again = open(&path);
    assert_eq!(again.meta("name").unwrap(), Some(b"Ana".to_vec()));
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.redb");
    std::fs::write(
        &path,
        b"this is a text file, not a redb database, honest".repeat(100),
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, OpenError::Damaged { .. } | OpenError::Io { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("profile.redb"), "{err}");
    // The cause is kept as a typed source, not flattened into the sentence.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.redb");
    {
        let store = open(&path);
        store
            .commit(&Commit {
                meta: vec![("format".into(), 2u32.to_le_bytes().to_vec())],
                ..Commit::default()
            })
            .unwrap();
    }
    match Store::open(&path) {
        Err(OpenError::Version {
            found, supported, ..
        }) => {
            assert_eq!(found, 2);
            assert_eq!(supported, 1);
        }
        other => panic!("expected Version, got {other:?}"),
    }
}

#[test]

fn a_newer_format_with_other_tables_is_refused_as_newer_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.redb");
    {
        // What a future Commonplace might write: format 2, `docs` keyed differently.
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut meta = tx
                .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
                .unwrap();
            meta.insert("format", 2u32.to_le_bytes().as_slice())
                .unwrap();
            let mut docs = tx
                .open_table(redb::TableDefinition::<u64, u64>::new("docs"))
                .unwrap();
            docs.insert(1u64, 2u64).unwrap();
        }
        tx.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, OpenError::Version { found: 2, .. }),
        "{err:?}"
    );
    // Nothing of ours was written into it: its tables still have the newer types and data.
    // (redb itself may rewrite its header on open, so the bytes are not compared.)
    let db = redb::Database::open(&path).unwrap();
    let tx = db.begin_read().unwrap();
    let docs = tx
        .open_table(redb::TableDefinition::<u64, u64>::new("docs"))
        .unwrap();
    assert_eq!(docs.get(1u64).unwrap().unwrap().value(), 2);
    assert!(
        tx.open_table(redb::TableDefinition::<&[u8], &[u8]>::new("changes"))
            .is_err(),
        "no table of ours was created"
    );
}

// ---------------------------------------------------------------------------------------------
// Commit and load
// ---------------------------------------------------------------------------------------------

#[test]
fn commit_then_load_returns_the_changes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let c = community_id(1);
    let d = DocId::from_bytes([0x10; 16]);
    let first = numbered(1, 3);
    store
        .commit(&Commit {
            docs: vec![thread_write(c, d, first.clone(), None)],
            meta: vec![],
        })
        .unwrap();
    let loaded = store.load_doc(&d).unwrap().unwrap();
    assert_eq!(
        loaded.record,
        DocRecord {
            community: c,
            kind: DocKind::Thread,
            changes: 3,
            snapshot_upto: 0,
            heads: vec![fake_hash(3)],
        }
    );
    assert_eq!(loaded.snapshot, None);
    let want: Vec<SignedChange> = first.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(loaded.tail, want);
    assert_eq!(store.changes(&d).unwrap(), want);

    // A second commit appends.
    let second = numbered(4, 2);
    store
        .commit(&Commit {
            docs: vec![thread_write(c, d, second.clone(), None)],
            meta: vec![],
        })
        .unwrap();
    let mut all = want.clone();
    all.extend(second.iter().map(|(c, _)| c.clone()));
    assert_eq!(store.changes(&d).unwrap(), all);
    let rec = store.doc_record(&d).unwrap().unwrap();
    assert_eq!(rec.changes, 5);
    assert_eq!(rec.heads, vec![fake_hash(5)]);
}

#[test]
fn load_honours_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let c = community_id(1);
    let d = DocId::from_bytes([0x10; 16]);
    let commit = |changes, snapshot| {
        store
            .commit(&Commit {
                docs: vec![thread_write(c, d, changes, snapshot)],
                meta: vec![],
            })
            .unwrap();
    };
    let all = numbered(1, 9);
    let plain = |r: std::ops::Range<usize>| -> Vec<SignedChange> {
        all[r].iter().map(|(c, _)| c.clone()).collect()
    };
    commit(all[0..3].to_vec(), None);
    // A snapshot in the write covers every change up to and including that write.
    commit(all[3..5].to_vec(), Some(b"snapshot-at-5".to_vec()));
    let l = store.load_doc(&d).unwrap().unwrap();
    assert_eq!(l.record.changes, 5);
    assert_eq!(l.record.snapshot_upto, 5);
    assert_eq!(l.snapshot.as_deref(), Some(b"snapshot-at-5".as_slice()));
    assert!(l.tail.is_empty());

    commit(all[5..7].to_vec(), None);
    let l = store.load_doc(&d).unwrap().unwrap();
    assert_eq!(l.record.snapshot_upto, 5);
    assert_eq!(l.snapshot.as_deref(), Some(b"snapshot-at-5".as_slice()));
    assert_eq!(l.tail, plain(5..7), "the tail is what follows the snapshot");

    // A newer snapshot replaces the older one.
    commit(all[7..8].to_vec(), Some(b"snapshot-at-8".to_vec()));
    commit(all[8..9].to_vec(), None);
    let l = store.load_doc(&d).unwrap().unwrap();
    assert_eq!(l.record.changes, 9);
    assert_eq!(l.record.snapshot_upto, 8);
    assert_eq!(l.snapshot.as_deref(), Some(b"snapshot-at-8".as_slice()));
    assert_eq!(l.tail, plain(8..9));
    assert_eq!(
        store.changes(&d).unwrap(),
        plain(0..9),
        "the log keeps everything"
    );
}

#[test]
fn signatures_are_kept_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let c = community_id(1);
    let d = DocId::from_bytes([0x10; 16]);
    let other = DocId::from_bytes([0x11; 16]);
    let changes = numbered(1, 4); // 2 and 4 signed, 1 and 3 not
    store
        .commit(&Commit {
            docs: vec![thread_write(c, d, changes, None)],
            meta: vec![],
        })
        .unwrap();
    let asked: Vec<[u8; 32]> = (1..=5).map(fake_hash).collect();
    assert_eq!(
        store.signatures(&d, &asked).unwrap(),
        vec![
            None,
            Some(Signature([2; 64])),
            None,
            Some(Signature([4; 64])),
            None
        ]
    );
    assert_eq!(
        store.signatures(&other, &asked).unwrap(),
        vec![None; 5],
        "signatures belong to their document"
    );
}

#[test]
fn a_real_document_round_trips_through_snapshot_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let key = SecretKey::from_seed([1; 32]);
    let mut actor = vec![7u8; 16];
    actor.extend_from_slice(key.member_id().as_bytes());
    let community = community_id(3);
    let doc_ref = DocRef {
        community,
        kind: DocKind::Thread,
        id: DocId::from_bytes([0x30; 16]),
    };
    let mut doc = new_document(&actor);
    let mut written: Vec<ChangeHash> = Vec::new();
    let mut step = |doc: &mut Automerge, i: u8| {
        let hash = doc
            .transact(|tx| {
                if i == 0 {
                    thread::init(
                        tx,
                        &community,
                        ActivityKind::Story,
                        "The night bus",
                        "It was late.",
                        &[],
                        Timestamp(0),
                    )
                } else {
                    thread::reply(
                        tx,
                        &commonplace_base::PostId::from_bytes([i; 16]),
                        &format!("reply {i}"),
                        None,
                        Timestamp(i64::from(i)),
                    )
                }
            })
            .map_err(|f| f.error)
            .unwrap()
            .hash
            .unwrap();
        written.push(hash);
        let change = doc.get_change_by_hash(&hash).unwrap();
        let summary = thread::read(doc, doc_ref.id).unwrap().summary();
        (
            SignedChange {
                bytes: change.raw_bytes().to_vec(),
                signature: Some(doc_ref.sign(&key, &hash)),
            },
            hash,
            summary,
        )
    };
    // Changes 0..4 with a snapshot after the fourth, then 4..7 without.
    for i in 0..7u8 {
        let (sc, hash, summary) = step(&mut doc, i);
        let snapshot = (i == 3).then(|| doc.save());
        store
            .commit(&Commit {
                docs: vec![DocWrite {
                    doc: doc_ref,
                    changes: vec![sc],
                    hashes: vec![hash.0],
                    heads: doc.get_heads().iter().map(|h| h.0).collect(),
                    snapshot,
                    index: IndexRow::Thread(Box::new(summary)),
                    activity: None,
                }],
                meta: vec![],
            })
            .unwrap();
    }

    let loaded = store.load_doc(&doc_ref.id).unwrap().unwrap();
    assert_eq!(loaded.record.snapshot_upto, 4);
    assert_eq!(loaded.tail.len(), 3);
    let mut back = Automerge::load(&loaded.snapshot.unwrap()).unwrap();
    back.apply_changes(
        loaded
            .tail
            .iter()
            .map(|c| Change::from_bytes(c.bytes.clone()).unwrap()),
    )
    .unwrap();
    assert_eq!(back.get_heads(), doc.get_heads());
    assert_eq!(
        loaded.record.heads,
        doc.get_heads().iter().map(|h| h.0).collect::<Vec<_>>()
    );
    assert_eq!(
        thread::read(&back, doc_ref.id).unwrap(),
        thread::read(&doc, doc_ref.id).unwrap()
    );
    let summaries = store.threads(&community).unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].replies, 6);

    // A fresh snapshot is taken only when it covers exactly the stored changes and more than
    // the stored one; then the document loads with no tail.
    let full = doc.save_nocompress();
    assert_eq!(
        store
            .put_snapshots(&[
                (doc_ref.id, 6, full.clone()),
                (DocId::from_bytes([0x31; 16]), 7, full.clone()),
            ])
            .unwrap(),
        0,
        "stale or unknown documents are skipped"
    );
    assert_eq!(store.load_doc(&doc_ref.id).unwrap().unwrap().tail.len(), 3);
    assert_eq!(
        store
            .put_snapshots(&[(doc_ref.id, 7, full.clone())])
            .unwrap(),
        1
    );
    let compacted = store.load_doc(&doc_ref.id).unwrap().unwrap();
    assert_eq!(compacted.record.snapshot_upto, 7);
    assert!(compacted.tail.is_empty());
    assert_eq!(compacted.record.heads, loaded.record.heads);
    let back = Automerge::load(&compacted.snapshot.unwrap()).unwrap();
    assert_eq!(back.get_heads(), doc.get_heads());
    assert_eq!(store.put_snapshots(&[(doc_ref.id, 7, full)]).unwrap(), 0);
    assert_eq!(
        store.changes(&doc_ref.id).unwrap().len(),
        7,
        "the log is kept"
    );

    // Every stored signature is there and verifies.
    let hashes: Vec<[u8; 32]> = written.iter().map(|h| h.0).collect();
    let sigs = store.signatures(&doc_ref.id, &hashes).unwrap();
    for (h, s) in written.iter().zip(sigs) {
        let s = s.unwrap();
        assert!(
            key.member_id()
                .verify(
                    commonplace_base::SigningDomain::Change,
                    &doc_ref.change_message(h),
                    &s
                )
                .is_ok()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Index rows
// ---------------------------------------------------------------------------------------------

#[test]
fn index_rows_are_listed_per_community() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    // Neighbouring ids, so that a scan that overruns its community's range shows.
    let a = CommunityId::from_bytes([0x11; 16]);
    let mut b_bytes = [0x11; 16];
    b_bytes[15] = 0x12;
    let b = CommunityId::from_bytes(b_bytes);
    let lo = CommunityId::from_bytes([0x00; 16]);
    let hi = CommunityId::from_bytes([0xff; 16]);
    let t = |n: u8| DocId::from_bytes([n; 16]);

    let mut docs = Vec::new();
    // Community rows for two of them (the document ids of `lo` and `hi` would clash with
    // thread ids below).
    for c in [a, b] {
        docs.push(DocWrite {
            doc: DocRef::community(c),
            changes: vec![change(c.as_bytes()[15], 5, true)],
            hashes: vec![fake_hash(c.as_bytes()[15])],
            heads: vec![],
            snapshot: None,
            index: IndexRow::Community(Box::new(community_row(c, &format!("c{c}")))),
            activity: None,
        });
    }
    // Threads: 0xff and 0x00 ids too, at the edges of each range.
    for (c, id, title) in [
        (a, t(0xff), "a-last"),
        (a, t(0x00), "a-first"),
        (a, t(0x50), "a-mid"),
        (b, t(0x00), "b-first"),
        (lo, t(0x01), "lo"),
        (hi, t(0xfe), "hi"),
    ] {
        // Thread ids shared across communities would clash in `docs`: derive distinct ones.
        let mut bytes = *id.as_bytes();
        bytes[0] ^= c.as_bytes()[15];
        let id = if c == a { id } else { DocId::from_bytes(bytes) };
        let mut w = thread_write(c, id, vec![], None);
        w.index = IndexRow::Thread(Box::new(thread_summary(c, id, title)));
        docs.push(w);
    }
    let e = DocId::from_bytes([0x60; 16]);
    docs.push(DocWrite {
        doc: DocRef {
            community: b,
            kind: DocKind::Entry,
            id: e,
        },
        changes: vec![],
        hashes: vec![],
        heads: vec![],
        snapshot: None,
        index: IndexRow::Entry(Box::new(entry_summary(b, e, "b-entry"))),
        activity: None,
    });
    store.commit(&Commit { docs, meta: vec![] }).unwrap();

    let titles = |c: &CommunityId| -> Vec<String> {
        store
            .threads(c)
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect()
    };
    assert_eq!(
        titles(&a),
        vec!["a-first", "a-mid", "a-last"],
        "in id order"
    );
    assert_eq!(titles(&b), vec!["b-first"]);
    assert_eq!(titles(&lo), vec!["lo"]);
    assert_eq!(titles(&hi), vec!["hi"]);
    assert!(store.entries(&a).unwrap().is_empty());
    let entries = store.entries(&b).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0], entry_summary(b, e, "b-entry"));
    assert!(store.threads(&community_id(0x33)).unwrap().is_empty());

    // Communities and documents.
    let mut names: Vec<String> = store
        .communities()
        .unwrap()
        .into_iter()
        .map(|c| c.charter.name)
        .collect();
    names.sort();
    let mut want: Vec<String> = [a, b].iter().map(|c| format!("c{c}")).collect();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(
        store.community(&a).unwrap(),
        Some(community_row(a, &format!("c{a}")))
    );
    assert_eq!(store.community(&community_id(0x33)).unwrap(), None);
    let mut docs_of_a: Vec<(DocId, DocKind)> = store
        .docs_of(&a)
        .unwrap()
        .into_iter()
        .map(|(id, r)| (id, r.kind))
        .collect();
    docs_of_a.sort();
    let mut want = vec![
        (DocRef::community(a).id, DocKind::Community),
        (t(0x00), DocKind::Thread),
        (t(0x50), DocKind::Thread),
        (t(0xff), DocKind::Thread),
    ];
    want.sort();
    assert_eq!(docs_of_a, want);
    let kinds_of_b: Vec<DocKind> = {
        let mut k: Vec<DocKind> = store
            .docs_of(&b)
            .unwrap()
            .into_iter()
            .map(|(_, r)| r.kind)
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds_of_b,
        vec![DocKind::Community, DocKind::Thread, DocKind::Entry]
    );
}

#[test]
fn a_later_write_replaces_the_index_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let c = community_id(1);
    let d = DocId::from_bytes([0x10; 16]);
    let mut w = thread_write(c, d, numbered(1, 1), None);
    store
        .commit(&Commit {
            docs: vec![w.clone()],
            meta: vec![],
        })
        .unwrap();
    w.changes = vec![change(2, 3, true)];
    w.hashes = vec![fake_hash(2)];
    w.index = IndexRow::Thread(Box::new(thread_summary(c, d, "renamed")));
    store
        .commit(&Commit {
            docs: vec![w],
            meta: vec![],
        })
        .unwrap();
    let rows = store.threads(&c).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].title, "renamed");
}

// ---------------------------------------------------------------------------------------------
// Atomicity and durability
// ---------------------------------------------------------------------------------------------

#[test]
fn a_failing_commit_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("p.redb"));
    let c = community_id(1);
    let existing = DocId::from_bytes([0x10; 16]);
    store
        .commit(&Commit {
            docs: vec![thread_write(c, existing, numbered(1, 2), None)],
            meta: vec![],
        })
        .unwrap();
    let before = store.load_doc(&existing).unwrap().unwrap();

    let fresh = DocId::from_bytes([0x20; 16]);
    let good = thread_write(c, fresh, numbered(10, 3), Some(b"snap".to_vec()));
    let bad_kind = {
        let mut w = thread_write(c, existing, numbered(20, 1), None);
        w.doc.kind = DocKind::Entry;
        w.index = IndexRow::Entry(Box::new(entry_summary(c, existing, "x")));
        w
    };
    let bad_community = {
        let mut w = thread_write(community_id(2), existing, numbered(20, 1), None);
        w.index = IndexRow::Thread(Box::new(thread_summary(community_id(2), existing, "x")));
        w
    };
    let bad_hashes = {
        let mut w = thread_write(c, existing, numbered(20, 2), None);
        w.hashes.pop();
        w
    };
    for bad in [bad_kind, bad_community, bad_hashes] {
        let err = store
            .commit(&Commit {
                docs: vec![good.clone(), bad],
                meta: vec![("name".into(), b"Ana".to_vec())],
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");

        // Nothing of the first write is visible.
        assert_eq!(store.doc_record(&fresh).unwrap(), None);
        assert!(store.load_doc(&fresh).unwrap().is_none());
        assert!(store.changes(&fresh).unwrap().is_empty());
        assert_eq!(
            store.signatures(&fresh, &[fake_hash(10)]).unwrap(),
            vec![None]
        );
        assert_eq!(store.threads(&c).unwrap().len(), 1);
        assert!(store.entries(&c).unwrap().is_empty());
        assert_eq!(store.docs_of(&c).unwrap().len(), 1);
        assert!(store.docs_of(&community_id(2)).unwrap().is_empty());
        assert_eq!(store.meta("name").unwrap(), None);
        // And the existing document is as it was.
        let after = store.load_doc(&existing).unwrap().unwrap();
        assert_eq!(after.record, before.record);
        assert_eq!(after.tail, before.tail);
    }

    // The good write on its own goes through.
    store
        .commit(&Commit {
            docs: vec![good],
            meta: vec![],
        })
        .unwrap();
    assert_eq!(store.changes(&fresh).unwrap().len(), 3);
}

#[test]
fn reopening_after_drop_sees_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.redb");
    let c = community_id(1);
    let d = DocId::from_bytes([0x10; 16]);
    let e = DocId::from_bytes([0x11; 16]);
    let changes = numbered(1, 4);
    {
        let store = open(&path);
        store
            .commit(&Commit {
                docs: vec![
                    DocWrite {
                        doc: DocRef::community(c),
                        changes: vec![change(99, 20, true)],
                        hashes: vec![fake_hash(99)],
                        heads: vec![fake_hash(99)],
                        snapshot: Some(b"community snapshot".to_vec()),
                        index: IndexRow::Community(Box::new(community_row(c, "Network"))),
                        activity: None,
                    },
                    thread_write(c, d, changes.clone(), Some(b"thread snapshot".to_vec())),
                    DocWrite {
                        doc: DocRef {
                            community: c,
                            kind: DocKind::Entry,
                            id: e,
                        },
                        changes: vec![change(50, 8, false)],
                        hashes: vec![fake_hash(50)],
                        heads: vec![fake_hash(50)],
                        snapshot: None,
                        index: IndexRow::Entry(Box::new(entry_summary(c, e, "entry"))),
                        activity: None,
                    },
                ],
                meta: vec![
                    ("name".into(), b"Ana".to_vec()),
                    ("actor".into(), vec![1, 2, 3]),
                ],
            })
            .unwrap();
    }
    let store = open(&path);
    assert_eq!(store.meta("name").unwrap(), Some(b"Ana".to_vec()));
    assert_eq!(store.meta("actor").unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(
        store.communities().unwrap(),
        vec![community_row(c, "Network")]
    );
    assert_eq!(store.threads(&c).unwrap(), vec![thread_summary(c, d, "t")]);
    assert_eq!(
        store.entries(&c).unwrap(),
        vec![entry_summary(c, e, "entry")]
    );
    assert_eq!(store.docs_of(&c).unwrap().len(), 3);
    let l = store.load_doc(&d).unwrap().unwrap();
    assert_eq!(l.snapshot.as_deref(), Some(b"thread snapshot".as_slice()));
    assert!(l.tail.is_empty());
    assert_eq!(
        store.changes(&d).unwrap(),
        changes.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        store.load_doc(&e).unwrap().unwrap().tail,
        vec![change(50, 8, false)]
    );
    assert_eq!(
        store.signatures(&d, &[fake_hash(2)]).unwrap(),
        vec![Some(Signature([2; 64]))]
    );
}

// ---------------------------------------------------------------------------------------------
// Property: any sequence of commits reads back as the model says
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Write {
    doc: usize,
    changes: Vec<(Vec<u8>, Option<[u8; 64]>)>,
    snapshot: bool,
}

fn write_strategy() -> impl Strategy<Value = Write> {
    let change = (
        proptest::collection::vec(any::<u8>(), 0..48),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 64)),
    )
        .prop_map(|(bytes, sig)| (bytes, sig.map(|s| <[u8; 64]>::try_from(s).unwrap())));
    (
        0usize..3,
        proptest::collection::vec(change, 0..5),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(doc, changes, snapshot)| Write {
            doc,
            changes,
            snapshot,
        })
}

#[derive(Debug, Default)]
struct ModelDoc {
    changes: Vec<SignedChange>,
    hashes: Vec<[u8; 32]>,
    snapshot: Option<(u64, Vec<u8>)>,
    heads: Vec<[u8; 32]>,
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        rng_seed: RngSeed::Fixed(0x5709e),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn commits_read_back_as_the_model_says(
        commits in proptest::collection::vec(proptest::collection::vec(write_strategy(), 1..4), 1..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.redb");
        let store = open(&path);
        let c = community_id(1);
        let ids: Vec<DocId> = (0..3u8).map(|i| DocId::from_bytes([0x40 + i; 16])).collect();
        let mut model: BTreeMap<usize, ModelDoc> = BTreeMap::new();
        let mut counter: u32 = 0;
        for (n, writes) in commits.iter().enumerate() {
            let mut docs = Vec::new();
            for w in writes {
                let m = model.entry(w.doc).or_default();
                let mut pairs = Vec::new();
                for (bytes, sig) in &w.changes {
                    counter += 1;
                    let mut h = [0u8; 32];
                    h[..4].copy_from_slice(&counter.to_be_bytes());
                    let sc = SignedChange { bytes: bytes.clone(), signature: sig.map(Signature) };
                    m.changes.push(sc.clone());
                    m.hashes.push(h);
                    pairs.push((sc, h));
                }
                let snapshot = w.snapshot.then(|| format!("snapshot {n}/{}", w.doc).into_bytes());
                if let Some(s) = &snapshot {
                    m.snapshot = Some((m.changes.len() as u64, s.clone()));
                }
                let dw = thread_write(c, ids[w.doc], pairs, snapshot);
                m.heads.clone_from(&dw.heads);
                docs.push(dw);
            }
            store.commit(&Commit { docs, meta: vec![] }).unwrap();
        }
        // Read back, then once more after reopening.
        drop(store);
        let store = open(&path);
        for (i, id) in ids.iter().enumerate() {
            let Some(m) = model.get(&i) else {
                prop_assert!(store.doc_record(id).unwrap().is_none());
                continue;
            };
            prop_assert_eq!(&store.changes(id).unwrap(), &m.changes);
            let l = store.load_doc(id).unwrap().unwrap();
            prop_assert_eq!(l.record.changes, m.changes.len() as u64);
            prop_assert_eq!(&l.record.heads, &m.heads);
            match &m.snapshot {
                Some((upto, bytes)) if *upto > 0 => {
                    prop_assert_eq!(l.record.snapshot_upto, *upto);
                    prop_assert_eq!(l.snapshot.as_ref(), Some(bytes));
                    prop_assert_eq!(&l.tail[..], &m.changes[*upto as usize..]);
                }
                _ => {
                    prop_assert!(l.snapshot.is_none());
                    prop_assert_eq!(&l.tail, &m.changes);
                }
            }
            let sigs = store.signatures(id, &m.hashes).unwrap();
            let want: Vec<Option<Signature>> = m.changes.iter().map(|c| c.signature).collect();
            prop_assert_eq!(sigs, want);
        }
        prop_assert_eq!(store.docs_of(&c).unwrap().len(), model.len());
        prop_assert_eq!(store.threads(&c).unwrap().len(), model.len());
    }
}
