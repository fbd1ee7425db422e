//! Two real profiles (redb files in temporary directories) syncing through sessions, with the
//! frames passed in memory: what the network layer will carry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use commonplace_model::{ActivityKind, Role, TextEdit};
use commonplace_node::{NewCommunity, NewEntry, NewThread, Node, Profile, ThreadFilter};
use commonplace_sync::Frame;

fn node(root: &std::path::Path, name: &str) -> Node {
    Node::init(Profile::at(root.join(name)), name, None, None).unwrap()
}

/// Runs one session between `a` and `b` about the community, frames passed in order.
fn sync(a: &Node, b: &Node, c: &commonplace_base::CommunityId) -> Result<(), String> {
    let (mut sa, ha) = a.start_sync(c, &b.member_id()).map_err(|e| e.to_string())?;
    let (mut sb, hb) = b.start_sync(c, &a.member_id()).map_err(|e| e.to_string())?;
    let (mut to_a, mut to_b): (Vec<Frame>, Vec<Frame>) = (vec![hb], vec![ha]);
    for _ in 0..100_000 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        if !to_b.is_empty() {
            let f = to_b.remove(0);
            to_a.extend(b.sync_receive(&mut sb, f).map_err(|e| e.to_string())?);
        }
        if !to_a.is_empty() {
            let f = to_a.remove(0);
            to_b.extend(a.sync_receive(&mut sa, f).map_err(|e| e.to_string())?);
        }
    }
    assert!(
        sa.is_done() && sb.is_done(),
        "{:?} {:?}",
        sa.phase(),
        sb.phase()
    );
    Ok(())
}

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
