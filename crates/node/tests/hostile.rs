//! Hostile peers on real iroh endpoints (loopback, relays disabled): forged, unauthorised and
//! malformed input over the sync protocol. In every case the honest node refuses, ends the
//! session, stores nothing of it, and keeps serving honest members.
//!
//! A hostile peer is a raw iroh endpoint that dials the honest node's `Online` with the sync
//! ALPN. For the change-level cases it runs a correct `commonplace_sync::Session` over an
//! in-memory replica holding bad changes (so only the data is hostile, the protocol is
//! followed), optionally rewriting frames on their way; for the frame-level cases it writes
//! frames and bytes by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use automerge::sync::{ChunkList, Message};
use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Change, ChangeHash};
use common::{loopback, node};
use commonplace_base::{CommunityId, DocId, MemberId, SecretKey, Timestamp, actor};
use commonplace_model::{
    ActivityKind, DocKind, DocRef, Genesis, Role, SchemaError, ThreadSummary, bundle, community,
    new_document, thread,
};
use commonplace_net::{SYNC_ALPN, write_frame};
use commonplace_node::{NetConfig, NewCommunity, NewThread, Node, Online, ThreadFilter};
use commonplace_sync::memory::MemoryReplica;
use commonplace_sync::{Frame, MAX_FRAME_BYTES, PROTOCOL_VERSION, Replica, Session, SessionError};
use iroh::endpoint::{Connection, ReadExactError, RecvStream, SendStream};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Longest wait for any single answer of the honest node.
const ANSWER: Duration = Duration::from_secs(10);

// ---- the honest side ------------------------------------------------------------------------

fn loopback_idle(idle: Duration) -> NetConfig {
    NetConfig {
        idle_timeout: idle,
        ..loopback()
    }
}

/// Keys with fixed seeds: the hostile member, a member removed again, and an outsider.
fn mal_key() -> SecretKey {
    SecretKey::from_seed([0x4d; 32])
}
fn removed_key() -> SecretKey {
    SecretKey::from_seed([0x52; 32])
}
fn outsider_key() -> SecretKey {
    SecretKey::from_seed([0x0e; 32])
}

/// Ana founds a community with Bea and Cat (honest profiles) and Mal (the hostile member's
/// fixed key) as members (and Rem, added and removed again), and one thread.
struct World {
    _root: tempfile::TempDir,
    ana: Node,
    bea: Node,
    cat: Node,
    c: CommunityId,
    genesis: Genesis,
    /// The thread Ana opened before any attack.
    first: DocId,
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let cat = node(root.path(), "cat");
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    ana.add_member(&c, &cat.member_id(), "Cat", Role::Member)
        .unwrap();
    ana.add_member(&c, &mal_key().member_id(), "Mal", Role::Member)
        .unwrap();
    ana.add_member(&c, &removed_key().member_id(), "Rem", Role::Member)
        .unwrap();
    ana.remove_member(&c, &removed_key().member_id()).unwrap();
    let first = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Problem,
                title: "Corrosion".into(),
                body: "Pipes fail early.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    let genesis = ana.community(&c).unwrap().genesis;
    World {
        _root: root,
        ana,
        bea,
        cat,
        c,
        genesis,
        first,
    }
}

fn threads(n: &Node, c: &CommunityId) -> Vec<ThreadSummary> {
    n.threads(c, &ThreadFilter::default()).unwrap()
}

/// Every document of the community as the node stores it: (id, kind, changes). Taken before
/// and after an attack, it shows the attack stored nothing.
fn stored(n: &Node, c: &CommunityId) -> Vec<(DocId, DocKind, Vec<Vec<u8>>)> {
    bundle::decode(&n.export(c).unwrap())
        .unwrap()
        .body
        .docs
        .into_iter()
        .map(|d| {
            (
                d.id,
                d.kind,
                d.changes.into_iter().map(|c| c.bytes).collect(),
            )
        })
        .collect()
}

