//! Sessions between in-memory replicas: convergence, and hostile peers refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{Automerge, ChangeHash};

use commonplace_base::{DocId, MemberId, PostId, SecretKey, Signature, Timestamp, actor};
use commonplace_model::{
    ActivityKind, Charter, DocKind, DocRef, Genesis, Role, SchemaError, SignedChange, community,
    new_document, thread,
};
use commonplace_sync::memory::MemoryReplica;
use commonplace_sync::{Frame, Phase, Replica, Session, SessionError};
use rand::SeedableRng;
use rand::rngs::StdRng;

struct Member {
    key: SecretKey,
    actor: [u8; 48],
}

impl Member {
    fn new(seed: u8, rng: &mut StdRng) -> Member {
        let key = SecretKey::from_seed([seed; 32]);
        let actor = actor::new_actor(&key.member_id(), rng);
        Member { key, actor }
    }
    fn id(&self) -> MemberId {
        self.key.member_id()
    }
}

/// Writes one signed change into `replica`'s copy of `doc`.
fn write(
    replica: &mut MemoryReplica,
    who: &Member,
    doc: &DocRef,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> ChangeHash {
    let am = replica.doc(doc).unwrap();
    am.set_actor(automerge::ActorId::from(who.actor.as_slice()));
    let hash = am
        .transact_with(|_| CommitOptions::default().with_time(1), f)
        .unwrap()
        .hash
        .unwrap();
    let sig = doc.sign(&who.key, &hash);
    replica.signatures.insert(hash, sig);
    hash
}

struct World {
    genesis: Genesis,
    ana: Member,
    bea: Member,
    cid: DocRef,
}

fn world(rng: &mut StdRng) -> (World, MemoryReplica) {
    let ana = Member::new(1, rng);
    let bea = Member::new(2, rng);
    let genesis = Genesis {
        founder: ana.id(),
        nonce: [9; 16],
    };
    let cid = DocRef::community(genesis.community_id());
    let mut r = MemoryReplica::default();
    let charter = Charter {
        name: "Nurses".into(),
        ..Default::default()
    };
    write(&mut r, &ana, &cid, |tx| {
        community::init(tx, &genesis, &charter, "Ana", Timestamp(1))
    });
    let bid = bea.id();
    write(&mut r, &ana, &cid, |tx| {
        community::put_member(tx, &bid, "Bea", Role::Member, None, None, Timestamp(2))
    });
    (
        World {
            genesis,
            ana,
            bea,
            cid,
        },
        r,
    )
}

fn new_thread(
    r: &mut MemoryReplica,
    w: &World,
    who: &Member,
    rng: &mut StdRng,
    title: &str,
) -> DocRef {
    let doc = DocRef {
        community: w.genesis.community_id(),
        kind: DocKind::Thread,
        id: DocId::random(rng),
    };
    let c = doc.community;
    write(r, who, &doc, |tx| {
        thread::init(
            tx,
            &c,
            ActivityKind::Discussion,
            title,
            "body",
            &[],
            Timestamp(3),
        )
    });
    doc
}

fn reply(r: &mut MemoryReplica, who: &Member, doc: &DocRef, rng: &mut StdRng, body: &str) {
    let post = PostId::random(rng);
    write(r, who, doc, |tx| {
        thread::reply(tx, &post, body, None, Timestamp(4))
    });
}

/// Runs a session between `a` and `b` to the end; returns both sessions or the first error.
fn run(
    w: &World,
    a: &mut MemoryReplica,
    b: &mut MemoryReplica,
    a_peer: MemberId,
    b_peer: MemberId,
) -> Result<(Session, Session), (SessionError, Option<Frame>)> {
    run_filtered(w, a, b, a_peer, b_peer, |f| f)
}

/// Like [`run`], with every frame from `b` to `a` passed through `filter`.
fn run_filtered(
    w: &World,
    a: &mut MemoryReplica,
    b: &mut MemoryReplica,
    a_peer: MemberId,
    b_peer: MemberId,
    mut filter: impl FnMut(Frame) -> Frame,
) -> Result<(Session, Session), (SessionError, Option<Frame>)> {
    run_scoped(w, a, b, a_peer, b_peer, None, &mut filter)
}

/// Every frame goes through its wire encoding, as over the network.
fn wire(f: Frame) -> Frame {
    let bytes = f.encode().unwrap();
    Frame::decode_body(&bytes[4..]).unwrap()
}

/// Like [`run_filtered`], for a session scoped to one document (or not).
fn run_scoped(
    w: &World,
    a: &mut MemoryReplica,
    b: &mut MemoryReplica,
    a_peer: MemberId,
    b_peer: MemberId,
    scope: Option<DocId>,
    mut filter: impl FnMut(Frame) -> Frame,
) -> Result<(Session, Session), (SessionError, Option<Frame>)> {
    let c = w.genesis.community_id();
    let (mut sa, ha) = Session::start_scoped(c, a_peer, scope, a).unwrap();
    let (mut sb, hb) = Session::start_scoped(c, b_peer, scope, b).unwrap();
    let mut to_b = vec![ha];
    let mut to_a = vec![hb];
    for _ in 0..10_000 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        if let Some(f) = (!to_b.is_empty()).then(|| to_b.remove(0)) {
            if std::env::var("TRACE").is_ok() {
                eprintln!("a->b {:?} (b in {:?})", short(&f), sb.phase());
            }
            match sb.receive(wire(f), b) {
                Ok(out) => to_a.extend(out),
                Err(e) => {
                    let refusal = e.refusal();
                    return Err((e, Some(refusal)));
                }
            }
        }
        if let Some(f) = (!to_a.is_empty()).then(|| filter(to_a.remove(0))) {
            if std::env::var("TRACE").is_ok() {
                eprintln!("b->a {:?} (a in {:?})", short(&f), sa.phase());
            }
            match sa.receive(wire(f), a) {
                Ok(out) => to_b.extend(out),
                Err(e) => {
                    let refusal = e.refusal();
                    return Err((e, Some(refusal)));
                }
            }
        }
    }
    Ok((sa, sb))
}

