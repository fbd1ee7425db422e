//! Golden files of today's formats, committed under `tests/fixtures/`: a whole profile
//! directory (its database; the key is rebuilt from a fixed seed, so no secret key is in the
//! repository), a saved bundle, and the sync frames one node sent in a whole v3 session. Each
//! is loaded by a test, so a format change is noticed here, and an old profile is proved to
//! open. `UPDATE_GOLDEN=1 cargo test -p commonplace-tests --test golden` (one process: not nextest) writes them anew (only
//! when a format change is intended; say so in the commit).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use commonplace_base::{CommunityId, MemberId, SecretKey};
use commonplace_model::{ActivityKind, EntryKind, Role};
use commonplace_node::{
    EntryFilter, NewCommunity, NewEntry, NewThread, Node, Profile, ThreadFilter, read_key_backup,
};
use commonplace_sync::{Frame, PROTOCOL_VERSION, Session};
use commonplace_tests::fixtures;

const ANA_SEED: [u8; 32] = *b"commonplace golden fixture: ana.";
const BEA_SEED: [u8; 32] = *b"commonplace golden fixture: bea.";
const COMMUNITY: &str = "Golden Network";
const THREAD: &str = "Night-time lighting audits";
const ENTRY: &str = "The night walk method";

fn profile_dir() -> PathBuf {
    fixtures().join("profile")
}
fn bundle_path() -> PathBuf {
    fixtures().join("community.cpbundle")
}
fn frames_path() -> PathBuf {
    fixtures().join("sync-v3-session-from-ana.bin")
}

/// A profile with the member key of `seed` (written as a key file, restored like a backup).
fn with_key(dir: &Path, seed: [u8; 32], name: &str) -> Node {
    let key_file = dir.with_extension("key.txt");
    std::fs::write(&key_file, SecretKey::from_seed(seed).to_key_file()).unwrap();
    let backup = read_key_backup(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    Node::restore(Profile::at(dir), &backup, "", name, Some("North"), None).unwrap()
}

fn member(seed: [u8; 32]) -> MemberId {
    SecretKey::from_seed(seed).member_id()
}

/// Writes the fixtures: Ana founds a community with Bea as a member, asks, is answered,
/// keeps an entry; her profile, a bundle, and what her node sent Bea's in a whole session.
fn write_fixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let ana = with_key(&tmp.path().join("ana"), ANA_SEED, "Ana Silva");
    let c = ana
        .create_community(&NewCommunity {
            name: COMMUNITY.into(),
            domain: "Municipal crime prevention".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &member(BEA_SEED), "Bea Okafor", Role::Member)
        .unwrap();
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: THREAD.into(),
                body: "Has anyone run a lighting audit with residents?".into(),
                tags: vec!["lighting".into()],
            },
        )
        .unwrap();
    ana.reply(&t, "We walked the streets after dark, twice a year.", None)
        .unwrap();
    ana.create_entry(
        &c,
        &NewEntry {
            kind: EntryKind::Method,
            title: Some(ENTRY.into()),
            body: Some("Walk the route with residents; map the dark spots.".into()),
            tags: vec!["lighting".into()],
            from_thread: None,
        },
    )
    .unwrap();
    std::fs::create_dir_all(fixtures()).unwrap();
    std::fs::write(bundle_path(), ana.export(&c).unwrap()).unwrap();

    // A whole session with Bea's empty node, every frame Ana's side sent, in order.
    let bea = with_key(&tmp.path().join("bea"), BEA_SEED, "Bea Okafor");
    let (mut sa, hello_a) = ana.start_sync(&c, &bea.member_id()).unwrap();
    let (mut sb, hello_b) = bea.start_sync(&c, &ana.member_id()).unwrap();
    let mut sent = hello_a.encode().unwrap();
    let (mut to_ana, mut to_bea) = (vec![hello_b], vec![hello_a]);
    for _ in 0..100 {
        if to_ana.is_empty() && to_bea.is_empty() {
            break;
        }
        let mut next_to_ana = Vec::new();
        for f in to_bea.drain(..) {
            next_to_ana.extend(bea.sync_receive(&mut sb, f).unwrap());
        }
        for f in to_ana.drain(..) {
            let out = ana.sync_receive(&mut sa, f).unwrap();
            for o in &out {
                sent.extend(o.encode().unwrap());
            }
            to_bea.extend(out);
        }
        to_ana = next_to_ana;
    }
    assert!(
        sa.is_done() && sb.is_done(),
        "the recorded session did not finish"
    );
    assert_eq!(bea.threads(&c, &ThreadFilter::default()).unwrap().len(), 1);
    std::fs::write(frames_path(), sent).unwrap();

    // Ana's profile, without its key file.
    drop(ana);
    let dir = profile_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let from = tmp.path().join("ana");
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name != "identity.key" && entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.join(&name)).unwrap();
        }
    }
}

