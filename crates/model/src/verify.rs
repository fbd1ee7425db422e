//! Verification of changes that arrive from a peer or a file.
//!
//! These are the checks of the node's one ingest gate (`crates/node/src/ingest.rs`), which
//! every way in passes through (a bundle, a sync session, a live announcement): nothing
//! reaches an Automerge document or the store until every change in the batch has been
//! checked for
//!
//! 1. form: the bytes decode as a change, and every dependency is known or in the batch;
//! 2. integrity and authorship: the actor id names a signer, and the change is signed by that
//!    signer over (community, document, change hash) — or a later change of the same actor in
//!    the batch is, whose hash commits to this one;
//! 3. authority: for the community document (charter and roster), the signer was a
//!    coordinator in the roster as of the change's own dependencies — or an active member
//!    whose change does nothing but edit their own name, region or organisation, or admit
//!    the holder of a coordinator's invitation (see `admission`). For threads and entries,
//!    the signer is in the roster with a contributing role and, if removed since, signed the
//!    change with a timestamp before the removal; and every op of the change touches only what
//!    its signer may write (see `RootRule` and `Slot` below): a thread's own fields are its
//!    creator's, a reply is its author's and is never replaced, "helped" marks are each
//!    member's own (to set or withdraw), never on their own post, and only on a post the
//!    change depends on, an entry's text, title and tags are shared, an event's details are its
//!    organiser's, its notes shared and its answers each member's own, and the fields that
//!    say what a document is are set once. All of this is decided from signed data only, so
//!    honest peers reach the same verdict whatever order changes arrive in (for the limits of
//!    that, see `docs/threat-model.md`);
//! 4. schema: the document still reads as its kind afterwards;
//! 5. reproducibility: the document saves and loads back to the same heads, so no change is
//!    stored that Automerge would re-encode differently (which would make it unloadable).
//!
//! One bad change rejects the whole batch. Verification works on a copy; the caller stores the
//! result only when everything passed.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::{
    ActorId, Automerge, Change, ChangeHash, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, Value,
    legacy,
};
use commonplace_base::{MemberId, PostId, Signature, SigningDomain, Timestamp, actor, verify_many};

use crate::admission::{self, Judgement};
use crate::read::signer_of_op;
use crate::signed::{DocRef, SignedChange};
use crate::{DocKind, RejectReason, Role, Roster, chunk, community, entry, event, thread};

/// The result of a successful verification: the new changes in an order that respects their
/// dependencies, each with the signature it came with.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// New changes, dependencies first.
    pub changes: Vec<SignedChange>,
    /// Their hashes, in the same order.
    pub hashes: Vec<ChangeHash>,
    /// Signers of the new changes, in order of first appearance.
    pub signers: Vec<MemberId>,
    /// The document as the schema check read it after the changes (none when there were no
    /// new changes), so the caller need not read it again for its index row.
    pub read: Option<DocRead>,
}

/// A document read whole, as its kind.
#[derive(Debug, Clone)]
pub enum DocRead {
    /// The community document.
    Community(Box<crate::Community>),
    /// A thread.
    Thread(Box<crate::Thread>),
    /// A repertoire entry.
    Entry(Box<crate::Entry>),
    /// An event.
    Event(Box<crate::Event>),
}

/// A batch for one document, decoded and ordered, whose signatures are not checked yet
/// ([`check_signatures`] turns it into a [`Checked`] batch).
pub struct Prepared {
    doc: DocRef,
    ordered: Vec<Incoming>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("doc", &self.doc)
            .field("changes", &self.ordered.len())
            .finish()
    }
}

/// A batch whose every change is signed or vouched for by a checked signature: only such a
/// batch reaches Automerge ([`apply_checked`]).
#[derive(Debug)]
pub struct Checked(Prepared);

impl Prepared {
    /// Whether the batch holds no new change.
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// How many new changes it holds.
    pub fn len(&self) -> usize {
        self.ordered.len()
    }
}

struct Incoming {
    change: Change,
    signature: Option<Signature>,
    signer: MemberId,
}

/// Verifies `incoming` changes for document `doc` and applies them to `working`, which holds
/// the document as the store has it (an empty document for a new one).
///
/// `roster` is the community's roster to judge thread and entry changes by (removed members
/// included: their changes from before the removal stay valid); it is not used for the
/// community document, whose changes are judged by the roster at their dependencies. On error
/// `working` may hold some of the changes: discard it.
pub fn verify_and_apply(
    doc: &DocRef,
    working: &mut Automerge,
    incoming: &[SignedChange],
    roster: &Roster,
    founder: &MemberId,
) -> Result<Verified, RejectReason> {
    let prepared = prepare(doc, working, incoming)?;
    match check_signatures(vec![prepared])?.pop() {
        Some(checked) => apply_checked(checked, working, roster, founder),
        None => Ok(Verified::default()),
    }
}

