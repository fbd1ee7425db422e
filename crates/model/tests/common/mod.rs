//! Fixtures shared by the model's integration tests: a fixed cast of members, a community
//! document written change by change, and helpers that commit and sign Automerge changes the
//! way the node does (one signature per change, over its `DocRef` and hash).
//!
//! Everything is derived from fixed seeds, so every run builds the same documents.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc};
use commonplace_base::{CommunityId, DocId, MemberId, SecretKey, Signature, Timestamp, actor};
use commonplace_model::{
    ActivityKind, Charter, DocKind, DocRef, Genesis, Role, Roster, SchemaError, SignedChange,
    community, new_document, thread,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A member (or would-be member) with a fixed key and a fixed actor id naming that key.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: &'static str,
    pub key: SecretKey,
    pub id: MemberId,
    pub actor: ActorId,
}

impl Person {
    pub fn new(name: &'static str, seed: u8) -> Person {
        let key = SecretKey::from_seed([seed; 32]);
        let id = key.member_id();
        let mut rng = StdRng::seed_from_u64(u64::from(seed));
        let actor = ActorId::from(actor::new_actor(&id, &mut rng).as_slice());
        Person {
            name,
            key,
            id,
            actor,
        }
    }

    /// An empty document written by this person.
    pub fn new_doc(&self) -> Automerge {
        new_document(self.actor.to_bytes())
    }

    /// A copy of `doc` that this person goes on writing.
    pub fn fork(&self, doc: &Automerge) -> Automerge {
        doc.fork().with_actor(self.actor.clone())
    }

    /// A copy of `doc` as of `heads` that this person goes on writing.
    pub fn fork_at(&self, doc: &Automerge, heads: &[ChangeHash]) -> Automerge {
        doc.fork_at(heads).unwrap().with_actor(self.actor.clone())
    }
}

/// Everyone the tests need: the founder, a member, an observer, an appointed coordinator, a
/// member who was removed, and an outsider.
#[derive(Debug, Clone)]
pub struct Cast {
    pub ana: Person,
    pub ben: Person,
    pub olga: Person,
    pub carl: Person,
    pub rita: Person,
    pub mallory: Person,
}

impl Cast {
    pub fn new() -> Cast {
        Cast {
            ana: Person::new("Ana Silva", 1),
            ben: Person::new("Ben Okafor", 2),
            olga: Person::new("Olga Petrova", 3),
            carl: Person::new("Carl Jensen", 4),
            rita: Person::new("Rita Gomez", 5),
            mallory: Person::new("Mallory", 6),
        }
    }
}