/// The node's sync log eventually records a failed session with `peer` whose error mentions
/// `needle` (a record is written just after its session ends); no session with `peer` ever
/// succeeded or brought a change.
async fn assert_logged_failure(o: &Online, peer: &MemberId, needle: &str) {
    let deadline = Instant::now() + ANSWER;
    loop {
        let log = o.recent_syncs();
        let mut found = false;
        for r in log.iter().filter(|r| r.peer == *peer) {
            assert!(!r.ok, "a session with the hostile peer succeeded: {r:?}");
            assert_eq!(r.changes_received, 0, "{r:?}");
            found |= r.error.as_deref().is_some_and(|e| e.contains(needle));
        }
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no failed session mentioning {needle:?} in the log: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After an attack on `a` (Ana online): Ana writes something new, and an honest member dials
/// her and gets exactly what she has.
async fn honest_sync_still_works(w: &World, a: &Online, b: &Online, title: &str) {
    w.ana
        .create_thread(
            &w.c,
            &NewThread {
                activity: ActivityKind::Discussion,
                title: title.into(),
                body: "Still here.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    // (Live updates may bring the new thread first; the session must succeed all the same.)
    tokio::time::timeout(ANSWER, b.sync_with(a.addr(), w.c))
        .await
        .expect("honest sync timed out")
        .expect("honest sync failed after the attack");
    let ours = threads(&w.ana, &w.c);
    assert!(ours.iter().any(|t| t.title == title), "{ours:?}");
    assert_eq!(threads(b.node(), &w.c), ours);
}

// ---- the hostile side -----------------------------------------------------------------------

async fn hostile_endpoint(key: &SecretKey) -> iroh::Endpoint {
    iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(iroh::SecretKey::from_bytes(&key.to_secret_bytes()))
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .unwrap()
        .bind()
        .await
        .unwrap()
}

async fn dial(ep: &iroh::Endpoint, to: &Online) -> Connection {
    tokio::time::timeout(ANSWER, ep.connect(to.addr(), SYNC_ALPN))
        .await
        .expect("connect timed out")
        .expect("connect")
}

/// What reading one frame gave.
#[derive(Debug)]
enum Got {
    Frame(Frame),
    /// The honest side finished its stream.
    Finished,
    /// The stream or connection failed (reset, closed); the detail is for failure messages.
    Failed(#[allow(dead_code)] String),
    /// Nothing within the wait.
    TimedOut,
}

async fn read_frame_raw(recv: &mut RecvStream) -> Got {
    let mut header = [0u8; 4];
    match recv.read_exact(&mut header).await {
        Ok(()) => {}
        Err(ReadExactError::FinishedEarly(0)) => return Got::Finished,
        Err(e) => return Got::Failed(e.to_string()),
    }
    let len = match Frame::body_len(header) {
        Ok(l) => l,
        Err(e) => return Got::Failed(format!("the honest node sent a bad header: {e}")),
    };
    let mut body = vec![0u8; len];
    if let Err(e) = recv.read_exact(&mut body).await {
        return Got::Failed(e.to_string());
    }
    match Frame::decode_body(&body) {
        Ok(f) => Got::Frame(f),
        Err(e) => Got::Failed(format!("the honest node sent a bad frame: {e}")),
    }
}

async fn next(recv: &mut RecvStream, wait: Duration) -> Got {
    tokio::time::timeout(wait, read_frame_raw(recv))
        .await
        .unwrap_or(Got::TimedOut)
}

/// Reads everything the honest node sends on this stream until it stops (finish, failure, or
/// `wait` without a frame); at most 1000 frames.
async fn drain(recv: &mut RecvStream, wait: Duration) -> (Vec<Frame>, Got) {
    let mut frames = Vec::new();
    for _ in 0..1000 {
        match next(recv, wait).await {
            Got::Frame(f) => frames.push(f),
            end => return (frames, end),
        }
    }
    panic!("the honest node sent more than 1000 frames");
}

fn refusal(frames: &[Frame]) -> Option<&str> {
    frames.iter().find_map(|f| match f {
        Frame::Refuse { reason } => Some(reason.as_str()),
        _ => None,
    })
}

fn names(frames: &[Frame]) -> Vec<&'static str> {
    frames.iter().map(Frame::name).collect()
}

/// A member's hello that announces no documents.
fn hello(w: &World) -> Frame {
    Frame::Hello {
        version: PROTOCOL_VERSION,
        community: w.c,
        genesis: Some(w.genesis),
        scope: None,
        docs: vec![],
    }
}

/// A stream to the honest node, with `first` frames already sent.
async fn raw_stream(conn: &Connection, first: &[Frame]) -> (SendStream, RecvStream) {
    let (mut send, recv) = conn.open_bi().await.unwrap();
    for f in first {
        write_frame(&mut send, f).await.unwrap();
    }
    (send, recv)
}

/// The hostile member's replica: the community as Ana exports it (every document with its
/// genuine signatures).
fn replica_of(n: &Node, c: &CommunityId) -> MemoryReplica {
    let b = bundle::decode(&n.export(c).unwrap()).unwrap();
    let mut r = MemoryReplica::default();
    for d in b.body.docs {
        let mut am = new_document(&[0; 48]);
        let mut sigs = Vec::new();
        let mut changes = Vec::new();
        for sc in d.changes {
            let ch = Change::from_bytes(sc.bytes).unwrap();
            if let Some(s) = sc.signature {
                sigs.push((ch.hash(), s));
            }
            changes.push(ch);
        }
        am.apply_changes(changes).unwrap();
        let doc = DocRef {
            community: *c,
            kind: d.kind,
            id: d.id,
        };
        r.insert(&doc, am, sigs);
    }
    r
}

/// Writes one change into the replica's copy of `doc` with an actor naming `author`, signed by
/// `signer` (who need not be `author`).
fn write_as(
    r: &mut MemoryReplica,
    doc: &DocRef,
    author: &MemberId,
    signer: &SecretKey,
    rng: &mut StdRng,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> ChangeHash {
    write_as_at(r, doc, author, signer, rng, 1, f)
}

/// [`write_as`], with the change dated `time` (milliseconds).
fn write_as_at(
    r: &mut MemoryReplica,
    doc: &DocRef,
    author: &MemberId,
    signer: &SecretKey,
    rng: &mut StdRng,
    time: i64,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> ChangeHash {
    let am = r.doc(doc).unwrap();
    am.set_actor(ActorId::from(actor::new_actor(author, rng).as_slice()));
    let hash = am
        .transact_with(|_| CommitOptions::default().with_time(time), f)
        .unwrap()
        .hash
        .unwrap();
    r.signatures.insert(hash, doc.sign(signer, &hash));
    hash
}

/// A new thread in the replica, authored (by actor) by `author`, signed by `signer`.
fn bad_thread(
    r: &mut MemoryReplica,
    c: CommunityId,
    author: &MemberId,
    signer: &SecretKey,
    seed: u64,
) -> DocRef {
    let mut rng = StdRng::seed_from_u64(seed);
    let doc = DocRef {
        community: c,
        kind: DocKind::Thread,
        id: DocId::random(&mut rng),
    };
    write_as(r, &doc, author, signer, &mut rng, |tx| {
        thread::init(
            tx,
            &c,
            ActivityKind::Discussion,
            "Buy cheap watches",
            "spam",
            &[],
            Timestamp(1_700_000_000_000),
        )
    });
    doc
}

/// How a hostile session ended.
#[derive(Debug)]
enum Outcome {
    /// Both sides finished.
    Done,
    /// Our session ended with this error: `Refused(reason)` when the honest side refused.
    Error(SessionError),
    /// The stream ended or failed without a refusal (the detail is for failure messages).
    Lost(#[allow(dead_code)] String),
}

/// Runs a protocol-correct session with bad data over one stream, passing every frame we
/// send through `outgoing` and every frame we receive through `incoming` first; to its end
/// or the first error (ours or the honest side's refusal).
async fn run_session(
    send: &mut SendStream,
    recv: &mut RecvStream,
    mut session: Session,
    replica: &mut MemoryReplica,
    mut outgoing: impl FnMut(Frame) -> Frame,
    mut incoming: impl FnMut(Frame) -> Frame,
) -> Outcome {
    for _ in 0..10_000 {
        let frame = match next(recv, ANSWER).await {
            Got::Frame(f) => f,
            Got::TimedOut => panic!("the honest node neither answered nor ended the session"),
            other => return Outcome::Lost(format!("{other:?}")),
        };
        match session.receive(incoming(frame), replica) {
            Ok(out) => {
                for f in out {
                    // The honest side may already have closed; it has spoken by then.
                    let _ = write_frame(send, &outgoing(f)).await;
                }
                if session.is_done() {
                    let _ = send.finish();
                    return Outcome::Done;
                }
            }
            Err(e) => {
                if !matches!(e, SessionError::Refused(_)) {
                    let _ = write_frame(send, &e.refusal()).await;
                }
                let _ = send.finish();
                return Outcome::Error(e);
            }
        }
    }
    panic!("the session did not end within 10000 frames");
}

/// The hostile peer dials the honest node and runs a session with bad data (see
/// [`run_session`]).
async fn hostile_session(
    ep: &iroh::Endpoint,
    to: &Online,
    c: CommunityId,
    replica: &mut MemoryReplica,
    mut outgoing: impl FnMut(Frame) -> Frame,
    incoming: impl FnMut(Frame) -> Frame,
) -> Outcome {
    let conn = dial(ep, to).await;
    let (session, hello) = Session::start(c, to.node().member_id(), replica).unwrap();
    let (mut send, mut recv) = raw_stream(&conn, &[outgoing(hello)]).await;
    let o = run_session(&mut send, &mut recv, session, replica, outgoing, incoming).await;
    conn.close(0u32.into(), b"done");
    o
}

/// The hostile peer as a server: a member's endpoint that the honest node dials.
async fn hostile_server(key: &SecretKey) -> iroh::Endpoint {
    iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(iroh::SecretKey::from_bytes(&key.to_secret_bytes()))
        .alpns(vec![SYNC_ALPN.to_vec()])
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .unwrap()
        .bind()
        .await
        .unwrap()
}

/// Accepts one connection and one stream on `ep` and answers it with a session over
/// `replica` (see [`run_session`]); `stall` instead reads the hello and then says nothing,
/// returning once the honest dialer has given up.
async fn serve_once(
    ep: &iroh::Endpoint,
    c: CommunityId,
    replica: &mut MemoryReplica,
    stall: bool,
    mut outgoing: impl FnMut(Frame) -> Frame,
    incoming: impl FnMut(Frame) -> Frame,
) -> (Outcome, Vec<Frame>) {
    let conn = tokio::time::timeout(ANSWER, async {
        ep.accept().await.expect("an incoming connection").await
    })
    .await
    .expect("no connection within the wait")
    .expect("handshake");
    let peer = MemberId::from_bytes(*conn.remote_id().as_bytes()).unwrap();
    let (mut send, mut recv) = tokio::time::timeout(ANSWER, conn.accept_bi())
        .await
        .expect("no stream within the wait")
        .expect("stream");
    let (session, hello) = Session::start(c, peer, replica).unwrap();
    let o = if stall {
        let (frames, end) = drain(&mut recv, Duration::from_secs(20)).await;
        assert!(!matches!(end, Got::TimedOut), "the dialer never gave up");
        (Outcome::Done, frames)
    } else {
        write_frame(&mut send, &outgoing(hello)).await.unwrap();
        let o = run_session(&mut send, &mut recv, session, replica, outgoing, incoming).await;
        (o, Vec::new())
    };
    // Let the dialer read our last frames before the connection goes.
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.closed()).await;
    o
}

fn refused_with(o: &Outcome, needle: &str) {
    match o {
        Outcome::Error(SessionError::Refused(reason)) => {
            assert!(
                reason.contains(needle),
                "refusal {reason:?} lacks {needle:?}"
            );
        }
        other => panic!("expected the honest node to refuse ({needle}), got {other:?}"),
    }
}

/// Frames on their way out: flip one byte of the first signature of every sync frame that
/// carries changes.
fn flip_signature(f: Frame) -> Frame {
    match f {
        Frame::Sync {
            doc,
            kind,
            message,
            mut changes,
        } => {
            if let Some(s) = changes.iter_mut().find_map(|c| c.signature.as_mut()) {
                s.0[7] ^= 0x01;
            }
            Frame::Sync {
                doc,
                kind,
                message,
                changes,
            }
        }
        f => f,
    }
}

fn id(f: Frame) -> Frame {
    f
}

/// The common ending of the change-level cases: refused, logged, nothing stored, honest
/// members still served.
async fn after_refusal(
    w: &World,
    a: &Online,
    before: &[(DocId, DocKind, Vec<Vec<u8>>)],
    bad: &DocId,
) {
    assert_eq!(stored(&w.ana, &w.c), before, "the attack left a trace");
    assert!(w.ana.thread(bad).is_err());
    assert!(threads(&w.ana, &w.c).iter().all(|t| t.id != *bad));
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(w, a, &b, "After the attack").await;
    assert!(w.bea.thread(bad).is_err());
    b.shutdown().await;
}

// ---- 1–3: bad signatures and authorship in an otherwise correct session --------------------

/// Case 1: a member's own new thread, with one signature byte flipped on the wire.
/// Also the third-peer check: Cat, syncing with Ana afterwards, gets the honest state only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_signature_is_refused_and_never_spreads() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let baseline = threads(&w.ana, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &mal.member_id(), &mal, 1);
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(&ep, &a, w.c, &mut r, flip_signature, id).await;
    refused_with(&o, "forged or damaged signature");
    assert_logged_failure(&a, &mal.member_id(), "forged or damaged signature").await;
    // The third peer: Cat syncs with Ana and holds exactly the honest baseline.
    assert_eq!(stored(&w.ana, &w.c), before);
    let c3 = Online::start(w.cat.clone(), loopback()).await.unwrap();
    c3.sync_with(a.addr(), w.c).await.unwrap();
    assert_eq!(threads(&w.cat, &w.c), baseline);
    assert!(w.cat.thread(&bad.id).is_err());
    assert_eq!(stored(&w.cat, &w.c), before);
    after_refusal(&w, &a, &before, &bad.id).await;
    ep.close().await;
    c3.shutdown().await;
    a.shutdown().await;
}

/// Case 1b: the signature kept, one byte of the change itself flipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_change_bytes_are_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &mal.member_id(), &mal, 2);
    let ep = hostile_endpoint(&mal).await;
    let tamper = |f: Frame| match f {
        Frame::Sync {
            doc,
            kind,
            message,
            mut changes,
        } => {
            if let Some(c) = changes.first_mut() {
                let at = c.bytes.len() - 3;
                c.bytes[at] ^= 0x20;
            }
            Frame::Sync {
                doc,
                kind,
                message,
                changes,
            }
        }
        f => f,
    };
    let o = hostile_session(&ep, &a, w.c, &mut r, tamper, id).await;
    // Either the checksum or the signature catches it; either way the change is refused.
    refused_with(&o, "refused a change from the peer");
    assert_logged_failure(&a, &mal.member_id(), "refused a change").await;
    after_refusal(&w, &a, &before, &bad.id).await;
    ep.close().await;
    a.shutdown().await;
}

/// Case 2: a member's session carrying a thread written and validly signed by an outsider.
/// Also the third-peer check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_by_a_non_member_is_refused_and_never_spreads() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let baseline = threads(&w.ana, &w.c);
    let mal = mal_key();
    let out = outsider_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &out.member_id(), &out, 3);
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(&ep, &a, w.c, &mut r, id, id).await;
    refused_with(&o, "who is not a member of this community");
    assert_logged_failure(&a, &mal.member_id(), "not a member").await;
    let c3 = Online::start(w.cat.clone(), loopback()).await.unwrap();
    c3.sync_with(a.addr(), w.c).await.unwrap();
    assert_eq!(threads(&w.cat, &w.c), baseline);
    assert!(w.cat.thread(&bad.id).is_err());
    after_refusal(&w, &a, &before, &bad.id).await;
    ep.close().await;
    c3.shutdown().await;
    a.shutdown().await;
}

/// Case 3: a thread whose actor names Bea, signed by Mal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_in_another_members_name_is_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &w.bea.member_id(), &mal, 4);
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(&ep, &a, w.c, &mut r, id, id).await;
    refused_with(&o, "forged or damaged signature");
    refused_with(&o, &w.bea.member_id().to_string());
    assert_logged_failure(&a, &mal.member_id(), "forged or damaged signature").await;
    after_refusal(&w, &a, &before, &bad.id).await;
    ep.close().await;
    a.shutdown().await;
}

/// A member (not a coordinator) promotes themself in the roster, validly signed: refused in
/// the community phase, the roster unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_promotion_by_a_member_is_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let me = mal.member_id();
    let mut r = replica_of(&w.ana, &w.c);
    let mut rng = StdRng::seed_from_u64(5);
    write_as(&mut r, &DocRef::community(w.c), &me, &mal, &mut rng, |tx| {
        community::put_member(
            tx,
            &me,
            "Mallory",
            Role::Coordinator,
            None,
            None,
            Timestamp(1_700_000_000_000),
        )
    });
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(&ep, &a, w.c, &mut r, id, id).await;
    refused_with(&o, "who is not a coordinator");
    assert_logged_failure(&a, &me, "not a coordinator").await;
    assert_eq!(stored(&w.ana, &w.c), before);
    assert_eq!(
        w.ana.community(&w.c).unwrap().roster.role_of(&me),
        Some(Role::Member)
    );
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the coup").await;
    assert_eq!(
        w.bea.community(&w.c).unwrap().roster.role_of(&me),
        Some(Role::Member)
    );
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// A member replies in someone else's thread and marks the reply "this helped" himself,
/// validly signed: the honest node leaves that thread's new changes out, stores nothing of
/// them, and honest sync goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helped_mark_on_ones_own_post_is_refused() {
    use commonplace_model::verify::OWN_POST_MARKS_REFUSED_FROM;
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let me = mal.member_id();
    let mut r = replica_of(&w.ana, &w.c);
    let mut rng = StdRng::seed_from_u64(6);
    let doc = DocRef {
        community: w.c,
        kind: DocKind::Thread,
        id: w.first,
    };
    let at = OWN_POST_MARKS_REFUSED_FROM.0 + 86_400_000;
    let post = commonplace_base::PostId::from_bytes([0x6d; 16]);
    write_as_at(&mut r, &doc, &me, &mal, &mut rng, at, |tx| {
        thread::reply(tx, &post, "Use stainless.", None, Timestamp(at))
    });
    write_as_at(&mut r, &doc, &me, &mal, &mut rng, at + 1, |tx| {
        thread::mark_helped(tx, &post, &me)
    });
    let ep = hostile_endpoint(&mal).await;
    // A refusal of this kind leaves out only that document (an older version may have
    // stored such a change honestly); the session itself completes.
    let o = hostile_session(&ep, &a, w.c, &mut r, id, id).await;
    assert!(matches!(o, Outcome::Done), "{o:?}");
    assert_eq!(stored(&w.ana, &w.c), before, "the attack left a trace");
    assert!(w.ana.thread(&w.first).unwrap().replies.is_empty());
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the self-praise").await;
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// A genuinely signed change replayed as another document: the signature binds the document,
/// so it no longer verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_replayed_into_another_document_is_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let real = bad_thread(&mut r, w.c, &mal.member_id(), &mal, 6);
    let fake = DocId::random(&mut StdRng::seed_from_u64(60));
    let rename = |from: DocId, to: DocId| {
        move |f: Frame| match f {
            Frame::Hello {
                version,
                community,
                genesis,
                scope,
                mut docs,
            } => {
                for d in &mut docs {
                    if d.id == from {
                        d.id = to;
                    }
                }
                Frame::Hello {
                    version,
                    community,
                    genesis,
                    scope,
                    docs,
                }
            }
            Frame::Sync {
                doc,
                kind,
                message,
                changes,
            } => Frame::Sync {
                doc: if doc == from { to } else { doc },
                kind,
                message,
                changes,
            },
            f => f,
        }
    };
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(
        &ep,
        &a,
        w.c,
        &mut r,
        rename(real.id, fake),
        rename(fake, real.id),
    )
    .await;
    refused_with(&o, "forged or damaged signature");
    assert_logged_failure(&a, &mal.member_id(), "forged or damaged signature").await;
    assert!(w.ana.thread(&fake).is_err());
    after_refusal(&w, &a, &before, &real.id).await;
    ep.close().await;
    a.shutdown().await;
}