fn short(f: &Frame) -> String {
    match f {
        Frame::Sync { doc, changes, .. } => format!("sync {} +{}", doc.short(), changes.len()),
        Frame::Idle { received } => format!("idle {received}"),
        other => other.name().to_string(),
    }
}

fn heads(r: &mut MemoryReplica) -> Vec<(DocId, Vec<ChangeHash>)> {
    r.docs
        .iter()
        .filter(|(_, (_, d))| !d.get_heads().is_empty())
        .map(|(id, (_, d))| {
            let mut h = d.get_heads();
            h.sort();
            (*id, h)
        })
        .collect()
}

#[test]
fn two_replicas_that_wrote_apart_converge() {
    let mut rng = StdRng::seed_from_u64(7);
    let (w, mut a) = world(&mut rng);
    // Bea starts with the community only.
    let mut b = MemoryReplica::default();
    {
        let (s1, s2) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
        assert!(s1.is_done() && s2.is_done());
    }
    // Both write apart: new threads and replies to a shared thread.
    let shared = new_thread(&mut a, &w, &w.ana, &mut rng, "Shared");
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    for i in 0..30 {
        reply(&mut a, &w.ana, &shared, &mut rng, &format!("ana {i}"));
        reply(&mut b, &w.bea, &shared, &mut rng, &format!("bea {i}"));
    }
    for i in 0..5 {
        new_thread(&mut a, &w, &w.ana, &mut rng, &format!("A{i}"));
        new_thread(&mut b, &w, &w.bea, &mut rng, &format!("B{i}"));
    }
    let (sa, sb) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    assert_eq!(sa.phase(), Phase::Done);
    assert_eq!(sb.phase(), Phase::Done);
    assert_eq!(heads(&mut a), heads(&mut b));
    let t = thread::read(&a.docs[&shared.id].1, shared.id).unwrap();
    assert_eq!(t.replies.len(), 60);
    assert_eq!(a.docs.len(), 12);
    // Only the newest change of each actor in a batch carries a signature.
    assert!(sa.stats().changes_received >= 35);
    // A second session right after changes nothing and sends no changes.
    let (sa, sb) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    assert_eq!(sa.stats().changes_sent + sb.stats().changes_sent, 0);
}

#[test]
fn a_non_member_change_ends_the_session_and_stores_nothing() {
    let mut rng = StdRng::seed_from_u64(8);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let mallory = Member::new(66, &mut rng);
    new_thread(&mut b, &w, &mallory, &mut rng, "spam");
    let before = heads(&mut a);
    let commits = a.commits;
    let (err, refusal) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap_err();
    assert!(matches!(err, SessionError::Rejected(_)), "{err}");
    assert!(err.to_string().contains("not a member"), "{err}");
    assert!(matches!(refusal, Some(Frame::Refuse { .. })));
    assert_eq!(a.commits, commits);
    assert_eq!(heads(&mut a).len(), before.len());
}

#[test]
fn a_forged_signature_is_refused() {
    let mut rng = StdRng::seed_from_u64(9);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let doc = new_thread(&mut b, &w, &w.bea, &mut rng, "mine");
    // Corrupt every signature Bea holds for this document.
    let hashes: Vec<ChangeHash> = b.docs[&doc.id].1.get_heads();
    for h in hashes {
        b.signatures.insert(h, Signature([1; 64]));
    }
    let (err, _) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap_err();
    assert!(
        err.to_string().contains("forged or damaged signature"),
        "{err}"
    );
    assert!(!a.docs.contains_key(&doc.id) || a.docs[&doc.id].1.get_heads().is_empty());
}

#[test]
fn a_member_promoting_herself_is_refused() {
    let mut rng = StdRng::seed_from_u64(10);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let bid = w.bea.id();
    let cid = w.cid;
    write(&mut b, &w.bea, &cid, |tx| {
        community::put_member(tx, &bid, "Bea", Role::Coordinator, None, None, Timestamp(5))
    });
    let (err, _) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap_err();
    assert!(err.to_string().contains("not a coordinator"), "{err}");
    let roster = community::read(&a.docs[&w.cid.id].1).unwrap().roster;
    assert_eq!(roster.role_of(&bid), Some(Role::Member));
}