/// Commits `f` on `doc` (as the doc's current actor) at claimed time `time`; returns the hash.
pub fn write(
    doc: &mut Automerge,
    time: i64,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> ChangeHash {
    doc.transact_with(|_| CommitOptions::default().with_time(time), f)
        .map_err(|f| f.error)
        .expect("transaction")
        .hash
        .expect("the transaction wrote something")
}

/// The stored form of the change `hash` of `doc`, with `signature`.
pub fn stored(doc: &Automerge, hash: &ChangeHash, signature: Option<Signature>) -> SignedChange {
    let change = doc.get_change_by_hash(hash).expect("change is in the doc");
    SignedChange {
        bytes: change.raw_bytes().to_vec(),
        signature,
    }
}

/// Commits `f` and signs the change with `key` for `doc_ref`.
pub fn signed(
    doc_ref: &DocRef,
    key: &SecretKey,
    doc: &mut Automerge,
    time: i64,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> SignedChange {
    let hash = write(doc, time, f);
    stored(doc, &hash, Some(doc_ref.sign(key, &hash)))
}

/// Commits `f` and leaves the change unsigned.
pub fn unsigned(
    doc: &mut Automerge,
    time: i64,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
) -> SignedChange {
    let hash = write(doc, time, f);
    stored(doc, &hash, None)
}

/// The hash of a stored change.
pub fn hash_of(c: &SignedChange) -> ChangeHash {
    automerge::Change::from_bytes(c.bytes.clone())
        .expect("genuine change")
        .hash()
}

/// Every change of `doc`, dependencies first, with the signatures recorded in `sigs`.
pub fn export(doc: &Automerge, sigs: &HashMap<ChangeHash, Signature>) -> Vec<SignedChange> {
    doc.get_changes(&[])
        .iter()
        .map(|c| SignedChange {
            bytes: c.raw_bytes().to_vec(),
            signature: sigs.get(&c.hash()).copied(),
        })
        .collect()
}

/// A community written change by change by its founder Ana:
///
/// 1. founding (Ana, coordinator), 2. Ben added as member, 3. Olga added as observer,
/// 4. Carl added as coordinator, 5. Rita added as member, 6. Rita removed.
#[derive(Debug)]
pub struct CommunityFixture {
    pub cast: Cast,
    pub genesis: Genesis,
    pub id: CommunityId,
    pub doc_ref: DocRef,
    /// Ana's copy of the community document, holding all six changes.
    pub doc: Automerge,
    /// The six changes, signed by Ana, in order.
    pub changes: Vec<SignedChange>,
    /// The heads after each of the six changes.
    pub heads: Vec<Vec<ChangeHash>>,
}

pub const NONCE: [u8; 16] = [0x42; 16];

pub fn charter() -> Charter {
    Charter {
        name: "Crime Prevention Network".into(),
        domain: "Preventing youth crime in small towns".into(),
        issues: vec!["school drop-out".into(), "night buses".into()],
        values: vec!["listen first".into()],
        topics: vec!["youth".into(), "policing".into()],
    }
}

pub fn community_fixture() -> CommunityFixture {
    let cast = Cast::new();
    let genesis = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    };
    let id = genesis.community_id();
    let doc_ref = DocRef::community(id);
    let mut doc = cast.ana.new_doc();
    let mut changes = Vec::new();
    let mut heads = Vec::new();
    let key = cast.ana.key.clone();
    let mut step =
        |doc: &mut Automerge,
         time: i64,
         f: &dyn Fn(&mut Transaction<'_>) -> Result<(), SchemaError>| {
            changes.push(signed(&doc_ref, &key, doc, time, f));
            heads.push(doc.get_heads());
        };
    step(&mut doc, 1, &|tx| {
        community::init(tx, &genesis, &charter(), cast.ana.name, Timestamp(1_000))
    });
    for (i, (p, role)) in [
        (&cast.ben, Role::Member),
        (&cast.olga, Role::Observer),
        (&cast.carl, Role::Coordinator),
        (&cast.rita, Role::Member),
    ]
    .into_iter()
    .enumerate()
    {
        let t = 2 + i as i64;
        step(&mut doc, t, &|tx| {
            community::put_member(tx, &p.id, p.name, role, None, None, Timestamp(t * 1_000))
        });
    }
    step(&mut doc, 6, &|tx| {
        community::remove_member(tx, &cast.rita.id, Timestamp(6_000))
    });
    CommunityFixture {
        cast,
        genesis,
        id,
        doc_ref,
        doc,
        changes,
        heads,
    }
}

impl CommunityFixture {
    /// The roster after all six changes.
    pub fn roster(&self) -> Roster {
        community::read(&self.doc).unwrap().roster
    }

    /// The `DocRef` of a thread of this community.
    pub fn thread_ref(&self, seed: u8) -> DocRef {
        DocRef {
            community: self.id,
            kind: DocKind::Thread,
            id: DocId::from_bytes([seed; 16]),
        }
    }

    /// The `DocRef` of a repertoire entry of this community.
    pub fn entry_ref(&self, seed: u8) -> DocRef {
        DocRef {
            community: self.id,
            kind: DocKind::Entry,
            id: DocId::from_bytes([seed; 16]),
        }
    }

    /// A new thread opened by `author`: its document and its signed first change.
    pub fn open_thread(&self, doc_ref: &DocRef, author: &Person) -> (Automerge, SignedChange) {
        let mut doc = author.new_doc();
        let community = self.id;
        let c = signed(doc_ref, &author.key, &mut doc, 10, |tx| {
            thread::init(
                tx,
                &community,
                ActivityKind::Problem,
                "Vandalism at the bus stop",
                "Every weekend the shelter is smashed. What worked for you?",
                &["#Youth".to_owned()],
                Timestamp(10_000),
            )
        });
        (doc, c)
    }
}