/// Step one of [`verify_and_apply`], for callers that verify many documents at once (an
/// import): decodes the batch, drops changes `working` already holds, and orders the rest
/// dependencies first. Nothing reaches `working`.
pub fn prepare(
    doc: &DocRef,
    working: &Automerge,
    incoming: &[SignedChange],
) -> Result<Prepared, RejectReason> {
    Ok(Prepared {
        doc: *doc,
        ordered: decode_and_order(doc, working, incoming)?,
    })
}

/// Step two: checks the signatures of every batch together (spread over the machine's cores
/// for a large import, see [`verify_many`]), and that every unsigned change
/// is vouched for by a signed later change of its actor. The first bad signature refuses all.
/// The checked batches come back in the order given.
pub fn check_signatures(batches: Vec<Prepared>) -> Result<Vec<Checked>, RejectReason> {
    let mut messages: Vec<[u8; 65]> = Vec::new();
    let mut owner: Vec<(usize, usize)> = Vec::new();
    for (b, p) in batches.iter().enumerate() {
        for (i, c) in p.ordered.iter().enumerate() {
            if c.signature.is_some() {
                messages.push(p.doc.change_message(&c.change.hash()));
                owner.push((b, i));
            }
        }
    }
    let items: Vec<(MemberId, &[u8], Signature)> = owner
        .iter()
        .zip(&messages)
        .filter_map(|(&(b, i), m)| {
            let c = &batches[b].ordered[i];
            Some((c.signer, m.as_slice(), c.signature?))
        })
        .collect();
    if let Err(bad) = verify_many(SigningDomain::Change, &items) {
        let (b, i) = owner.get(bad).copied().unwrap_or((0, 0));
        let p = &batches[b];
        let c = &p.ordered[i];
        return Err(RejectReason::BadSignature {
            doc: p.doc.id,
            hash: c.change.hash().to_string(),
            signer: c.signer,
        });
    }
    for p in &batches {
        check_vouched(&p.doc, &p.ordered)?;
    }
    Ok(batches.into_iter().map(Checked).collect())
}