#[test]
fn garbage_and_unexpected_frames_are_protocol_errors() {
    let mut rng = StdRng::seed_from_u64(11);
    let (w, mut a) = world(&mut rng);
    let c = w.genesis.community_id();
    let (mut s, _) = Session::start(c, w.bea.id(), &mut a).unwrap();
    let err = s.receive(Frame::Idle { received: 0 }, &mut a).unwrap_err();
    assert!(matches!(err, SessionError::Protocol(_)));
    assert_eq!(s.phase(), Phase::Failed);
    // A sync frame with changes inside the Automerge message is refused.
    let (mut s, _) = Session::start(c, w.bea.id(), &mut a).unwrap();
    let hello = Frame::Hello {
        version: commonplace_sync::PROTOCOL_VERSION,
        community: c,
        genesis: Some(w.genesis),
        scope: None,
        docs: vec![],
    };
    s.receive(hello, &mut a).unwrap();
    let mut other: Automerge = new_document(&[3; 48]);
    let mut st = automerge::sync::State::new();
    use automerge::sync::SyncDoc;
    other
        .transact(|tx| {
            use automerge::transaction::Transactable;
            tx.put(automerge::ROOT, "x", 1)
        })
        .unwrap();
    let _ = other.generate_sync_message(&mut st);
    let msg = other
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    let err = s
        .receive(
            Frame::Sync {
                doc: w.cid.id,
                kind: DocKind::Community,
                message: msg.encode(),
                changes: vec![SignedChange {
                    bytes: vec![1, 2, 3],
                    signature: None,
                }],
            },
            &mut a,
        )
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Rejected(_) | SessionError::Protocol(_)),
        "{err}"
    );
    // Wrong community in the hello.
    let (mut s, _) = Session::start(c, w.bea.id(), &mut a).unwrap();
    let err = s
        .receive(
            Frame::Hello {
                version: commonplace_sync::PROTOCOL_VERSION,
                community: commonplace_base::CommunityId::from_bytes([0; 16]),
                genesis: None,
                scope: None,
                docs: vec![],
            },
            &mut a,
        )
        .unwrap_err();
    assert!(err.to_string().contains("this session is about"));
}

#[test]
fn a_change_skipped_by_the_peer_is_asked_for_and_nothing_is_refused() {
    // Automerge's bloom filter can make a peer skip a change it wrongly thinks we hold and
    // send only its descendants; the session must ask for it rather than fail.
    let mut rng = StdRng::seed_from_u64(12);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let doc = new_thread(&mut b, &w, &w.bea, &mut rng, "three changes");
    reply(&mut b, &w.bea, &doc, &mut rng, "one");
    reply(&mut b, &w.bea, &doc, &mut rng, "two");
    let mut dropped = false;
    let (sa, sb) = run_filtered(&w, &mut a, &mut b, w.bea.id(), w.ana.id(), |f| match f {
        Frame::Sync {
            doc: d,
            kind,
            message,
            mut changes,
        } if d == doc.id && !dropped && changes.len() == 3 => {
            dropped = true;
            changes.remove(0);
            Frame::Sync {
                doc: d,
                kind,
                message,
                changes,
            }
        }
        other => other,
    })
    .unwrap();
    assert!(dropped, "the filter found the frame to damage");
    assert!(sa.is_done() && sb.is_done());
    assert_eq!(heads(&mut a), heads(&mut b));
    assert_eq!(
        thread::read(&a.docs[&doc.id].1, doc.id)
            .unwrap()
            .replies
            .len(),
        2
    );
}

#[test]
fn a_scoped_session_syncs_only_its_document() {
    let mut rng = StdRng::seed_from_u64(13);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let named = new_thread(&mut a, &w, &w.ana, &mut rng, "named");
    let other = new_thread(&mut a, &w, &w.ana, &mut rng, "other");
    reply(&mut a, &w.ana, &named, &mut rng, "news");
    let mut frames = Vec::new();
    let (sa, sb) = run_scoped(
        &w,
        &mut a,
        &mut b,
        w.bea.id(),
        w.ana.id(),
        Some(named.id),
        |f| {
            if let Frame::Sync { doc, .. } = &f {
                frames.push(*doc);
            }
            f
        },
    )
    .unwrap();
    assert!(sa.is_done() && sb.is_done());
    assert_eq!(heads_of(&mut a, &named), heads_of(&mut b, &named));
    assert!(
        heads_of(&mut b, &other).is_empty(),
        "the other thread came along"
    );
    // The community document was equal in both hellos: no phase for it.
    assert!(!frames.is_empty() && frames.iter().all(|d| *d == named.id));
    // A full session then brings the rest.
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    assert_eq!(heads(&mut a), heads(&mut b));
    // With nothing to do, a scoped session ends right after the hellos.
    let mut count = 0;
    run_scoped(
        &w,
        &mut a,
        &mut b,
        w.bea.id(),
        w.ana.id(),
        Some(named.id),
        |f| {
            count += 1;
            f
        },
    )
    .unwrap();
    assert_eq!(count, 1, "only Ana's hello");
}

