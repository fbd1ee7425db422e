//! Reads never wait behind a sync: while the ingest gate holds a big batch mid-verify (a test
//! hook stops it there), the app's reads of other documents — the thread list, a thread, an
//! entry — and a local write of another document still return. Ordering, not timing: the
//! batch is released only after the reads have answered, and a read that waits for it fails
//! the test after a bounded wait instead of hanging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{node, sync};
use commonplace_base::{CommunityId, DocId};
use commonplace_model::{ActivityKind, DocRef, EntryKind, Role};
use commonplace_node::{NewCommunity, NewEntry, NewThread, Node, ThreadFilter};

/// How long the reads may take while the batch is held before the test calls it waiting.
const READS_LIMIT: Duration = Duration::from_secs(20);
/// How long the gate may take to reach the held batch.
const REACH_LIMIT: Duration = Duration::from_secs(60);

fn new_thread(title: &str) -> NewThread {
    NewThread {
        activity: ActivityKind::Discussion,
        title: title.into(),
        body: "Opening post.".into(),
        tags: vec![],
    }
}

struct World {
    _root: tempfile::TempDir,
    ana: Node,
    bea: Node,
    c: CommunityId,
    /// Held by both before the big batch.
    thread: DocId,
    entry: DocId,
    /// Written by Ana after the first sync: what the big batch carries.
    big: DocId,
}

/// Ana and Bea share a community with one thread and one entry; then Ana writes a long
/// thread Bea does not have yet.
fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = ana
        .create_community(&NewCommunity {
            name: "Locks".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let thread = ana.create_thread(&c, &new_thread("Read me")).unwrap();
    ana.reply(&thread, "A reply.", None).unwrap();
    let entry = ana
        .create_entry(
            &c,
            &NewEntry {
                kind: EntryKind::Method,
                title: Some("A method".into()),
                body: Some("Its text.".into()),
                tags: vec![],
                from_thread: None,
            },
        )
        .unwrap();
    sync(&ana, &bea, &c).unwrap();
    let big = ana.create_thread(&c, &new_thread("Long")).unwrap();
    for i in 0..200 {
        ana.reply(&big, &format!("reply {i} {}", "x".repeat(200)), None)
            .unwrap();
    }
    World {
        _root: root,
        ana,
        bea,
        c,
        thread,
        entry,
        big,
    }
}

/// Holds the first batch that stages `doc` until `release` says go (or gives up after a
/// bounded wait, so a failing test ends); says so on the returned channel when it is held.
fn hold(node: &Node, doc: DocId) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let state = Arc::new(Mutex::new(Some((held_tx, release_rx))));
    node.set_staging_hook(Some(Arc::new(move |docs: &[DocRef]| {
        if !docs.iter().any(|d| d.id == doc) {
            return;
        }
        let Some((held, release)) = state.lock().unwrap().take() else {
            return;
        };
        held.send(()).unwrap();
        let _ = release.recv_timeout(REACH_LIMIT + READS_LIMIT);
    })));
    (held_rx, release_tx)
}

/// Runs the app's reads of other documents on another thread (and with `write`, a local
/// write of one of them); what they saw, or `None` if they did not answer within
/// [`READS_LIMIT`].
fn read_meanwhile(w: &World, write: bool) -> Option<(usize, String, String)> {
    let (done_tx, done_rx) = mpsc::channel();
    let (bea, c, thread, entry) = (w.bea.clone(), w.c, w.thread, w.entry);
    std::thread::spawn(move || {
        let list = bea.threads(&c, &ThreadFilter::default()).unwrap();
        let t = bea.thread(&thread).unwrap();
        let e = bea.entry_view(&entry).unwrap();
        if write {
            // A local write of another document is not held either.
            bea.reply(&thread, "Written while a sync is held.", None)
                .unwrap();
        }
        let _ = done_tx.send((list.len(), t.title, e.entry.title));
    });
    done_rx.recv_timeout(READS_LIMIT).ok()
}