/// Changes smuggled inside the Automerge sync message, where they carry no signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_inside_the_automerge_message_are_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &mal.member_id(), &mal, 7);
    let smuggle = |f: Frame| match f {
        Frame::Sync {
            doc,
            kind,
            message,
            changes,
        } if !changes.is_empty() => {
            let mut msg = Message::decode(&message).unwrap();
            msg.changes = ChunkList::from(changes.into_iter().map(|c| c.bytes).collect::<Vec<_>>());
            Frame::Sync {
                doc,
                kind,
                message: msg.encode(),
                changes: vec![],
            }
        }
        f => f,
    };
    let ep = hostile_endpoint(&mal).await;
    let o = hostile_session(&ep, &a, w.c, &mut r, smuggle, id).await;
    refused_with(&o, "changes must travel beside the sync message");
    assert_logged_failure(&a, &mal.member_id(), "protocol error").await;
    after_refusal(&w, &a, &before, &bad.id).await;
    ep.close().await;
    a.shutdown().await;
}

/// A member of one community announces, in its hello, documents of another community the
/// node holds (a thread, and that community's own document disguised as a thread): the node
/// neither sends nor accepts anything of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_communitys_documents_stay_out_of_reach() {
    let w = world();
    let secret_c = w
        .ana
        .create_community(&NewCommunity {
            name: "Board".into(),
            ..Default::default()
        })
        .unwrap();
    let secret = w
        .ana
        .create_thread(
            &secret_c,
            &NewThread {
                activity: ActivityKind::Discussion,
                title: "Budget".into(),
                body: "Confidential.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let before_secret = stored(&w.ana, &secret_c);
    let mal = mal_key();
    let ep = hostile_endpoint(&mal).await;
    for target in [secret, DocRef::community(secret_c).id] {
        let mut r = replica_of(&w.ana, &w.c);
        let add = move |f: Frame| match f {
            Frame::Hello {
                version,
                community,
                genesis,
                scope,
                mut docs,
            } => {
                docs.push(commonplace_sync::DocDigest {
                    id: target,
                    kind: DocKind::Thread,
                    heads: commonplace_sync::heads_digest(&[[7; 32]]),
                });
                Frame::Hello {
                    version,
                    community,
                    genesis,
                    scope,
                    docs,
                }
            }
            f => f,
        };
        // Our session is told the node announced the document too, so that it wants it as
        // well and does not end after the community phase.
        let mut leaked = Vec::new();
        let watch = |f: Frame| {
            if let Frame::Sync { doc, changes, .. } = &f
                && *doc == target
            {
                leaked.push(changes.len());
            }
            add(f)
        };
        let o = hostile_session(&ep, &a, w.c, &mut r, add, watch).await;
        match &o {
            Outcome::Error(SessionError::Refused(reason)) => {
                assert!(reason.contains(&target.to_string()), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(
            leaked.is_empty(),
            "the node spoke about {target}: {leaked:?}"
        );
    }
    assert_eq!(stored(&w.ana, &w.c), before);
    assert_eq!(stored(&w.ana, &secret_c), before_secret);
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the probe").await;
    assert!(w.bea.thread(&secret).is_err());
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// The other direction: an honest member dials a hostile member (as `sync_known_peers`
/// would) who serves a forged change. The dialer refuses it, stores nothing, and still syncs
/// with Ana; Ana never sees the bad change either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialer_refuses_forged_changes_from_the_peer_it_dials() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), w.c).await.unwrap();
    let before = stored(&w.bea, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let bad = bad_thread(&mut r, w.c, &mal.member_id(), &mal, 8);
    let ep = hostile_server(&mal).await;
    let (synced, (served, _)) = tokio::join!(
        tokio::time::timeout(ANSWER, b.sync_with(ep.addr(), w.c)),
        serve_once(&ep, w.c, &mut r, false, flip_signature, id),
    );
    let err = synced
        .expect("the dialer hung")
        .expect_err("the dialer accepted a forged change")
        .to_string();
    assert!(err.contains("forged or damaged signature"), "{err}");
    // The refusal frame may not reach us (see `dialer_tells_the_peer_why_it_refused`).
    match &served {
        Outcome::Lost(_) => {}
        o => refused_with(o, "forged or damaged signature"),
    }
    assert_eq!(stored(&w.bea, &w.c), before);
    assert!(w.bea.thread(&bad.id).is_err());
    // Bea still syncs with Ana, who never saw it.
    let report = b.sync_with(a.addr(), w.c).await.unwrap();
    assert_eq!(report.stats.changes_received, 0, "{report:?}");
    assert_eq!(threads(&w.bea, &w.c), threads(&w.ana, &w.c));
    assert!(w.ana.thread(&bad.id).is_err());
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// An honest member dials a hostile member who reads the hello and then says nothing: with a
/// 1 s idle timeout the dialer gives up within bounded time, with a refusal on the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialer_gives_up_on_a_stalled_peer() {
    let idle = Duration::from_secs(1);
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let b = Online::start(w.bea.clone(), loopback_idle(idle))
        .await
        .unwrap();
    b.sync_with(a.addr(), w.c).await.unwrap();
    let before = stored(&w.bea, &w.c);
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    let ep = hostile_server(&mal).await;
    let started = Instant::now();
    let (synced, (_, frames)) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), b.sync_with(ep.addr(), w.c)),
        serve_once(&ep, w.c, &mut r, true, id, id),
    );
    let err = synced
        .expect("the dialer hung")
        .expect_err("no error")
        .to_string();
    assert!(err.contains("stopped responding"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    // Only Bea's hello came, nothing of the community; the refusal that should follow may be
    // cut off (see `dialer_tells_the_peer_why_it_refused`).
    assert_eq!(names(&frames).first(), Some(&"hello"), "{frames:?}");
    assert!(
        frames[1..]
            .iter()
            .all(|f| matches!(f, Frame::Refuse { .. })),
        "{:?}",
        names(&frames)
    );
    if let Some(reason) = refusal(&frames) {
        assert!(reason.contains("no progress"), "{reason}");
    }
    assert_eq!(stored(&w.bea, &w.c), before);
    honest_sync_still_works(&w, &a, &b, "After the silence").await;
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// When the dialer ends a session (a refused change, a silent peer), its refusal frame should
/// reach the peer, as the accepting side's does. It does not: `Network::sync` closes the
/// connection right after `drive` returns an error, which discards the refusal still in the
/// send buffer (on success it waits for the peer's end first); the peer sees "connection
/// lost" instead of the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialer_tells_the_peer_why_it_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let b = Online::start(w.bea.clone(), loopback_idle(Duration::from_secs(1)))
        .await
        .unwrap();
    b.sync_with(a.addr(), w.c).await.unwrap();
    let mal = mal_key();
    let mut r = replica_of(&w.ana, &w.c);
    bad_thread(&mut r, w.c, &mal.member_id(), &mal, 9);
    let ep = hostile_server(&mal).await;
    // A forged change: the dialer refuses it and should say so.
    let (synced, (served, _)) = tokio::join!(
        tokio::time::timeout(ANSWER, b.sync_with(ep.addr(), w.c)),
        serve_once(&ep, w.c, &mut r, false, flip_signature, id),
    );
    assert!(synced.unwrap().is_err());
    refused_with(&served, "forged or damaged signature");
    // Silence: the dialer gives up and should say so.
    let (synced, (_, frames)) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), b.sync_with(ep.addr(), w.c)),
        serve_once(&ep, w.c, &mut r, true, id, id),
    );
    assert!(synced.unwrap().is_err());
    assert_eq!(names(&frames), ["hello", "refuse"], "{frames:?}");
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

// ---- 4–5: malformed frames ------------------------------------------------------------------

/// Case 4: a frame header announcing more than `MAX_FRAME_BYTES`, with no body behind it. The
/// node refuses at once (it would wait out its 30 s idle timeout if it tried to read the body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_header_is_refused_without_reading() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let ep = hostile_endpoint(&mal).await;
    for len in [MAX_FRAME_BYTES as u32 + 1, u32::MAX] {
        // After a correct hello: a refusal naming the limit.
        let conn = dial(&ep, &a).await;
        let (mut send, mut recv) = raw_stream(&conn, &[hello(&w)]).await;
        send.write_all(&len.to_be_bytes()).await.unwrap();
        let started = Instant::now();
        let (frames, end) = drain(&mut recv, ANSWER).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{len}: too slow"
        );
        let reason = refusal(&frames).unwrap_or_else(|| panic!("{len}: no refusal: {frames:?}"));
        assert!(reason.contains("over the limit"), "{reason}");
        assert!(
            matches!(frames.last(), Some(Frame::Refuse { .. })),
            "{:?}",
            names(&frames)
        );
        assert!(!matches!(end, Got::TimedOut), "{len}: stream left open");
        conn.close(0u32.into(), b"bye");
        // Instead of a hello: the stream ends, with nothing of the community sent.
        let conn = dial(&ep, &a).await;
        let (mut send, mut recv) = conn.open_bi().await.unwrap();
        send.write_all(&len.to_be_bytes()).await.unwrap();
        let started = Instant::now();
        let (frames, end) = drain(&mut recv, ANSWER).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{len}: too slow"
        );
        assert!(
            frames.iter().all(|f| matches!(f, Frame::Refuse { .. })),
            "{:?}",
            names(&frames)
        );
        assert!(!matches!(end, Got::TimedOut), "{len}: stream left open");
        conn.close(0u32.into(), b"bye");
    }
    assert_logged_failure(&a, &mal.member_id(), "over the limit").await;
    assert_eq!(stored(&w.ana, &w.c), before);
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the flood").await;
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// Compressed change batches that lie: one that inflates to more than the limit (a
/// decompression bomb of a few kilobytes) and one that does not inflate at all. The node
/// refuses each without allocating more than the limit and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_compressed_batches_are_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let ep = hostile_endpoint(&mal).await;
    let community_doc = DocRef::community(w.c).id;
    let empty_msg = automerge::sync::SyncDoc::generate_sync_message(
        &new_document(&[1; 48]),
        &mut automerge::sync::State::new(),
    )
    .unwrap()
    .encode();
    // Some tens of kilobytes that inflate to more than the limit.
    let bomb =
        commonplace_sync::deflate(&vec![0u8; commonplace_sync::MAX_CHANGE_BYTES + 1]).unwrap();
    for (data, needle) in [
        (bomb, "inflate to more than"),
        (vec![0xff; 300], "do not inflate"),
    ] {
        let frame = commonplace_sync::raw_sync_frame(
            community_doc,
            DocKind::Community,
            empty_msg.clone(),
            1,
            1,
            data,
            vec![],
        )
        .unwrap();
        let conn = dial(&ep, &a).await;
        let (mut send, mut recv) = raw_stream(&conn, &[hello(&w)]).await;
        send.write_all(&frame).await.unwrap();
        let (frames, end) = drain(&mut recv, ANSWER).await;
        let reason = refusal(&frames).unwrap_or_else(|| panic!("no refusal: {:?}", names(&frames)));
        assert!(reason.contains(needle), "{reason} lacks {needle}");
        assert!(!matches!(end, Got::TimedOut));
        conn.close(0u32.into(), b"bye");
    }
    assert_logged_failure(&a, &mal.member_id(), "do not inflate").await;
    assert_eq!(stored(&w.ana, &w.c), before);
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the bomb").await;
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