#[test]
fn hellos_about_different_scopes_are_refused() {
    let mut rng = StdRng::seed_from_u64(14);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let t = new_thread(&mut a, &w, &w.ana, &mut rng, "t");
    let c = w.genesis.community_id();
    let (mut sa, _) = Session::start_scoped(c, w.bea.id(), Some(t.id), &mut a).unwrap();
    let (_, hb) = Session::start(c, w.ana.id(), &mut b).unwrap();
    let err = sa.receive(hb, &mut a).unwrap_err();
    assert!(err.to_string().contains("other documents"), "{err}");
}

/// Flips bytes of a sync frame's compressed change batch on the wire: the frame no longer
/// decodes, or its changes no longer verify. Either way nothing is stored.
#[test]
fn tampered_compressed_changes_are_refused() {
    let mut rng = StdRng::seed_from_u64(15);
    let (w, mut a0) = world(&mut rng);
    let mut b0 = MemoryReplica::default();
    run(&w, &mut a0, &mut b0, w.bea.id(), w.ana.id()).unwrap();
    let doc = new_thread(&mut b0, &w, &w.bea, &mut rng, "long");
    for i in 0..20 {
        reply(
            &mut b0,
            &w.bea,
            &doc,
            &mut rng,
            &format!("{i} {}", "z".repeat(200)),
        );
    }
    let c = w.genesis.community_id();
    let mut refused = 0;
    for pos in [0usize, 1, 5, 17, 40, 100, 250, 333] {
        let mut a = MemoryReplica::default();
        let mut b = MemoryReplica::default();
        run(&w, &mut a0, &mut a, w.bea.id(), w.ana.id()).unwrap();
        for (id, (kind, d)) in &b0.docs {
            b.docs.insert(*id, (*kind, d.clone()));
        }
        b.signatures = b0.signatures.clone();
        let commits = a.commits;
        let (mut sa, ha) = Session::start(c, w.bea.id(), &mut a).unwrap();
        let (mut sb, hb) = Session::start(c, w.ana.id(), &mut b).unwrap();
        let mut to_b = vec![ha];
        let mut to_a = vec![hb];
        let mut outcome = None;
        'run: for _ in 0..1000 {
            if to_a.is_empty() && to_b.is_empty() {
                break;
            }
            for f in std::mem::take(&mut to_b) {
                to_a.extend(sb.receive(wire(f), &mut b).unwrap());
            }
            for f in std::mem::take(&mut to_a) {
                let bytes = match &f {
                    Frame::Sync {
                        doc: d,
                        kind,
                        message,
                        changes,
                    } if *d == doc.id && !changes.is_empty() => {
                        let (count, encoding, mut data) =
                            commonplace_sync::raw_batch(changes).unwrap();
                        assert_eq!(encoding, 1, "a batch this size is compressed");
                        let p = pos % data.len();
                        data[p] ^= 0x5a;
                        let sigs = changes
                            .iter()
                            .enumerate()
                            .filter_map(|(i, c)| c.signature.map(|s| (i as u32, s)))
                            .collect();
                        commonplace_sync::raw_sync_frame(
                            *d,
                            *kind,
                            message.clone(),
                            count,
                            encoding,
                            data,
                            sigs,
                        )
                        .unwrap()
                    }
                    _ => f.encode().unwrap(),
                };
                let r = Frame::decode_body(&bytes[4..])
                    .map_err(SessionError::from)
                    .and_then(|f| sa.receive(f, &mut a));
                match r {
                    Ok(out) => to_b.extend(out),
                    Err(e) => {
                        outcome = Some(e);
                        break 'run;
                    }
                }
            }
        }
        let e = outcome.unwrap_or_else(|| panic!("tampering at {pos} went unnoticed"));
        assert!(
            matches!(
                e,
                SessionError::Frame(_) | SessionError::Rejected(_) | SessionError::Protocol(_)
            ),
            "{e}"
        );
        assert_eq!(
            a.commits, commits,
            "something of the tampered frame was stored"
        );
        assert!(heads_of(&mut a, &doc).is_empty());
        refused += 1;
    }
    assert_eq!(refused, 8);
}

fn heads_of(r: &mut MemoryReplica, doc: &DocRef) -> Vec<ChangeHash> {
    r.docs
        .get(&doc.id)
        .map(|(_, d)| d.get_heads())
        .unwrap_or_default()
}

/// A replica that holds commits back until `flush`, as the node's does: the updated
/// document is what `doc` gives at once (the node's cache), its changes are stored later.
struct Deferred {
    inner: MemoryReplica,
    held: Vec<(DocRef, commonplace_model::verify::Verified, Automerge)>,
    flushes: usize,
}

impl Deferred {
    fn flush_if(&mut self, id: &DocId) {
        if self.held.iter().any(|(d, _, _)| d.id == *id) {
            self.flush().unwrap();
        }
    }
}