/// Step three: the authority and schema checks, applying the batch to `working` (the same
/// document [`prepare`] saw). On error `working` may hold some of the changes: discard it.
pub fn apply_checked(
    checked: Checked,
    working: &mut Automerge,
    roster: &Roster,
    founder: &MemberId,
) -> Result<Verified, RejectReason> {
    let Prepared { doc, ordered } = checked.0;
    if ordered.is_empty() {
        return Ok(Verified::default());
    }
    let doc = &doc;
    let mut signers = Vec::new();
    for c in &ordered {
        if !signers.contains(&c.signer) {
            signers.push(c.signer);
        }
    }
    let read = match doc.kind {
        DocKind::Community => {
            for c in &ordered {
                let deps = c.change.deps().to_vec();
                let refused = || RejectReason::NotACoordinator {
                    doc: doc.id,
                    hash: c.change.hash().to_string(),
                    signer: c.signer,
                };
                if deps.is_empty() {
                    if c.signer != *founder {
                        return Err(refused());
                    }
                    apply(doc, working, vec![c.change.clone()])?;
                    continue;
                }
                let at =
                    community::roster_at(working, &deps).map_err(|e| RejectReason::Schema {
                        doc: doc.id,
                        detail: e.to_string(),
                    })?;
                if at.role_of(&c.signer) == Some(crate::Role::Coordinator) {
                    apply(doc, working, vec![c.change.clone()])?;
                    continue;
                }
                // Anyone else may only change their own profile, or admit the holder of a
                // coordinator's invitation (`admission` judges which).
                if !at.members.get(&c.signer).is_some_and(|m| m.is_active()) {
                    return Err(refused());
                }
                apply(doc, working, vec![c.change.clone()])?;
                match admission::judge(
                    working,
                    &deps,
                    c.change.hash(),
                    &doc.community,
                    &c.signer,
                    Timestamp(c.change.timestamp()),
                    &at,
                ) {
                    Judgement::Admits(_) | Judgement::OwnProfile => {}
                    Judgement::NotAnAdmission => return Err(refused()),
                    Judgement::Invalid(detail) => {
                        return Err(RejectReason::NotTheirs {
                            doc: doc.id,
                            hash: c.change.hash().to_string(),
                            signer: c.signer,
                            detail: format!("not a valid admission: {detail}"),
                        });
                    }
                }
            }
            let read = community::read(working).map_err(|e| RejectReason::Schema {
                doc: doc.id,
                detail: e.to_string(),
            })?;
            if read.id != doc.community {
                return Err(RejectReason::Schema {
                    doc: doc.id,
                    detail: "the document belongs to another community".into(),
                });
            }
            DocRead::Community(Box::new(read))
        }
        DocKind::Thread | DocKind::Entry | DocKind::Event => {
            for c in &ordered {
                check_contributor(doc, c, roster)?;
            }
            // Who created the document and which objects have rules of their own, as the
            // document held them before this batch.
            let mut layout = Layout::before(doc.kind, working);
            // Apply the whole batch first, then check its structure: applying changes one at a
            // time is far slower (see docs/architecture.md), and the structural check needs
            // only the state the batch leaves plus what it records itself. On refusal the
            // caller discards `working`.
            apply(
                doc,
                working,
                ordered.iter().map(|c| c.change.clone()).collect(),
            )?;
            if let Some(c) = ordered
                .iter()
                .find(|c| working.get_change_meta_by_hash(&c.change.hash()).is_none())
            {
                return Err(RejectReason::Malformed {
                    doc: doc.id,
                    detail: format!("change {} could not be applied", c.change.hash()),
                });
            }
            layout.check_batch(doc, working, &ordered, roster)?;
            let schema = |e: crate::SchemaError| RejectReason::Schema {
                doc: doc.id,
                detail: e.to_string(),
            };
            let (community, read) =
                match doc.kind {
                    DocKind::Thread => thread::read(working, doc.id)
                        .map(|t| (t.community, DocRead::Thread(Box::new(t)))),
                    DocKind::Event => event::read(working, doc.id)
                        .map(|e| (e.community, DocRead::Event(Box::new(e)))),
                    _ => entry::read(working, doc.id)
                        .map(|e| (e.community, DocRead::Entry(Box::new(e)))),
                }
                .map_err(schema)?;
            if community != doc.community {
                return Err(RejectReason::Schema {
                    doc: doc.id,
                    detail: "the document belongs to another community".into(),
                });
            }
            read
        }
    };
    reloads(doc, working, &ordered)?;
    Ok(Verified {
        hashes: ordered.iter().map(|c| c.change.hash()).collect(),
        changes: ordered
            .into_iter()
            .map(|c| SignedChange {
                bytes: c.change.raw_bytes().to_vec(),
                signature: c.signature,
            })
            .collect(),
        signers,
        read: Some(read),
    })
}

/// Checks that the document, with the batch applied, saves and loads back to the same heads.
///
/// Automerge accepts a change whose columns it would encode differently (a member can sign
/// any bytes); saving the document re-encodes every change from its ops, and loading then
/// finds hashes that no longer match the heads and refuses the whole document. So a change
/// is accepted only if Automerge reproduces it exactly, which this round trip decides (it
/// also covers what a per-change re-encoding would miss, such as ops or predecessors in an
/// order the saved form does not keep). The cost is one save and load of the document per
/// batch; see docs/benchmarks.md.
fn reloads(doc: &DocRef, working: &Automerge, ordered: &[Incoming]) -> Result<(), RejectReason> {
    let round_trip = guarded(doc, "save and load", || {
        let saved = working.save_nocompress();
        crate::load_document(&saved, working.get_actor().to_bytes()).map(|d| d.get_heads())
    })?;
    let mut want = working.get_heads();
    want.sort();
    let problem = match round_trip {
        Ok(mut heads) => {
            heads.sort();
            if heads == want {
                return Ok(());
            }
            "it loads back with other heads".to_owned()
        }
        Err(e) => e.to_string(),
    };
    // Name the change where re-encoding alone shows it; otherwise the batch as a whole.
    let culprit = ordered.iter().find(|c| {
        guarded(doc, "re-encode", || {
            Change::from(c.change.decode()).raw_bytes() != c.change.raw_bytes()
        })
        .unwrap_or(true)
    });
    let detail = match culprit {
        Some(c) => format!(
            "change {} signed by {} is not encoded as Automerge encodes it ({problem})",
            c.change.hash(),
            c.signer
        ),
        None => problem,
    };
    Err(RejectReason::NotReproducible {
        doc: doc.id,
        detail,
    })
}

fn apply(doc: &DocRef, working: &mut Automerge, changes: Vec<Change>) -> Result<(), RejectReason> {
    guarded(doc, "apply", || working.apply_changes(changes))?.map_err(|e| RejectReason::Malformed {
        doc: doc.id,
        detail: e.to_string(),
    })
}