/// Case 5: garbage where a frame should be, and garbage inside well-formed frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let ep = hostile_endpoint(&mal).await;
    let community_doc = DocRef::community(w.c).id;
    let mut garbage = 64u32.to_be_bytes().to_vec();
    garbage.extend_from_slice(&[0xff; 64]);

    // Garbage bytes after a valid length prefix, after a correct hello.
    let conn = dial(&ep, &a).await;
    let (mut send, mut recv) = raw_stream(&conn, &[hello(&w)]).await;
    send.write_all(&garbage).await.unwrap();
    let (frames, end) = drain(&mut recv, ANSWER).await;
    let reason = refusal(&frames).unwrap_or_else(|| panic!("no refusal: {:?}", names(&frames)));
    assert!(reason.contains("malformed frame"), "{reason}");
    assert!(!matches!(end, Got::TimedOut));
    conn.close(0u32.into(), b"bye");

    // Garbage instead of a hello: nothing of the community is sent.
    let conn = dial(&ep, &a).await;
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&garbage).await.unwrap();
    let (frames, end) = drain(&mut recv, ANSWER).await;
    assert!(
        frames.iter().all(|f| matches!(f, Frame::Refuse { .. })),
        "{:?}",
        names(&frames)
    );
    assert!(!matches!(end, Got::TimedOut));
    conn.close(0u32.into(), b"bye");

    // Well-formed frames with garbage inside: an Automerge message that is not one, a change
    // that is not one, and a sync frame for a document outside the phase.
    let junk_message = Frame::Sync {
        doc: community_doc,
        kind: DocKind::Community,
        message: vec![0xff; 40],
        changes: vec![],
    };
    // A genuine Automerge sync message (from an empty document), without changes.
    let empty_msg = automerge::sync::SyncDoc::generate_sync_message(
        &new_document(&[1; 48]),
        &mut automerge::sync::State::new(),
    )
    .unwrap();
    let junk_change = Frame::Sync {
        doc: community_doc,
        kind: DocKind::Community,
        message: empty_msg.clone().encode(),
        changes: vec![commonplace_model::SignedChange {
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 5],
            signature: None,
        }],
    };
    let out_of_phase = Frame::Sync {
        doc: w.first,
        kind: DocKind::Thread,
        message: empty_msg.encode(),
        changes: vec![],
    };
    for (frame, needle) in [
        (junk_message, "bad sync message"),
        (junk_change, "malformed"),
        (out_of_phase, "does not cover"),
    ] {
        let conn = dial(&ep, &a).await;
        let (_send, mut recv) = raw_stream(&conn, &[hello(&w), frame]).await;
        let (frames, end) = drain(&mut recv, ANSWER).await;
        let reason = refusal(&frames)
            .unwrap_or_else(|| panic!("{needle}: no refusal: {:?}", names(&frames)));
        assert!(reason.contains(needle), "{reason} lacks {needle}");
        assert!(!matches!(end, Got::TimedOut));
        conn.close(0u32.into(), b"bye");
    }
    assert_logged_failure(&a, &mal.member_id(), "does not cover").await;
    assert_eq!(stored(&w.ana, &w.c), before);
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the garbage").await;
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