impl Replica for Deferred {
    fn community(
        &mut self,
        id: &commonplace_base::CommunityId,
    ) -> Result<Option<(Genesis, commonplace_model::Roster)>, commonplace_sync::ReplicaError> {
        self.flush_if(&DocRef::community(*id).id);
        self.inner.community(id)
    }
    fn manifest(
        &mut self,
        id: &commonplace_base::CommunityId,
    ) -> Result<Vec<commonplace_sync::DocHeads>, commonplace_sync::ReplicaError> {
        self.flush()?;
        self.inner.manifest(id)
    }
    fn doc(&mut self, doc: &DocRef) -> Result<&mut Automerge, commonplace_sync::ReplicaError> {
        if let Some(i) = self.held.iter().position(|(d, _, _)| d.id == doc.id) {
            return Ok(&mut self.held[i].2);
        }
        self.inner.doc(doc)
    }
    fn signatures(
        &mut self,
        doc: &DocRef,
        hashes: &[ChangeHash],
    ) -> Result<Vec<Option<Signature>>, commonplace_sync::ReplicaError> {
        let mut found = self.inner.signatures(doc, hashes)?;
        for (_, v, _) in self.held.iter().filter(|(d, _, _)| d.id == doc.id) {
            for (h, c) in v.hashes.iter().zip(&v.changes) {
                if let Some(i) = hashes.iter().position(|x| x == h) {
                    found[i] = found[i].or(c.signature);
                }
            }
        }
        Ok(found)
    }
    fn commit(
        &mut self,
        doc: &DocRef,
        verified: &commonplace_model::verify::Verified,
        updated: Automerge,
    ) -> Result<(), commonplace_sync::ReplicaError> {
        self.flush_if(&doc.id);
        self.held.push((*doc, verified.clone(), updated));
        Ok(())
    }
    fn flush(&mut self) -> Result<(), commonplace_sync::ReplicaError> {
        if self.held.is_empty() {
            return Ok(());
        }
        for (doc, verified, updated) in std::mem::take(&mut self.held) {
            self.inner.commit(&doc, &verified, updated)?;
        }
        self.flushes += 1;
        Ok(())
    }
}

/// Runs a session where each side takes everything the other sent in one turn as one batch.
fn run_batched(
    w: &World,
    a: &mut Deferred,
    b: &mut MemoryReplica,
    mut filter: impl FnMut(Vec<Frame>) -> Vec<Frame>,
) -> Result<(Session, Session), SessionError> {
    let c = w.genesis.community_id();
    let (mut sa, ha) = Session::start(c, w.bea.id(), a).unwrap();
    let (mut sb, hb) = Session::start(c, w.ana.id(), b).unwrap();
    let (mut to_a, mut to_b) = (vec![hb], vec![ha]);
    for _ in 0..1_000 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        let batch: Vec<Frame> = std::mem::take(&mut to_b).into_iter().map(wire).collect();
        if !batch.is_empty() {
            to_a.extend(sb.receive_batch(batch, b)?);
        }
        let batch: Vec<Frame> = filter(std::mem::take(&mut to_a).into_iter().map(wire).collect());
        if !batch.is_empty() {
            to_b.extend(sa.receive_batch(batch, a)?);
        }
    }
    Ok((sa, sb))
}

#[test]
fn frames_received_together_are_stored_with_one_flush() {
    let mut rng = StdRng::seed_from_u64(21);
    let (w, a) = world(&mut rng);
    let mut a = Deferred {
        inner: a,
        held: Vec::new(),
        flushes: 0,
    };
    let mut b = MemoryReplica::default();
    run_batched(&w, &mut a, &mut b, |f| f).unwrap();
    let threads: Vec<DocRef> = (0..8)
        .map(|i| new_thread(&mut b, &w, &w.bea, &mut rng, &format!("T{i}")))
        .collect();
    for t in &threads {
        for i in 0..5 {
            reply(&mut b, &w.bea, t, &mut rng, &format!("reply {i}"));
        }
    }
    let (flushes, commits) = (a.flushes, a.inner.commits);
    let (sa, sb) = run_batched(&w, &mut a, &mut b, |f| f).unwrap();
    assert!(sa.is_done() && sb.is_done());
    assert_eq!(heads(&mut a.inner), heads(&mut b));
    // Eight documents changed; their frames came in one batch, stored with one flush.
    assert_eq!(a.inner.commits - commits, 8);
    assert_eq!(a.flushes - flushes, 1);
    assert!(a.held.is_empty());
}