#[test]
fn reads_of_other_documents_proceed_while_a_sync_batch_is_verified() {
    let w = world();
    let (held, release) = hold(&w.bea, w.big);
    let syncing = {
        let (ana, bea, c) = (w.ana.clone(), w.bea.clone(), w.c);
        std::thread::spawn(move || sync(&ana, &bea, &c))
    };
    held.recv_timeout(REACH_LIMIT)
        .expect("the sync never staged the long thread");
    let seen = read_meanwhile(&w, true);
    // Released whatever the reads did, so a failure ends the test instead of hanging it.
    release.send(()).unwrap();
    let synced = syncing.join().unwrap();
    let (threads, title, entry) = seen.expect("the reads waited for the sync batch being verified");
    // Read before the batch was committed: the long thread is not listed yet.
    assert_eq!((threads, title.as_str()), (1, "Read me"));
    assert_eq!(entry, "A method");
    synced.unwrap();
    let long = w.bea.thread(&w.big).unwrap();
    assert_eq!(long.replies.len(), 200);
    assert_eq!(
        w.bea.threads(&w.c, &ThreadFilter::default()).unwrap().len(),
        2
    );
    // Both sides end with the reply written while the batch was held.
    sync(&w.ana, &w.bea, &w.c).unwrap();
    assert_eq!(w.ana.thread(&w.thread).unwrap().replies.len(), 2);
}

#[test]
fn reads_of_other_documents_proceed_while_an_import_is_verified() {
    let w = world();
    let bundle = w.ana.export(&w.c).unwrap();
    let (held, release) = hold(&w.bea, w.big);
    let importing = {
        let bea = w.bea.clone();
        std::thread::spawn(move || bea.import(&bundle).map(|_| ()))
    };
    held.recv_timeout(REACH_LIMIT)
        .expect("the import never staged the long thread");
    // No local write here: the bundle holds every document, and a write of one the gate is
    // working on waits for it (the two serialise).
    let seen = read_meanwhile(&w, false);
    release.send(()).unwrap();
    let imported = importing.join().unwrap();
    let (threads, title, _) = seen.expect("the reads waited for the import being verified");
    assert_eq!((threads, title.as_str()), (1, "Read me"));
    imported.unwrap();
    assert_eq!(w.bea.thread(&w.big).unwrap().replies.len(), 200);
}

#[test]
fn a_local_edit_of_a_document_being_synced_waits_and_then_lands_on_top() {
    let w = world();
    // Ana retitles the entry; Bea opens it before that reaches her.
    w.ana
        .retitle_entry(&w.entry, Some("Ana's title"), None)
        .unwrap();
    let opened = w.bea.entry_view(&w.entry).unwrap();
    let (held, release) = hold(&w.bea, w.entry);
    let syncing = {
        let (ana, bea, c) = (w.ana.clone(), w.bea.clone(), w.c);
        std::thread::spawn(move || sync(&ana, &bea, &c))
    };
    held.recv_timeout(REACH_LIMIT)
        .expect("the sync never staged the entry");
    // Bea saves her edit of the version she opened while the sync holds the entry.
    let (saved_tx, saved_rx) = mpsc::channel();
    {
        let (bea, entry, version) = (w.bea.clone(), w.entry, opened.version.clone());
        std::thread::spawn(move || {
            let _ = saved_tx.send(bea.edit_entry_text(&entry, &version, "Bea's text."));
        });
    }
    // It cannot land before the batch that holds the entry: that would build the batch's
    // copy on a version without it, or hers on one the batch replaces.
    let early = saved_rx.recv_timeout(Duration::from_millis(500));
    release.send(()).unwrap();
    assert!(
        early.is_err(),
        "the edit did not wait for the sync of its document"
    );
    syncing.join().unwrap().unwrap();
    let view = saved_rx
        .recv_timeout(READS_LIMIT)
        .expect("the edit never returned")
        .unwrap();
    assert_eq!(view.entry.title, "Ana's title");
    assert_eq!(view.entry.body, "Bea's text.");
    // Both changes are stored, not only cached: Ana gets them back.
    sync(&w.ana, &w.bea, &w.c).unwrap();
    let there = w.ana.entry_view(&w.entry).unwrap();
    assert_eq!(
        (
            there.entry.title.as_str(),
            there.entry.body.as_str(),
            &there.version
        ),
        (
            "Ana's title",
            "Bea's text.",
            &w.bea.entry_view(&w.entry).unwrap().version
        )
    );
}
