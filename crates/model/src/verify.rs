//! Verification of changes that arrive from a peer or a file.
//!
//! This is the one gate every way in passes through (import now, sync next): nothing reaches
//! an Automerge document or the store until every change in the batch has been checked for
//!
//! 1. form: the bytes decode as a change, and every dependency is known or in the batch;
//! 2. integrity and authorship: the actor id names a signer, and the change is signed by that
//!    signer over (community, document, change hash) — or a later change of the same actor in
//!    the batch is, whose hash commits to this one;
//! 3. authority: for threads and entries, the signer is an active member who may write; for
//!    the community document (charter and roster), the signer was a coordinator in the roster
//!    as of the change's own dependencies — decided from signed history only, so every honest
//!    peer reaches the same verdict whatever order changes arrive in;
//! 4. schema: the document still reads as its kind afterwards.
//!
//! One bad change rejects the whole batch. Verification works on a copy; the caller stores the
//! result only when everything passed.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::{Automerge, Change, ChangeHash};
use commonplace_base::{MemberId, Signature, SigningDomain, actor, verify_many};

use crate::signed::{DocRef, SignedChange};
use crate::{DocKind, RejectReason, Roster, community, entry, thread};

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
}

struct Incoming {
    change: Change,
    signature: Option<Signature>,
    signer: MemberId,
}

/// Verifies `incoming` changes for document `doc` and applies them to `working`, which holds
/// the document as the store has it (an empty document for a new one).
///
/// `roster` is the community's roster to judge thread and entry changes by; it is not used for
/// the community document, whose changes are judged by the roster at their dependencies. On
/// error `working` may hold some of the changes: discard it.
pub fn verify_and_apply(
    doc: &DocRef,
    working: &mut Automerge,
    incoming: &[SignedChange],
    roster: &Roster,
    founder: &MemberId,
) -> Result<Verified, RejectReason> {
    let ordered = decode_and_order(doc, working, incoming)?;
    if ordered.is_empty() {
        return Ok(Verified::default());
    }
    check_signatures(doc, &ordered)?;
    let mut signers = Vec::new();
    for c in &ordered {
        if !signers.contains(&c.signer) {
            signers.push(c.signer);
        }
    }
    match doc.kind {
        DocKind::Community => {
            for c in &ordered {
                let deps = c.change.deps().to_vec();
                let allowed = if deps.is_empty() {
                    c.signer == *founder
                } else {
                    let at =
                        community::roster_at(working, &deps).map_err(|e| RejectReason::Schema {
                            doc: doc.id,
                            detail: e.to_string(),
                        })?;
                    at.role_of(&c.signer) == Some(crate::Role::Coordinator)
                };
                if !allowed {
                    return Err(RejectReason::NotACoordinator {
                        doc: doc.id,
                        hash: c.change.hash().to_string(),
                        signer: c.signer,
                    });
                }
                apply(doc, working, vec![c.change.clone()])?;
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
        }
        DocKind::Thread | DocKind::Entry => {
            for c in &ordered {
                match roster.role_of(&c.signer) {
                    None => {
                        return Err(RejectReason::NotAMember {
                            doc: doc.id,
                            hash: c.change.hash().to_string(),
                            signer: c.signer,
                        });
                    }
                    Some(role) if !role.can_contribute() => {
                        return Err(RejectReason::ReadOnly {
                            doc: doc.id,
                            hash: c.change.hash().to_string(),
                            signer: c.signer,
                        });
                    }
                    Some(_) => {}
                }
            }
            apply(
                doc,
                working,
                ordered.iter().map(|c| c.change.clone()).collect(),
            )?;
            let community = if doc.kind == DocKind::Thread {
                thread::read(working, doc.id).map(|t| t.community)
            } else {
                entry::read(working, doc.id).map(|e| e.community)
            }
            .map_err(|e| RejectReason::Schema {
                doc: doc.id,
                detail: e.to_string(),
            })?;
            if community != doc.community {
                return Err(RejectReason::Schema {
                    doc: doc.id,
                    detail: "the document belongs to another community".into(),
                });
            }
        }
    }
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
    })
}

fn apply(doc: &DocRef, working: &mut Automerge, changes: Vec<Change>) -> Result<(), RejectReason> {
    working
        .apply_changes(changes)
        .map_err(|e| RejectReason::Malformed {
            doc: doc.id,
            detail: e.to_string(),
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
    for sc in incoming {
        let change = Change::from_bytes(sc.bytes.clone()).map_err(|e| RejectReason::Malformed {
            doc: doc.id,
            detail: e.to_string(),
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

/// Checks every signature in one batch verification, and that every unsigned change is an
/// ancestor of a signed change by the same actor.
fn check_signatures(doc: &DocRef, ordered: &[Incoming]) -> Result<(), RejectReason> {
    let messages: Vec<[u8; 65]> = ordered
        .iter()
        .map(|c| doc.change_message(&c.change.hash()))
        .collect();
    let mut items = Vec::new();
    let mut item_of = Vec::new();
    for (i, c) in ordered.iter().enumerate() {
        if let Some(sig) = c.signature {
            items.push((c.signer, messages[i].as_slice(), sig));
            item_of.push(i);
        }
    }
    if let Err(bad) = verify_many(SigningDomain::Change, &items) {
        let c = &ordered[item_of.get(bad).copied().unwrap_or(0)];
        return Err(RejectReason::BadSignature {
            doc: doc.id,
            hash: c.change.hash().to_string(),
            signer: c.signer,
        });
    }
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