#[test]
fn a_refused_frame_in_a_batch_keeps_what_came_before_it() {
    let mut rng = StdRng::seed_from_u64(22);
    let (w, a) = world(&mut rng);
    let mut a = Deferred {
        inner: a,
        held: Vec::new(),
        flushes: 0,
    };
    let mut b = MemoryReplica::default();
    run_batched(&w, &mut a, &mut b, |f| f).unwrap();
    let honest = new_thread(&mut b, &w, &w.bea, &mut rng, "honest");
    let mallory = Member::new(66, &mut rng);
    let spam = new_thread(&mut b, &w, &mallory, &mut rng, "spam");
    // The spam's frame last in its batch, after the honest document's.
    let order = |mut frames: Vec<Frame>| {
        frames.sort_by_key(|f| matches!(f, Frame::Sync { doc, .. } if *doc == spam.id));
        frames
    };
    let err = run_batched(&w, &mut a, &mut b, order).unwrap_err();
    assert!(err.to_string().contains("not a member"), "{err}");
    assert!(a.held.is_empty());
    assert!(a.inner.docs.contains_key(&honest.id));
    assert!(
        a.inner
            .docs
            .get(&spam.id)
            .is_none_or(|(_, d)| d.get_heads().is_empty())
    );
}

/// A verdict honest peers can disagree on for a while refuses only its document: Bea wrote
/// a thread before she heard of her removal; Ana's side refuses that thread, and the session
/// still brings both sides every other document.
#[test]
fn a_document_refused_on_an_honest_disagreement_does_not_stop_the_others() {
    let mut rng = StdRng::seed_from_u64(12);
    let (w, mut a) = world(&mut rng);
    let mut b = MemoryReplica::default();
    run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    let bid = w.bea.id();
    write(&mut a, &w.ana, &w.cid, |tx| {
        community::remove_member(tx, &bid, Timestamp(1))
    });
    let from_a = new_thread(&mut a, &w, &w.ana, &mut rng, "Written at Ana's");
    // On Bea's side, which has not heard of the removal yet.
    let beas = new_thread(
        &mut b,
        &w,
        &w.bea,
        &mut rng,
        "Written by Bea, after her removal",
    );
    let anas = new_thread(
        &mut b,
        &w,
        &w.ana,
        &mut rng,
        "Ana's, written on Bea's machine",
    );
    let (sa, sb) = run(&w, &mut a, &mut b, w.bea.id(), w.ana.id()).unwrap();
    assert!(sa.is_done() && sb.is_done());
    let refused: Vec<_> = sa.refused_docs().collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(*refused[0].0, beas.id);
    assert!(
        refused[0].1.to_string().contains("removed"),
        "{}",
        refused[0].1
    );
    assert!(
        a.docs
            .get(&beas.id)
            .is_none_or(|(_, d)| d.get_heads().is_empty()),
        "nothing of it stored"
    );
    assert_eq!(heads_of(&mut a, &anas), heads_of(&mut b, &anas));
    assert_eq!(heads_of(&mut a, &from_a), heads_of(&mut b, &from_a));
    assert_eq!(sb.refused_docs().count(), 0);
}

// ---- Bloom filter poisoning (the public "automerge-poison" analysis) -----------------------
//
// Automerge's sync sends what the peer's Bloom filter says it lacks; a change the filter
// wrongly claims (a false positive, about 1 in 100) is found later, one missing dependency
// per round trip. A member can grind changes until each is a false positive against the
// filter an honest node will send, and plant the chain at another honest node: without a
// bound, the two honest nodes would need one round trip per planted change.

/// What a metered session cost: frames and encoded bytes in both directions, and turns (one
/// turn: each side answers what it was sent).
#[derive(Debug, Default)]
struct Meter {
    frames: usize,
    bytes: usize,
    turns: usize,
}

/// Runs a session between `a` and `b` to the end (bounded: 1,000 turns), every frame from
/// `b` to `a` passed through `filter`, counting what it cost.
fn run_metered(
    w: &World,
    a: &mut MemoryReplica,
    b: &mut MemoryReplica,
    mut filter: impl FnMut(Frame) -> Frame,
) -> (Result<(Session, Session), SessionError>, Meter) {
    let c = w.genesis.community_id();
    let mut m = Meter::default();
    let (mut sa, ha) = Session::start(c, w.bea.id(), a).unwrap();
    let (mut sb, hb) = Session::start(c, w.ana.id(), b).unwrap();
    let (mut to_a, mut to_b) = (vec![hb], vec![ha]);
    fn count(m: &mut Meter, f: &Frame) {
        m.frames += 1;
        m.bytes += f.encode().unwrap().len();
    }
    while (!to_a.is_empty() || !to_b.is_empty()) && m.turns < 1_000 {
        m.turns += 1;
        for f in std::mem::take(&mut to_b) {
            count(&mut m, &f);
            match sb.receive(wire(f), b) {
                Ok(out) => to_a.extend(out),
                Err(e) => return (Err(e), m),
            }
        }
        for f in std::mem::take(&mut to_a) {
            let f = filter(f);
            count(&mut m, &f);
            match sa.receive(wire(f), a) {
                Ok(out) => to_b.extend(out),
                Err(e) => return (Err(e), m),
            }
        }
    }
    (Ok((sa, sb)), m)
}