/// Runs automerge code on a change from a peer, turning a panic into a refusal.
///
/// Automerge 0.12 `unwrap`s inside `apply_changes` and `Change::decode` on changes that parse
/// but name an unknown actor or an actor index out of range, and inside `Change::from_bytes`
/// on column data cut short (found by fuzzing, docs/fuzzing.md). Such bytes pass every check before
/// (a member can sign anything), so without this any member could crash every peer that
/// verifies their change. After a panic `working` may be inconsistent; the caller discards it
/// on any refusal anyway. (With `panic = "abort"` this would not help: keep unwinding.)
fn guarded<T>(doc: &DocRef, action: &str, f: impl FnOnce() -> T) -> Result<T, RejectReason> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| RejectReason::Malformed {
        doc: doc.id,
        detail: format!("automerge could not {action} a change (it panicked)"),
    })
}

/// Decodes the batch, drops changes already known, and orders the rest dependencies first.
fn decode_and_order(
    doc: &DocRef,
    working: &Automerge,
    incoming: &[SignedChange],
) -> Result<Vec<Incoming>, RejectReason> {
    let mut fresh: Vec<Incoming> = Vec::with_capacity(incoming.len());
    let mut index: HashMap<ChangeHash, usize> = HashMap::with_capacity(incoming.len());
    // Before Automerge reads any of them: a few bytes of a change can claim billions of
    // operations, which Automerge would walk (found by fuzzing, docs/fuzzing.md).
    let mut claimed: u64 = 0;
    for sc in incoming {
        let ops = chunk::claimed_ops(&sc.bytes).map_err(|e| RejectReason::Malformed {
            doc: doc.id,
            detail: e.to_string(),
        })?;
        claimed = claimed.saturating_add(ops);
        if claimed > chunk::MAX_BATCH_OPS {
            return Err(RejectReason::Malformed {
                doc: doc.id,
                detail: format!(
                    "the changes claim {claimed} or more operations in all; the limit for one batch is {}",
                    chunk::MAX_BATCH_OPS
                ),
            });
        }
    }
    for sc in incoming {
        // Guarded: Automerge 0.12 panics on some malformed column data (found by fuzzing).
        let change =
            guarded(doc, "decode", || Change::from_bytes(sc.bytes.clone()))?.map_err(|e| {
                RejectReason::Malformed {
                    doc: doc.id,
                    detail: e.to_string(),
                }
            })?;
        let hash = change.hash();
        if index.contains_key(&hash) || working.get_change_meta_by_hash(&hash).is_some() {
            continue;
        }
        let signer =
            actor::signer_of(change.actor_id().to_bytes()).map_err(|_| RejectReason::BadActor {
                doc: doc.id,
                hash: hash.to_string(),
            })?;
        index.insert(hash, fresh.len());
        fresh.push(Incoming {
            change,
            signature: sc.signature,
            signer,
        });
    }
    // Kahn's algorithm over dependencies inside the batch.
    let mut pending = vec![0usize; fresh.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); fresh.len()];
    for (i, c) in fresh.iter().enumerate() {
        for dep in c.change.deps() {
            if let Some(&j) = index.get(dep) {
                pending[i] += 1;
                dependents[j].push(i);
            } else if working.get_change_meta_by_hash(dep).is_none() {
                return Err(RejectReason::MissingDependency {
                    doc: doc.id,
                    hash: c.change.hash().to_string(),
                    missing: dep.to_string(),
                });
            }
        }
    }
    let mut ready: VecDeque<usize> = (0..fresh.len()).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(fresh.len());
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &d in &dependents[i] {
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.push_back(d);
            }
        }
    }
    if order.len() != fresh.len() {
        // A cycle cannot happen with honest hashes; report one of the stuck changes.
        let stuck = (0..fresh.len()).find(|i| pending[*i] > 0).unwrap_or(0);
        return Err(RejectReason::Malformed {
            doc: doc.id,
            detail: format!(
                "change {} has circular dependencies",
                fresh[stuck].change.hash()
            ),
        });
    }
    let mut slots: Vec<Option<Incoming>> = fresh.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// Checks that every unsigned change is an ancestor of a signed change by the same actor (whose