// ---- 6: stalls ------------------------------------------------------------------------------

/// Case 6: a member says hello and then nothing (or half a frame). With a 1 s idle timeout the
/// node ends the session within bounded time, and serves an honest member meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_sessions_end_and_others_are_served() {
    let idle = Duration::from_secs(1);
    let w = world();
    let a = Online::start(w.ana.clone(), loopback_idle(idle))
        .await
        .unwrap();
    let before = stored(&w.ana, &w.c);
    let mal = mal_key();
    let ep = hostile_endpoint(&mal).await;
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();

    let started = Instant::now();
    // Hello, then silence.
    let c1 = dial(&ep, &a).await;
    let (_s1, mut r1) = raw_stream(&c1, &[hello(&w)]).await;
    // Hello, then a header announcing 100 bytes and only 10 of them.
    let c2 = dial(&ep, &a).await;
    let (mut s2, mut r2) = raw_stream(&c2, &[hello(&w)]).await;
    s2.write_all(&100u32.to_be_bytes()).await.unwrap();
    s2.write_all(&[0; 10]).await.unwrap();
    // Half a header instead of a hello.
    let c3 = dial(&ep, &a).await;
    let (mut s3, mut r3) = c3.open_bi().await.unwrap();
    s3.write_all(&[0, 0]).await.unwrap();

    // While those hang, an honest member syncs.
    let report = tokio::time::timeout(ANSWER, b.sync_with(a.addr(), w.c))
        .await
        .unwrap()
        .unwrap();
    assert!(report.stats.changes_received > 0);
    assert_eq!(threads(&w.bea, &w.c), threads(&w.ana, &w.c));

    let bound = Duration::from_secs(20);
    let (stalled, half_frame, half_header) = tokio::join!(
        drain(&mut r1, bound),
        drain(&mut r2, bound),
        drain(&mut r3, bound)
    );
    let elapsed = started.elapsed();
    assert!(elapsed < bound, "took {elapsed:?}");
    for (what, (frames, end)) in [("stalled", &stalled), ("half frame", &half_frame)] {
        let reason =
            refusal(frames).unwrap_or_else(|| panic!("{what}: no refusal: {:?}", names(frames)));
        assert!(reason.contains("no progress"), "{what}: {reason}");
        assert!(!matches!(end, Got::TimedOut), "{what}: {end:?}");
    }
    let (frames, end) = &half_header;
    assert!(
        frames.iter().all(|f| matches!(f, Frame::Refuse { .. })),
        "{:?}",
        names(frames)
    );
    assert!(!matches!(end, Got::TimedOut), "half header: {end:?}");
    assert_logged_failure(&a, &mal.member_id(), "stopped responding").await;
    assert_eq!(stored(&w.ana, &w.c), before);
    honest_sync_still_works(&w, &a, &b, "After the stall").await;
    for c in [c1, c2, c3] {
        c.close(0u32.into(), b"bye");
    }
    ep.close().await;
    b.shutdown().await;
    a.shutdown().await;
}