/// Mal, a member, replies `n` times to `doc` in `r`, grinding each reply until its hash is
/// a false positive of `bloom` (any reply, without one).
fn poisoned_replies(
    r: &mut MemoryReplica,
    mal: &Member,
    doc: &DocRef,
    bloom: Option<&automerge::sync::BloomFilter>,
    n: usize,
    rng: &mut StdRng,
) -> usize {
    let mut tries = 0;
    for i in 0..n {
        loop {
            tries += 1;
            assert!(tries < 200_000, "grinding did not find false positives");
            let mut trial = r.docs[&doc.id].1.clone();
            trial.set_actor(automerge::ActorId::from(mal.actor.as_slice()));
            let post = PostId::random(rng);
            let body = format!("poison {i}, try {tries}");
            let hash = trial
                .transact_with(
                    |_| CommitOptions::default().with_time(5),
                    |tx| thread::reply(tx, &post, &body, None, Timestamp(5)),
                )
                .unwrap()
                .hash
                .unwrap();
            if bloom.is_none_or(|b| b.contains_hash(&hash)) {
                r.docs.get_mut(&doc.id).unwrap().1 = trial;
                r.signatures.insert(hash, doc.sign(&mal.key, &hash));
                break;
            }
        }
    }
    tries
}

/// Ana, Bea and Mal (a member) hold the same community and one thread; Mal then plants at
/// Ana's a chain of `n` replies, ground against the Bloom filter Bea's node will send if
/// `ground` (else ordinary replies, for comparison).
fn poisoned_world(n: usize, ground: bool) -> (World, MemoryReplica, MemoryReplica, DocRef) {
    let mut rng = StdRng::seed_from_u64(31);
    let (w, mut a) = world(&mut rng);
    let mal = Member::new(77, &mut rng);
    let mid = mal.id();
    write(&mut a, &w.ana, &w.cid, |tx| {
        community::put_member(tx, &mid, "Mal", Role::Member, None, None, Timestamp(2))
    });
    let t = new_thread(&mut a, &w, &w.ana, &mut rng, "Poisoned");
    for i in 0..5 {
        reply(&mut a, &w.ana, &t, &mut rng, &format!("honest {i}"));
    }
    let mut b = MemoryReplica::default();
    let (result, _) = run_metered(&w, &mut a, &mut b, |f| f);
    result.unwrap();
    assert_eq!(heads_of(&mut a, &t), heads_of(&mut b, &t));
    // A new session starts from a fresh sync state: Bea's node will summarise every change of
    // the thread it holds. Mal, a member, holds the same changes and can build that filter.
    let hashes: Vec<ChangeHash> = b.docs[&t.id]
        .1
        .get_changes(&[])
        .iter()
        .map(|c| c.hash())
        .collect();
    let bloom = automerge::sync::BloomFilter::from_hashes(hashes.iter());
    poisoned_replies(&mut a, &mal, &t, ground.then_some(&bloom), n, &mut rng);
    (w, a, b, t)
}

#[test]
fn a_chain_ground_against_the_bloom_filter_costs_a_bounded_number_of_round_trips() {
    for n in [1, 3, 12, 40] {
        // The same replies, not ground: what the session costs without the attack.
        let honest = {
            let (w, mut a, mut b, _) = poisoned_world(n, false);
            let (r, m) = run_metered(&w, &mut a, &mut b, |f| f);
            r.unwrap();
            m
        };
        let (w, mut a, mut b, t) = poisoned_world(n, true);
        let (result, m) = run_metered(&w, &mut a, &mut b, |f| f);
        if std::env::var_os("TRACE").is_some() {
            eprintln!("{n} ground: {m:?}; not ground: {honest:?}");
        }
        let (sa, sb) = result.unwrap_or_else(|e| {
            panic!("{n} ground changes made two honest nodes fail to sync: {e} ({m:?})")
        });
        assert!(sa.is_done() && sb.is_done(), "{n}: {m:?}");
        assert_eq!(heads_of(&mut a, &t), heads_of(&mut b, &t), "{n} ground");
        assert_eq!(
            thread::read(&b.docs[&t.id].1, t.id).unwrap().replies.len(),
            5 + n
        );
        // At most two more round trips than without the attack, whatever the chain's
        // length, and about the same bytes (the thread's changes, once more at most).
        assert!(
            m.turns <= honest.turns + 2,
            "{n} ground: {m:?}, not ground {honest:?}"
        );
        assert!(
            m.frames <= honest.frames + 8,
            "{n} ground: {m:?}, not ground {honest:?}"
        );
        assert!(
            m.bytes <= 2 * honest.bytes + 4 * 1_024,
            "{n} ground: {m:?}, not ground {honest:?}"
        );
    }
}

/// `f` with its Automerge sync message changed by `edit`, if it is a sync frame.
fn editing_message(f: Frame, edit: impl FnOnce(&mut automerge::sync::Message)) -> Frame {
    match f {
        Frame::Sync {
            doc,
            kind,
            message,
            changes,
        } => {
            let mut msg = automerge::sync::Message::decode(&message).unwrap();
            edit(&mut msg);
            Frame::Sync {
                doc,
                kind,
                message: msg.encode(),
                changes,
            }
        }
        other => other,
    }
}