/// signature [`check_signatures`] checks).
fn check_vouched(doc: &DocRef, ordered: &[Incoming]) -> Result<(), RejectReason> {
    let unsigned: Vec<usize> = (0..ordered.len())
        .filter(|&i| ordered[i].signature.is_none())
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    let index: HashMap<ChangeHash, usize> = ordered
        .iter()
        .enumerate()
        .map(|(i, c)| (c.change.hash(), i))
        .collect();
    let actors_needing: HashSet<&[u8]> = unsigned
        .iter()
        .map(|&i| ordered[i].change.actor_id().to_bytes())
        .collect();
    let mut covered = vec![false; ordered.len()];
    for actor_bytes in actors_needing {
        // Walk ancestors from this actor's signed changes, newest first.
        let mut seen = vec![false; ordered.len()];
        let mut stack: Vec<usize> = (0..ordered.len())
            .rev()
            .filter(|&i| {
                ordered[i].signature.is_some()
                    && ordered[i].change.actor_id().to_bytes() == actor_bytes
            })
            .collect();
        while let Some(i) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            if ordered[i].change.actor_id().to_bytes() == actor_bytes {
                covered[i] = true;
            }
            for dep in ordered[i].change.deps() {
                if let Some(&j) = index.get(dep)
                    && !seen[j]
                {
                    stack.push(j);
                }
            }
        }
    }
    if let Some(&i) = unsigned.iter().find(|&&i| !covered[i]) {
        return Err(RejectReason::Unsigned {
            doc: doc.id,
            hash: ordered[i].change.hash().to_string(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Threads and entries: who may write, and which parts
// ---------------------------------------------------------------------------------------------

/// Whether the signer of a thread or entry change may write at all: someone in the roster with
/// a contributing role who, if removed since, made the change before the removal.
///
/// "Before" compares the change's own signed timestamp with the roster's `removed_at`, never the
/// time the change arrives, so every peer with the same roster gives the same verdict and a
/// removed member's past contributions still verify on a peer that meets them later.
fn check_contributor(doc: &DocRef, c: &Incoming, roster: &Roster) -> Result<(), RejectReason> {
    let hash = c.change.hash().to_string();
    let Some(member) = roster.members.get(&c.signer) else {
        return Err(RejectReason::NotAMember {
            doc: doc.id,
            hash,
            signer: c.signer,
        });
    };
    if let Some(removed_at) = member.removed_at
        && c.change.timestamp() >= removed_at.0
    {
        return Err(RejectReason::Removed {
            doc: doc.id,
            hash,
            signer: c.signer,
        });
    }
    // A removed member keeps the role they had, which decides for their earlier changes. A
    // member made an observer keeps what they wrote before (until role changes get a causal
    // cut-off, the coordinator's timestamp on the change of role is the cut-off, as for a
    // removal): otherwise demoting anyone who ever wrote would make the community's existing
    // history unverifiable for every newcomer.
    // The window starts when they were added, so an observer from the start (whose role was
    // set by the change that added them) has none.
    let wrote_before_demotion = member
        .read_only_since
        .is_some_and(|since| (member.added_at.0..since.0).contains(&c.change.timestamp()));
    if !member.role.can_contribute() && !wrote_before_demotion {
        return Err(RejectReason::ReadOnly {
            doc: doc.id,
            hash,
            signer: c.signer,
        });
    }
    Ok(())
}

/// An op or object id as a change spells it: counter and actor.
type OpRef = (u64, ActorId);

fn exid_ref(id: &ObjId) -> Option<OpRef> {
    match id {
        ObjId::Root => None,
        ObjId::Id(counter, actor, _) => Some((*counter, actor.clone())),
    }
}

fn legacy_ref(id: &legacy::OpId) -> OpRef {
    (id.counter(), id.actor().clone())
}

/// The id automerge reads an object by. The actor index is only a hint; automerge looks the
/// actor up when the hint is wrong.
fn exid_of(r: &OpRef) -> ObjId {
    ObjId::Id(r.0, r.1.clone(), 0)
}

/// Objects under the root with rules of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A thread's `posts` map: replies are added to it, never replaced or removed.
    Posts,
    /// A thread's `helped` map: each member writes only their own marks.
    Helped,
    /// An entry's `body` text or an event's `notes`: written together by every contributor.
    Body,
    /// An event's `rsvp` map: each member answers for themself.
    Rsvp,
}

/// The slot an object created under root key `key` fills, if any.
fn slot_of(kind: DocKind, key: &str) -> Option<Slot> {
    match (kind, key) {
        (DocKind::Thread, "posts") => Some(Slot::Posts),
        (DocKind::Thread, "helped") => Some(Slot::Helped),
        (DocKind::Entry, "body") | (DocKind::Event, "notes") => Some(Slot::Body),
        (DocKind::Event, "rsvp") => Some(Slot::Rsvp),
        _ => None,
    }
}

/// Who may write a key at the root of a thread or entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootRule {
    /// The document's creator, once: what the document is and where it belongs.
    CreatorOnce,
    /// The document's creator, as often as they like (a thread's title and opening post).
    Creator,
    /// The creator or a coordinator (whether a thread is resolved, and by which answer).
    Moderation,
    /// Any contributor (an entry's title and tags).
    Anyone,
}

fn root_rule(kind: DocKind, key: &str) -> RootRule {
    match (kind, key) {
        (DocKind::Thread, "schema" | "kind" | "community" | "created_at" | "posts" | "helped")
        | (
            DocKind::Entry,
            "schema" | "kind" | "community" | "entry_kind" | "created_at" | "body" | "source",
        )
        | (DocKind::Event, "schema" | "kind" | "community" | "created_at" | "notes" | "rsvp") => {
            RootRule::CreatorOnce
        }
        (DocKind::Thread, "resolved" | "answer" | "resolved_at") => RootRule::Moderation,
        (DocKind::Entry, "title" | "tags" | "updated_at") => RootRule::Anyone,
        // The thread's activity, title, opening post and tags; everything the organiser decides
        // about an event (kind, title, start, zone, duration, place, agenda, recurrence,
        // cancellation); and any key this version does not know: only the creator.
        _ => RootRule::Creator,
    }
}

/// The structural check of thread and entry changes: each op must touch only what its signer
/// may write. Decided from the op itself (its object id names the object's creator, its
/// `pred` the values it replaces) and from the document's state — the state before the
/// batch, plus what earlier changes of the batch wrote, which this records as it goes.
#[derive(Debug)]
struct Layout {
    kind: DocKind,
    /// The root key whose object names the document's creator: a thread's `posts` map, an
    /// entry's `body` text — the same op `thread::read` and `entry::read` take the author from.
    owner_key: &'static str,
    /// The document's creator, once known.
    creator: Option<MemberId>,
    /// Objects with rules of their own.
    slots: HashMap<OpRef, Slot>,
    /// Write-once places (root keys, post ids) written by an earlier change of the batch.
    claimed: HashSet<(Option<OpRef>, String)>,
    /// The op counters each actor's changes in the batch hold, sorted.
    batch_ops: HashMap<ActorId, Vec<(u64, u64)>>,
}

impl Layout {
    /// Reads what the document holds before the batch is applied.
    fn before(kind: DocKind, working: &Automerge) -> Layout {
        let owner_key = match kind {
            DocKind::Thread => "posts",
            DocKind::Event => "notes",
            _ => "body",
        };
        let creator = match working.get(ROOT, owner_key) {
            Ok(Some((Value::Object(_), id))) => signer_of_op(&id),
            _ => None,
        };
        let mut slots = HashMap::new();
        for key in ["posts", "helped", "body", "notes", "rsvp"] {
            let Some(slot) = slot_of(kind, key) else {
                continue;
            };
            // All values, not only the one automerge shows: a slot's rules hold for every
            // object created under its key.
            for (value, id) in working.get_all(ROOT, key).unwrap_or_default() {
                if let (Value::Object(_), Some(r)) = (value, exid_ref(&id)) {
                    slots.insert(r, slot);
                }
            }
        }
        Layout {
            kind,
            owner_key,
            creator,
            slots,
            claimed: HashSet::new(),
            batch_ops: HashMap::new(),
        }
    }

    /// Checks every change of the batch, dependencies first. `working` holds the whole batch.
    fn check_batch(
        &mut self,
        doc: &DocRef,
        working: &Automerge,
        ordered: &[Incoming],
        roster: &Roster,
    ) -> Result<(), RejectReason> {
        for c in ordered {
            if !c.change.is_empty() {
                let start = c.change.start_op().get();
                self.batch_ops
                    .entry(c.change.actor_id().clone())
                    .or_default()
                    .push((start, c.change.max_op()));
            }
        }
        for ranges in self.batch_ops.values_mut() {
            ranges.sort_unstable();
        }
        // Each change is decoded once, here.
        let decoded: Vec<ExpandedChange> = guarded(doc, "decode", || {
            ordered.iter().map(|c| c.change.decode()).collect()
        })?;
        if self.creator.is_none() {
            // A new document: its creator is whoever creates the owner object first. If nobody
            // does, the schema check refuses the document anyway.
            self.creator = ordered
                .iter()
                .zip(&decoded)
                .find(|(_, d)| d.operations.iter().any(|op| self.creates_owner(op)))
                .map(|(c, _)| c.signer);
        }
        for (c, d) in ordered.iter().zip(&decoded) {
            let start = d.start_op.get();
            let writing = Writing {
                signer: c.signer,
                time: Timestamp(c.change.timestamp()),
                deps: c.change.deps(),
                thread: PostId::from_bytes(*doc.id.as_bytes()),
            };
            for (i, op) in d.operations.iter().enumerate() {
                let id: OpRef = (start.saturating_add(i as u64), d.actor_id.clone());
                self.check_op(working, &writing, roster, op)
                    .map_err(|detail| RejectReason::NotTheirs {
                        doc: doc.id,
                        hash: c.change.hash().to_string(),
                        signer: c.signer,
                        detail,
                    })?;
                // Later ops (of this change or later ones) may write inside this object.
                if let (legacy::ObjectId::Root, legacy::Key::Map(key), legacy::OpType::Make(_)) =
                    (&op.obj, &op.key, &op.action)
                    && let Some(slot) = slot_of(self.kind, key)
                {
                    self.slots.insert(id, slot);
                }
            }
        }
        Ok(())
    }

    fn creates_owner(&self, op: &legacy::Op) -> bool {
        matches!(
            (&op.obj, &op.key, &op.action),
            (legacy::ObjectId::Root, legacy::Key::Map(k), legacy::OpType::Make(_))
                if k.as_str() == self.owner_key
        )
    }

    /// One op: `Ok` if its signer may write it, or what it wrongly touches.
    fn check_op(
        &mut self,
        working: &Automerge,
        writing: &Writing<'_>,
        roster: &Roster,
        op: &legacy::Op,
    ) -> Result<(), String> {
        let signer = writing.signer;
        let obj = match &op.obj {
            legacy::ObjectId::Root => return self.check_root(working, signer, roster, op),
            legacy::ObjectId::Id(id) => legacy_ref(id),
        };
        match self.slots.get(&obj).copied() {
            Some(Slot::Posts) => {
                // Only a new reply: a new key holding a new map. The reply's author is the
                // signer of that map, so replacing or deleting one would rewrite authorship.
                let legacy::Key::Map(key) = &op.key else {
                    return Err("writes the posts map as if it were a list".into());
                };
                let what = format!("post {key}");
                no_overwrite(op, &what)?;
                if op.action != legacy::OpType::Make(ObjType::Map) {
                    return Err(format!("writes {what} as something other than a post"));
                }
                self.check_once(working, Some(obj), key, op, &what)
            }
            Some(slot @ (Slot::Helped | Slot::Rsvp)) => {
                // "post/member" = true, or "occurrence/member" = answer, written by that
                // member only.
                let mine = match &op.key {
                    legacy::Key::Map(key) => key
                        .strip_suffix(signer.to_string().as_str())
                        .is_some_and(|rest| rest.ends_with('/')),
                    legacy::Key::Seq(_) => false,
                };
                let plain = matches!(op.action, legacy::OpType::Put(_) | legacy::OpType::Delete);
                if mine && plain {
                    // Withdrawing (deleting) one's own mark is always fine; a mark itself
                    // must be for someone else's post.
                    match (slot, &op.key, &op.action) {
                        (Slot::Helped, legacy::Key::Map(key), legacy::OpType::Put(_)) => {
                            self.check_mark(working, writing, key)
                        }
                        _ => Ok(()),
                    }
                } else {
                    let what = if slot == Slot::Rsvp {
                        "an answer to an event"
                    } else {
                        "a \"helped\" mark"
                    };
                    Err(format!(
                        "writes {what} that is not its signer's own ({})",
                        key_text(&op.key)
                    ))
                }
            }
            // An entry's text and an event's notes are shared by all contributors.
            Some(Slot::Body) => Ok(()),
            // Anything else (a reply's map, a tags list, an entry's source) belongs to whoever
            // created it: the actor in the object's id.
            None => match actor::signer_of(obj.1.to_bytes()) {
                Ok(owner) if owner == signer => Ok(()),
                Ok(owner) => Err(format!("writes inside an object created by {owner}")),
                Err(_) => Err("writes inside an object of an unknown writer".into()),
            },
        }
    }

    fn check_root(
        &mut self,
        working: &Automerge,
        signer: MemberId,
        roster: &Roster,
        op: &legacy::Op,
    ) -> Result<(), String> {
        let legacy::Key::Map(key) = &op.key else {
            return Err("writes the top level as if it were a list".into());
        };
        // No creator anywhere means no owner object: the schema check refuses the document,
        // so let the signer stand in for the creator meanwhile.
        let creator = self.creator.unwrap_or(signer);
        let is_creator = signer == creator;
        let what = match self.kind {
            DocKind::Thread => "thread",
            DocKind::Event => "event",
            _ => "entry",
        };
        match root_rule(self.kind, key) {
            RootRule::CreatorOnce if is_creator => {
                self.check_once(working, None, key, op, &format!("'{key}'"))
            }
            RootRule::CreatorOnce | RootRule::Creator if !is_creator => {
                Err(format!("writes '{key}' of a {what} created by {creator}"))
            }
            // A removed coordinator keeps their role for the changes dated before the removal
            // (`check_contributor` refused the others).
            RootRule::Moderation
                if !is_creator
                    && roster.members.get(&signer).map(|m| m.role) != Some(Role::Coordinator) =>
            {
                Err(format!(
                    "writes '{key}', which only the {what}'s creator ({creator}) or a coordinator may"
                ))
            }
            _ => Ok(()),
        }
    }

    /// A "helped" mark `key` ("post/member", the member already known to be the signer):
    /// refused if the post is the signer's own, or is not in the change's own history (so
    /// that its author is decided from signed data, the same on every peer whatever arrived
    /// first). Marks dated before [`OWN_POST_MARKS_REFUSED_FROM`] are not checked: earlier
    /// versions let authors mark their own posts, and that history must still sync. Readers
    /// ignore such marks ([`thread::read`]), so a backdated one counts for nothing.
    fn check_mark(
        &self,
        working: &Automerge,
        writing: &Writing<'_>,
        key: &str,
    ) -> Result<(), String> {
        if writing.time < OWN_POST_MARKS_REFUSED_FROM {
            return Ok(());
        }
        let Some((post, _)) = key.split_once('/') else {
            return Err(format!("writes a \"helped\" mark with no post ({key})"));
        };
        let author = if post == writing.thread.to_string() {
            // The opening post's id is the thread's; its author is the thread's creator.
            self.creator
        } else {
            let reply = match working.get_at(ROOT, "posts", writing.deps) {
                Ok(Some((Value::Object(ObjType::Map), posts))) => {
                    working.get_at(&posts, post, writing.deps).ok().flatten()
                }
                _ => None,
            };
            match reply {
                Some((Value::Object(ObjType::Map), id)) => signer_of_op(&id),
                _ => {
                    return Err(format!(
                        "marks post {post} helpful, which is not in the change's history"
                    ));
                }
            }
        };
        if author == Some(writing.signer) {
            return Err(format!("marks its signer's own post {post} helpful"));
        }
        Ok(())
    }

    /// A place written once: no op may replace or delete its value, and it must have had no
    /// value before this op — neither before the batch nor from an earlier change of it.
    fn check_once(
        &mut self,
        working: &Automerge,
        obj: Option<OpRef>,
        key: &str,
        op: &legacy::Op,
        what: &str,
    ) -> Result<(), String> {
        no_overwrite(op, what)?;
        if !self.claimed.insert((obj.clone(), key.to_owned())) {
            return Err(format!("sets {what} a second time"));
        }
        // `working` holds the whole batch. No op of the batch may replace or delete a
        // write-once value, so whatever is there now was there before the batch or came from
        // the batch; anything from before means this op is not the first.
        let at = obj.as_ref().map_or(ROOT, exid_of);
        let values = working.get_all(&at, key).map_err(|e| e.to_string())?;
        if values.iter().all(|(_, id)| self.in_batch(id)) {
            Ok(())
        } else {
            Err(format!("sets {what}, which was already set"))
        }
    }

    /// Whether op `id` belongs to a change of this batch.
    fn in_batch(&self, id: &ObjId) -> bool {
        let ObjId::Id(counter, actor, _) = id else {
            return false;
        };
        let Some(ranges) = self.batch_ops.get(actor) else {
            return false;
        };
        let after = ranges.partition_point(|(start, _)| start <= counter);
        after > 0 && ranges[after - 1].1 >= *counter
    }
}

/// From this moment (2026-12-05 00:00 UTC, by the change's own signed timestamp) a change
/// that marks its signer's own post helpful is refused. Earlier ones are accepted so that
/// the history written by earlier versions still syncs; readers ignore them all the same.
pub const OWN_POST_MARKS_REFUSED_FROM: Timestamp = Timestamp(1_796_428_800_000);

/// Who writes one change, when, and on what it rests: what the op checks need beyond the
/// op itself.
struct Writing<'a> {
    signer: MemberId,
    time: Timestamp,
    deps: &'a [ChangeHash],
    /// The opening post's id (the thread's).
    thread: PostId,
}

/// Refuses an op that replaces or deletes a value (its `pred` names the values it replaces).
fn no_overwrite(op: &legacy::Op, what: &str) -> Result<(), String> {
    if !op.pred.is_empty() || op.action == legacy::OpType::Delete {
        return Err(format!(
            "replaces or deletes {what}, which is set only once"
        ));
    }
    Ok(())
}

fn key_text(key: &legacy::Key) -> String {
    match key {
        legacy::Key::Map(k) => k.to_string(),
        legacy::Key::Seq(_) => "a list position".into(),
    }
}