/// The fixtures, written first when asked to.
fn ready() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(write_fixtures);
    }
    assert!(
        bundle_path().exists() && frames_path().exists() && profile_dir().exists(),
        "golden files missing: run UPDATE_GOLDEN=1 cargo test -p commonplace-tests --test golden"
    );
}

fn the_community(node: &Node) -> CommunityId {
    let ids = node.community_ids().unwrap();
    assert_eq!(ids.len(), 1);
    ids[0]
}

#[test]
fn a_profile_from_today_opens_reads_and_takes_new_writes() {
    ready();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ana");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(profile_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::write(
        dir.join("identity.key"),
        SecretKey::from_seed(ANA_SEED).to_key_file(),
    )
    .unwrap();
    let ana = Node::open(Profile::at(&dir)).unwrap();
    assert_eq!(ana.identity().unwrap().name, "Ana Silva");
    let c = the_community(&ana);
    assert_eq!(ana.community(&c).unwrap().charter.name, COMMUNITY);
    let threads = ana.threads(&c, &ThreadFilter::default()).unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].title, THREAD);
    let thread = ana.thread(&threads[0].id).unwrap();
    assert_eq!(thread.replies.len(), 1, "the question and its reply");
    let entries = ana.entries(&c, &EntryFilter::default()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, ENTRY);
    // And it takes new writes, which survive reopening.
    ana.reply(&threads[0].id, "A year on: still walking.", None)
        .unwrap();
    drop(ana);
    let again = Node::open(Profile::at(&dir)).unwrap();
    let t = again.threads(&c, &ThreadFilter::default()).unwrap();
    assert_eq!(again.thread(&t[0].id).unwrap().replies.len(), 2);
}

#[test]
fn a_saved_bundle_imports_with_every_change_checked() {
    ready();
    let bytes = std::fs::read(bundle_path()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let bea = with_key(&tmp.path().join("bea"), BEA_SEED, "Bea Okafor");
    let first = bea.import(&bytes).unwrap();
    assert_eq!(first.name, COMMUNITY);
    assert_eq!(first.exporter, member(ANA_SEED));
    assert!(first.new_changes > 0);
    let c = the_community(&bea);
    assert_eq!(
        bea.threads(&c, &ThreadFilter::default()).unwrap()[0].title,
        THREAD
    );
    let second = bea.import(&bytes).unwrap();
    assert_eq!(second.new_changes, 0);
    assert_eq!(second.known_changes, first.new_changes);
}

/// The frames of the recorded session, decoded.
fn recorded_frames() -> Vec<Frame> {
    let bytes = std::fs::read(frames_path()).unwrap();
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let (header, body) = rest.split_at(4);
        let len = Frame::body_len(header.try_into().unwrap()).unwrap();
        frames.push(Frame::decode_body(&body[..len]).unwrap());
        rest = &body[len..];
    }
    frames
}

#[test]
fn saved_v3_sync_frames_decode_and_bring_the_community_to_an_empty_member_node() {
    ready();
    let frames = recorded_frames();
    let Some(Frame::Hello {
        version, community, ..
    }) = frames.first()
    else {
        panic!("the session does not start with a hello");
    };
    assert_eq!(*version, PROTOCOL_VERSION);
    let c = *community;
    let changes: usize = frames
        .iter()
        .map(|f| match f {
            Frame::Sync { changes, .. } => changes.len(),
            _ => 0,
        })
        .sum();
    assert!(changes > 0, "no frame carried changes");
    // Re-encoding a decoded frame gives a frame that decodes the same.
    for f in &frames {
        let again = f.encode().unwrap();
        assert_eq!(&Frame::decode_body(&again[4..]).unwrap(), f);
    }
    // Replayed to an empty node of the same member, they bring the community: what Ana's
    // node sent then is still understood (and verified) now.
    let tmp = tempfile::tempdir().unwrap();
    let bea = with_key(&tmp.path().join("bea"), BEA_SEED, "Bea Okafor");
    let (mut session, _hello): (Session, Frame) = bea.start_sync(&c, &member(ANA_SEED)).unwrap();
    for f in frames {
        bea.sync_receive(&mut session, f).unwrap();
    }
    let threads = bea.threads(&c, &ThreadFilter::default()).unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].title, THREAD);
    assert_eq!(
        bea.entries(&c, &EntryFilter::default()).unwrap()[0].title,
        ENTRY
    );
}