// ---- 7: strangers ---------------------------------------------------------------------------

/// Case 7: an outsider, a removed member, and a member asking about a community the node does
/// not hold: each gets one refusal and nothing else, not even a hello (which would list the
/// community's documents).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_get_a_refusal_and_no_data() {
    let w = world();
    let a = Online::start(w.ana.clone(), loopback()).await.unwrap();
    let before = stored(&w.ana, &w.c);
    let empty_msg = automerge::sync::SyncDoc::generate_sync_message(
        &new_document(&[1; 48]),
        &mut automerge::sync::State::new(),
    )
    .unwrap();
    let unknown = CommunityId::random(&mut StdRng::seed_from_u64(70));
    let pretend = Frame::Hello {
        version: PROTOCOL_VERSION,
        community: w.c,
        genesis: Some(w.genesis),
        scope: None,
        docs: vec![commonplace_sync::DocDigest {
            id: DocRef::community(w.c).id,
            kind: DocKind::Community,
            heads: commonplace_sync::heads_digest(&[]),
        }],
    };
    let cases = [
        (
            "outsider without genesis",
            outsider_key(),
            Frame::Hello {
                version: PROTOCOL_VERSION,
                community: w.c,
                genesis: None,
                scope: None,
                docs: vec![],
            },
        ),
        ("outsider with genesis", outsider_key(), pretend),
        ("removed member", removed_key(), hello(&w)),
        (
            "member, unknown community",
            mal_key(),
            Frame::Hello {
                version: PROTOCOL_VERSION,
                community: unknown,
                genesis: None,
                scope: None,
                docs: vec![],
            },
        ),
    ];
    for (what, key, first) in cases {
        let ep = hostile_endpoint(&key).await;
        let conn = dial(&ep, &a).await;
        let (mut send, mut recv) = raw_stream(&conn, &[first]).await;
        // Push on regardless, with a forged thread: it must go nowhere.
        let mut r = MemoryReplica::default();
        let bad = bad_thread(&mut r, w.c, &key.member_id(), &key, 71);
        let change = r.doc(&bad).unwrap().get_changes(&[]).remove(0);
        let signature = r.signatures.get(&change.hash()).copied();
        let _ = write_frame(
            &mut send,
            &Frame::Sync {
                doc: bad.id,
                kind: DocKind::Thread,
                message: empty_msg.clone().encode(),
                changes: vec![commonplace_model::SignedChange {
                    bytes: change.raw_bytes().to_vec(),
                    signature,
                }],
            },
        )
        .await;
        let (frames, end) = drain(&mut recv, ANSWER).await;
        assert_eq!(names(&frames), ["refuse"], "{what}: {frames:?}");
        let reason = refusal(&frames).unwrap();
        assert!(reason.contains("not a member"), "{what}: {reason}");
        assert!(!matches!(end, Got::TimedOut), "{what}: {end:?}");
        assert_logged_failure(&a, &key.member_id(), "not a member").await;
        conn.close(0u32.into(), b"bye");
        ep.close().await;
    }
    assert_eq!(stored(&w.ana, &w.c), before);
    let b = Online::start(w.bea.clone(), loopback()).await.unwrap();
    honest_sync_still_works(&w, &a, &b, "After the strangers").await;
    b.shutdown().await;
    a.shutdown().await;
}