/// A filter with every bit set: the peer claims to hold every change there could be.
fn claims_everything() -> automerge::sync::BloomFilter {
    let one = ChangeHash([7; 32]);
    let mut bytes = automerge::sync::BloomFilter::from_hashes([one].iter()).to_bytes();
    // Three one-byte LEB128 numbers (entries, bits per entry, probes), then the bits.
    for b in bytes.iter_mut().skip(3) {
        *b = 0xff;
    }
    automerge::sync::BloomFilter::try_from(bytes.as_slice()).unwrap()
}

#[test]
fn a_peer_whose_bloom_filter_claims_everything_costs_a_bounded_session() {
    let (w, mut a, mut b, _) = poisoned_world(0, false);
    // Ana writes what Bea lacks: two threads with replies.
    let mut rng = StdRng::seed_from_u64(32);
    for i in 0..2 {
        let t = new_thread(&mut a, &w, &w.ana, &mut rng, &format!("New {i}"));
        for j in 0..10 {
            reply(&mut a, &w.ana, &t, &mut rng, &format!("r{j}"));
        }
    }
    let everything = claims_everything();
    let mut poisoned = 0;
    // Every sync message from Bea's side claims, through its filter, to hold everything.
    let (result, m) = run_metered(&w, &mut a, &mut b, |f| {
        editing_message(f, |msg| {
            for h in &mut msg.have {
                h.bloom = everything.clone();
                poisoned += 1;
            }
        })
    });
    assert!(poisoned > 0, "no filter was replaced");
    // Ana's side ends, done or with an error, after a bounded exchange: she never sends more
    // than the documents hold, and the lie costs her nothing but the peer's own copy.
    assert!(m.turns < 40, "{m:?}");
    assert!(m.frames < 200, "{m:?}");
    assert!(m.bytes < 256 * 1_024, "{m:?}");
    if std::env::var_os("TRACE").is_some() {
        eprintln!(
            "filters claiming everything: {m:?}, {:?}",
            result.as_ref().err()
        );
    }
    if let Err(e) = &result {
        assert!(!e.to_string().is_empty());
    }
}

/// A Bloom filter as a hostile peer writes it: `entries`, `bits` bits per entry, `probes`
/// probes, and `bytes` bytes of bits (all set: "I have everything").
fn hostile_bloom(
    entries: u64,
    bits: u64,
    probes: u64,
    bytes: usize,
) -> automerge::sync::BloomFilter {
    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut raw = Vec::new();
    uleb(&mut raw, entries);
    uleb(&mut raw, bits);
    uleb(&mut raw, probes);
    raw.extend(std::iter::repeat_n(0xff, bytes));
    automerge::sync::BloomFilter::try_from(raw.as_slice()).unwrap()
}

/// Automerge 0.12 tests every change it could send against the peer's Bloom filters with as
/// many probes as the filter says, allocating them all (a filter asking 2^32 probes costs
/// 16 GiB per change), and divides by zero on a filter that claims entries but has no bits.
/// Both are refused as soon as the sync message arrives; an honest filter is not.
#[test]
fn bloom_filters_that_would_crash_or_stall_automerge_are_refused() {
    for (bloom, what) in [
        (hostile_bloom(1, 0, 7, 0), "no bits"),
        (hostile_bloom(1, 10, 33, 2), "too many probes"),
        (hostile_bloom(1, 65, 7, 9), "too many bits per entry"),
    ] {
        let mut rng = StdRng::seed_from_u64(12);
        let (w, mut a) = world(&mut rng);
        for i in 0..3 {
            new_thread(&mut a, &w, &w.ana, &mut rng, &format!("T{i}"));
        }
        let mut b = MemoryReplica::default();
        let mut poisoned = 0;
        let result = run_filtered(&w, &mut a, &mut b, w.bea.id(), w.ana.id(), |f| {
            editing_message(f, |msg| {
                msg.have = vec![automerge::sync::Have {
                    last_sync: vec![],
                    bloom: bloom.clone(),
                }];
                poisoned += 1;
            })
        });
        let Err((err, _)) = result else {
            panic!("{what}: the poisoned session went through");
        };
        assert!(
            matches!(&err, SessionError::Protocol(m) if m.contains("Bloom filter")),
            "{what}: {err}"
        );
        assert_eq!(poisoned, 1, "{what}: refused at the first poisoned message");
    }
    // The same filter as Automerge writes it is accepted.
    let honest = automerge::sync::BloomFilter::from_hashes([ChangeHash([7; 32])].into_iter());
    let mut rng = StdRng::seed_from_u64(12);
    let (w, mut a) = world(&mut rng);
    new_thread(&mut a, &w, &w.ana, &mut rng, "T");
    let mut b = MemoryReplica::default();
    run_filtered(&w, &mut a, &mut b, w.bea.id(), w.ana.id(), |f| {
        editing_message(f, |msg| {
            msg.have = vec![automerge::sync::Have {
                last_sync: vec![],
                bloom: honest.clone(),
            }];
        })
    })
    .unwrap();
}
