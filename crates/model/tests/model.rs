//! The public schema API of `commonplace-model`: community, thread and entry documents, and
//! the input limits in `validate`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ROOT;
use automerge::transaction::Transactable;
use common::{Cast, NONCE, Person, charter, community_fixture, write};
use commonplace_base::{DocId, MemberId, PostId, SecretKey, Timestamp};
use commonplace_model::entry::{self, MAX_ENTRY_BODY};
use commonplace_model::thread::{self, MAX_TITLE};
use commonplace_model::{
    ActivityKind, Charter, EntryKind, Genesis, Role, SchemaError, Source, TextEdit, community,
    validate,
};

fn tags(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn post(n: u8) -> PostId {
    PostId::from_bytes([n; 16])
}

// ---------------------------------------------------------------------------------------------
// Community
// ---------------------------------------------------------------------------------------------

#[test]
fn community_init_reads_back_what_was_written() {
    let cast = Cast::new();
    let genesis = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    };
    let mut doc = cast.ana.new_doc();
    let padded = Charter {
        name: "  Crime Prevention Network  ".into(),
        domain: "  Preventing youth crime in small towns ".into(),
        issues: vec![" school drop-out ".into(), "night buses".into()],
        values: vec!["listen first".into()],
        topics: vec!["youth".into(), "policing".into()],
    };
    write(&mut doc, 1, |tx| {
        community::init(tx, &genesis, &padded, " Ana Silva ", Timestamp(1_234))
    });

    let read = community::read(&doc).unwrap();
    assert_eq!(read.id, genesis.community_id());
    assert_eq!(read.genesis, genesis);
    assert_eq!(read.created_at, Timestamp(1_234));
    assert_eq!(read.charter, charter(), "fields are stored trimmed");
    assert_eq!(read.roster.members.len(), 1);
    let ana = &read.roster.members[&cast.ana.id];
    assert_eq!(ana.name, "Ana Silva");
    assert_eq!(ana.role, Role::Coordinator);
    assert_eq!(ana.added_at, Timestamp(1_234));
    assert_eq!(
        ana.added_by,
        Some(cast.ana.id),
        "writer comes from the actor"
    );
    assert_eq!(ana.region, None);
    assert_eq!(ana.organisation, None);
    assert!(ana.is_active());
    assert_eq!(read.roster.role_of(&cast.ana.id), Some(Role::Coordinator));
    assert_eq!(read.roster.role_of(&cast.ben.id), None);
}

#[test]
fn community_init_refuses_empty_or_multiline_names() {
    let cast = Cast::new();
    let genesis = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    };
    let mut doc = cast.ana.new_doc();
    let nameless = Charter {
        name: "   ".into(),
        ..charter()
    };
    let err = doc
        .transact(|tx| community::init(tx, &genesis, &nameless, "Ana", Timestamp(0)))
        .unwrap_err()
        .error;
    assert!(
        matches!(
            err,
            SchemaError::Input {
                field: "community name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = doc
        .transact(|tx| community::init(tx, &genesis, &charter(), "Ana\nSilva", Timestamp(0)))
        .unwrap_err()
        .error;
    assert!(
        matches!(
            err,
            SchemaError::Input {
                field: "your name",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(doc.get_heads().is_empty(), "nothing was committed");
}

#[test]
fn roster_writes_are_reflected_in_read() {
    let cast = Cast::new();
    let genesis = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    };
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 1, |tx| {
        community::init(tx, &genesis, &charter(), "Ana Silva", Timestamp(1))
    });
    write(&mut doc, 2, |tx| {
        community::put_member(
            tx,
            &cast.ben.id,
            " Ben Okafor ",
            Role::Member,
            Some(" North "),
            Some("Youth NGO"),
            Timestamp(2),
        )
    });
    let read = community::read(&doc).unwrap();
    let ben = &read.roster.members[&cast.ben.id];
    assert_eq!(ben.name, "Ben Okafor");
    assert_eq!(ben.role, Role::Member);
    assert_eq!(ben.region.as_deref(), Some("North"));
    assert_eq!(ben.organisation.as_deref(), Some("Youth NGO"));
    assert_eq!(ben.added_at, Timestamp(2));
    assert_eq!(ben.added_by, Some(cast.ana.id));
    assert_eq!(read.roster.active().count(), 2);
    assert_eq!(read.roster.name_of(&cast.ben.id), "Ben Okafor");
    assert_eq!(
        read.roster.name_of(&cast.mallory.id),
        cast.mallory.id.short(),
        "an unknown member is named by a short key"
    );

    write(&mut doc, 3, |tx| {
        community::set_role(tx, &cast.ben.id, Role::Coordinator)
    });
    let read = community::read(&doc).unwrap();
    assert_eq!(read.roster.role_of(&cast.ben.id), Some(Role::Coordinator));

    write(&mut doc, 4, |tx| {
        community::remove_member(tx, &cast.ben.id, Timestamp(4))
    });
    let read = community::read(&doc).unwrap();
    let ben = &read.roster.members[&cast.ben.id];
    assert_eq!(
        ben.removed_at,
        Some(Timestamp(4)),
        "removed members stay listed"
    );
    assert!(!ben.is_active());
    assert_eq!(read.roster.role_of(&cast.ben.id), None);
    assert_eq!(read.roster.active().count(), 1);

    // Adding a removed member again restores them and keeps the original added_at.
    write(&mut doc, 5, |tx| {
        community::put_member(
            tx,
            &cast.ben.id,
            "Ben O.",
            Role::Observer,
            None,
            None,
            Timestamp(5),
        )
    });
    let read = community::read(&doc).unwrap();
    let ben = &read.roster.members[&cast.ben.id];
    assert_eq!(ben.removed_at, None);
    assert_eq!(ben.name, "Ben O.");
    assert_eq!(ben.role, Role::Observer);
    assert_eq!(ben.added_at, Timestamp(2));
    assert_eq!(
        ben.region.as_deref(),
        Some("North"),
        "unset fields are kept"
    );
}

#[test]
fn role_changes_need_a_member_in_the_roster() {
    let cast = Cast::new();
    let genesis = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    };
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 1, |tx| {
        community::init(tx, &genesis, &charter(), "Ana", Timestamp(1))
    });
    let heads = doc.get_heads();
    let err = doc
        .transact(|tx| community::set_role(tx, &cast.ben.id, Role::Coordinator))
        .unwrap_err()
        .error;
    assert!(
        matches!(
            err,
            SchemaError::Input {
                field: "member",
                ..
            }
        ),
        "{err:?}"
    );
    let err = doc
        .transact(|tx| community::remove_member(tx, &cast.ben.id, Timestamp(2)))
        .unwrap_err()
        .error;
    assert!(
        matches!(
            err,
            SchemaError::Input {
                field: "member",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(doc.get_heads(), heads);
}

#[test]
fn roster_at_older_heads_shows_the_roster_of_that_time() {
    let fx = community_fixture();
    let c = &fx.cast;
    // heads[0]: founding only.
    let r0 = community::roster_at(&fx.doc, &fx.heads[0]).unwrap();
    assert_eq!(
        r0.members.keys().copied().collect::<Vec<_>>(),
        vec![c.ana.id]
    );
    // heads[1]: Ben added.
    let r1 = community::roster_at(&fx.doc, &fx.heads[1]).unwrap();
    assert_eq!(r1.role_of(&c.ben.id), Some(Role::Member));
    assert_eq!(r1.role_of(&c.carl.id), None);
    // heads[3]: Carl is a coordinator.
    let r3 = community::roster_at(&fx.doc, &fx.heads[3]).unwrap();
    assert_eq!(r3.role_of(&c.carl.id), Some(Role::Coordinator));
    assert_eq!(r3.role_of(&c.olga.id), Some(Role::Observer));
    // heads[4]: Rita active; heads[5]: Rita removed.
    let r4 = community::roster_at(&fx.doc, &fx.heads[4]).unwrap();
    assert_eq!(r4.role_of(&c.rita.id), Some(Role::Member));
    let r5 = community::roster_at(&fx.doc, &fx.heads[5]).unwrap();
    assert_eq!(r5.role_of(&c.rita.id), None);
    assert_eq!(r5.members[&c.rita.id].removed_at, Some(Timestamp(6_000)));
    assert_eq!(r5, community::read(&fx.doc).unwrap().roster);
    // No heads: nothing was there yet.
    assert!(
        community::roster_at(&fx.doc, &[])
            .unwrap()
            .members
            .is_empty()
    );
}

#[test]
fn roster_at_concurrent_heads_merges_both_branches() {
    let fx = community_fixture();
    let c = &fx.cast;
    // Carl, appointed at heads[3], adds Mallory on a branch that has not seen Rita.
    let mut carls = c.carl.fork_at(&fx.doc, &fx.heads[3]);
    write(&mut carls, 7, |tx| {
        community::put_member(
            tx,
            &c.mallory.id,
            "Mallory",
            Role::Member,
            None,
            None,
            Timestamp(7),
        )
    });
    let carl_heads = carls.get_heads();
    let mut merged = fx.doc.fork();
    merged.merge(&mut carls).unwrap();
    let carl_only = community::roster_at(&merged, &carl_heads).unwrap();
    assert_eq!(carl_only.role_of(&c.mallory.id), Some(Role::Member));
    assert!(!carl_only.members.contains_key(&c.rita.id));
    assert_eq!(
        carl_only.members[&c.mallory.id].added_by,
        Some(c.carl.id),
        "the writer of a roster entry is its signer"
    );
    let both = community::read(&merged).unwrap().roster;
    assert_eq!(both.role_of(&c.mallory.id), Some(Role::Member));
    assert!(both.members.contains_key(&c.rita.id));
}

#[test]
fn genesis_id_is_deterministic_and_binds_founder_and_nonce() {
    let a = SecretKey::from_seed([1; 32]).member_id();
    let b = SecretKey::from_seed([2; 32]).member_id();
    let g = Genesis {
        founder: a,
        nonce: [7; 16],
    };
    assert_eq!(g.community_id(), g.community_id());
    assert_eq!(
        g.community_id(),
        Genesis {
            founder: a,
            nonce: [7; 16]
        }
        .community_id()
    );
    let other_nonce = Genesis {
        founder: a,
        nonce: [8; 16],
    };
    let other_founder = Genesis {
        founder: b,
        nonce: [7; 16],
    };
    assert_ne!(g.community_id(), other_nonce.community_id());
    assert_ne!(g.community_id(), other_founder.community_id());
    assert_ne!(other_nonce.community_id(), other_founder.community_id());
    // A single bit of the nonce matters.
    let mut nonce = [7; 16];
    nonce[15] ^= 1;
    assert_ne!(
        g.community_id(),
        Genesis { founder: a, nonce }.community_id()
    );
}

#[test]
fn community_read_refuses_an_id_that_does_not_match_its_genesis() {
    let fx = community_fixture();
    let mut doc = fx.doc.fork();
    let other = Genesis {
        founder: fx.cast.ben.id,
        nonce: NONCE,
    }
    .community_id();
    write(&mut doc, 9, |tx| {
        tx.put(ROOT, "community", other.to_string())?;
        Ok(())
    });
    assert!(matches!(
        community::read(&doc).unwrap_err(),
        SchemaError::Field { field: "community" }
    ));
}

#[test]
fn reads_refuse_newer_schema_and_other_kinds() {
    let fx = community_fixture();
    let mut newer = fx.doc.fork();
    write(&mut newer, 9, |tx| {
        tx.put(ROOT, "schema", 2_i64)?;
        Ok(())
    });
    assert!(matches!(
        community::read(&newer).unwrap_err(),
        SchemaError::Version {
            found: 2,
            supported: commonplace_model::SCHEMA_VERSION
        }
    ));
    let id = DocId::from_bytes([1; 16]);
    assert!(matches!(
        thread::read(&fx.doc, id).unwrap_err(),
        SchemaError::Field { field: "kind" }
    ));
    assert!(matches!(
        entry::read(&fx.doc, id).unwrap_err(),
        SchemaError::Field { field: "kind" }
    ));
    assert!(community::read(&automerge::Automerge::new()).is_err());
}

#[test]
fn write_charter_replaces_every_field() {
    let fx = community_fixture();
    let mut doc = fx.doc.fork();
    let new = Charter {
        name: "Safer Towns".into(),
        domain: String::new(),
        issues: vec!["graffiti".into()],
        values: vec![],
        topics: vec!["streets".into(), "art".into(), "youth".into()],
    };
    write(&mut doc, 9, |tx| community::write_charter(tx, &new));
    let read = community::read(&doc).unwrap();
    assert_eq!(read.charter, new);
    assert_eq!(read.roster, fx.roster(), "the roster is untouched");
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

struct ThreadFx {
    cast: Cast,
    id: DocId,
    community: commonplace_base::CommunityId,
    doc: automerge::Automerge,
}

/// A thread opened by Ana at t=10 000.
fn thread_fx() -> ThreadFx {
    let cast = Cast::new();
    let community = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    }
    .community_id();
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 10, |tx| {
        thread::init(
            tx,
            &community,
            ActivityKind::Problem,
            "  Vandalism at the bus stop ",
            "Every weekend the shelter\n is smashed.   What worked for you?",
            &tags(&["#Youth", "youth", " Night Buses", "#", ""]),
            Timestamp(10_000),
        )
    });
    ThreadFx {
        cast,
        id: DocId::from_bytes([0x10; 16]),
        community,
        doc,
    }
}

fn reply_as(
    p: &Person,
    doc: &mut automerge::Automerge,
    id: PostId,
    body: &str,
    to: Option<PostId>,
    t: i64,
) {
    let mut mine = p.fork(doc);
    write(&mut mine, t, |tx| {
        thread::reply(tx, &id, body, to.as_ref(), Timestamp(t))
    });
    doc.merge(&mut mine).unwrap();
}

#[test]
fn thread_init_reads_back() {
    let fx = thread_fx();
    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert_eq!(t.id, fx.id);
    assert_eq!(t.community, fx.community);
    assert_eq!(t.activity, ActivityKind::Problem);
    assert_eq!(t.title, "Vandalism at the bus stop");
    assert_eq!(t.tags, tags(&["youth", "night buses"]));
    assert_eq!(t.opening.id, PostId::from_bytes(*fx.id.as_bytes()));
    assert_eq!(t.opening.author, Some(fx.cast.ana.id));
    assert_eq!(
        t.opening.body,
        "Every weekend the shelter\n is smashed.   What worked for you?"
    );
    assert_eq!(t.opening.created_at, Timestamp(10_000));
    assert_eq!(t.opening.reply_to, None);
    assert!(t.opening.helped_by.is_empty());
    assert!(t.replies.is_empty());
    assert!(!t.resolved);
    assert_eq!(t.answer, None);
    assert_eq!(t.resolved_by, None);
    assert_eq!(t.resolved_at, None);
    assert_eq!(t.post(&t.opening.id), Some(&t.opening));
    assert_eq!(t.post(&post(1)), None);
}

#[test]
fn thread_init_checks_its_inputs() {
    let cast = Cast::new();
    let community = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    }
    .community_id();
    let mut doc = cast.ana.new_doc();
    let cases: Vec<(String, String, &'static str)> = vec![
        ("   ".into(), "body".into(), "title"),
        ("a\nb".into(), "body".into(), "title"),
        ("x".repeat(MAX_TITLE + 1), "body".into(), "title"),
        ("Title".into(), " \n\t ".into(), "body"),
    ];
    for (title, body, field) in cases {
        let err = doc
            .transact(|tx| {
                thread::init(
                    tx,
                    &community,
                    ActivityKind::Story,
                    &title,
                    &body,
                    &[],
                    Timestamp(0),
                )
            })
            .unwrap_err()
            .error;
        match err {
            SchemaError::Input { field: f, .. } => assert_eq!(f, field, "{title:?}/{body:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    // The longest allowed title is fine, counted in characters, not bytes.
    let title = "é".repeat(MAX_TITLE);
    write(&mut doc, 1, |tx| {
        thread::init(
            tx,
            &community,
            ActivityKind::Story,
            &title,
            "body",
            &[],
            Timestamp(0),
        )
    });
    assert_eq!(
        thread::read(&doc, DocId::from_bytes([0; 16]))
            .unwrap()
            .title,
        title
    );
}

#[test]
fn reply_authors_come_from_the_signing_actor() {
    let mut fx = thread_fx();
    let c = fx.cast.clone();
    reply_as(&c.ben, &mut fx.doc, post(1), "Motion lights.", None, 12_000);
    reply_as(
        &c.carl,
        &mut fx.doc,
        post(2),
        "Agree with Ben",
        Some(post(1)),
        11_000,
    );
    let t = thread::read(&fx.doc, fx.id).unwrap();
    // Replies are oldest first, whatever order they were merged in.
    let got: Vec<(PostId, Option<MemberId>, &str, Option<PostId>)> = t
        .replies
        .iter()
        .map(|p| (p.id, p.author, p.body.as_str(), p.reply_to))
        .collect();
    assert_eq!(
        got,
        vec![
            (post(2), Some(c.carl.id), "Agree with Ben", Some(post(1))),
            (post(1), Some(c.ben.id), "Motion lights.", None),
        ]
    );
    assert_eq!(t.opening.author, Some(c.ana.id));
    assert_eq!(t.post(&post(1)).unwrap().created_at, Timestamp(12_000));
}

#[test]
fn reply_refuses_an_empty_body() {
    let mut fx = thread_fx();
    let heads = fx.doc.get_heads();
    let err = fx
        .doc
        .transact(|tx| thread::reply(tx, &post(1), "  ", None, Timestamp(1)))
        .unwrap_err()
        .error;
    assert!(
        matches!(err, SchemaError::Input { field: "reply", .. }),
        "{err:?}"
    );
    assert_eq!(fx.doc.get_heads(), heads);
}

#[test]
fn resolve_with_answer_then_reopen() {
    let mut fx = thread_fx();
    let c = fx.cast.clone();
    reply_as(&c.ben, &mut fx.doc, post(1), "Motion lights.", None, 11_000);

    // Ben resolves it, naming his reply.
    let mut bens = c.ben.fork(&fx.doc);
    write(&mut bens, 12, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(12_000))
    });
    fx.doc.merge(&mut bens).unwrap();
    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert!(t.resolved);
    assert_eq!(t.answer, Some(post(1)));
    assert_eq!(t.resolved_by, Some(c.ben.id));
    assert_eq!(t.resolved_at, Some(Timestamp(12_000)));
    let s = t.summary();
    assert!(s.resolved);
    assert_eq!(s.answer, Some(post(1)));
    assert_eq!(s.resolved_at, Some(Timestamp(12_000)));

    // An answer that is not a reply is refused and changes nothing.
    let heads = fx.doc.get_heads();
    let err = fx
        .doc
        .transact(|tx| thread::resolve(tx, Some(&post(9)), Timestamp(13_000)))
        .unwrap_err()
        .error;
    assert!(
        matches!(
            err,
            SchemaError::Input {
                field: "answer",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fx.doc.get_heads(), heads);

    // Reopen (by Ana): not resolved, no answer.
    write(&mut fx.doc, 14, |tx| thread::reopen(tx));
    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert!(!t.resolved);
    assert_eq!(t.answer, None);
    assert_eq!(t.resolved_by, None);
    assert_eq!(t.resolved_at, None);

    // Resolve again without an answer, by Ana.
    write(&mut fx.doc, 15, |tx| {
        thread::resolve(tx, None, Timestamp(15_000))
    });
    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert!(t.resolved);
    assert_eq!(t.answer, None);
    assert_eq!(t.resolved_by, Some(c.ana.id));
    assert_eq!(t.resolved_at, Some(Timestamp(15_000)));
}

#[test]
fn resolving_without_answer_drops_an_earlier_answer() {
    let mut fx = thread_fx();
    let c = fx.cast.clone();
    reply_as(&c.ben, &mut fx.doc, post(1), "Motion lights.", None, 11_000);
    write(&mut fx.doc, 12, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(12_000))
    });
    write(&mut fx.doc, 13, |tx| {
        thread::resolve(tx, None, Timestamp(13_000))
    });
    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert!(t.resolved);
    assert_eq!(t.answer, None);
    assert_eq!(t.resolved_at, Some(Timestamp(13_000)));
}

#[test]
fn helped_marks_count_only_when_written_by_the_member_named() {
    let mut fx = thread_fx();
    let c = fx.cast.clone();
    reply_as(&c.ben, &mut fx.doc, post(1), "Motion lights.", None, 11_000);
    let opening = PostId::from_bytes(*fx.id.as_bytes());

    // Ana marks Ben's reply; Carl marks the opening post; both genuine.
    write(&mut fx.doc, 12, |tx| {
        thread::mark_helped(tx, &post(1), &c.ana.id)
    });
    let mut carls = c.carl.fork(&fx.doc);
    write(&mut carls, 13, |tx| {
        thread::mark_helped(tx, &opening, &c.carl.id)
    });
    // Mallory claims that Olga and Ben found Ben's reply helpful: forged, must be ignored.
    let mut mallorys = c.mallory.fork(&fx.doc);
    write(&mut mallorys, 14, |tx| {
        thread::mark_helped(tx, &post(1), &c.olga.id)?;
        thread::mark_helped(tx, &post(1), &c.ben.id)
    });
    fx.doc.merge(&mut carls).unwrap();
    fx.doc.merge(&mut mallorys).unwrap();

    let t = thread::read(&fx.doc, fx.id).unwrap();
    assert_eq!(t.post(&post(1)).unwrap().helped_by, vec![c.ana.id]);
    assert_eq!(t.opening.helped_by, vec![c.carl.id]);
    assert_eq!(t.summary().helped, 2);

    // Marking twice counts once (and writes nothing new).
    fx.doc
        .transact(|tx| thread::mark_helped(tx, &post(1), &c.ana.id))
        .map_err(|f| f.error)
        .unwrap();
    assert_eq!(thread::read(&fx.doc, fx.id).unwrap().summary().helped, 2);
}

#[test]
fn summary_counts_replies_participants_and_times() {
    let mut fx = thread_fx();
    let c = fx.cast.clone();
    let ana = c.ana.clone();
    // Ana answers her own thread first: that is not a first reply by someone else.
    reply_as(&ana, &mut fx.doc, post(1), "Some context", None, 11_000);
    reply_as(&c.ben, &mut fx.doc, post(2), "Motion lights", None, 13_000);
    reply_as(
        &c.carl,
        &mut fx.doc,
        post(3),
        "Ask the council",
        None,
        12_500,
    );
    reply_as(&c.ben, &mut fx.doc, post(4), "Also: murals", None, 20_000);
    reply_as(&ana, &mut fx.doc, post(5), "Thanks all", None, 15_000);
    let t = thread::read(&fx.doc, fx.id).unwrap();
    let s = t.summary();
    assert_eq!(s.id, fx.id);
    assert_eq!(s.community, fx.community);
    assert_eq!(s.activity, ActivityKind::Problem);
    assert_eq!(s.title, "Vandalism at the bus stop");
    assert_eq!(s.author, Some(ana.id));
    assert_eq!(s.tags, tags(&["youth", "night buses"]));
    assert_eq!(s.created_at, Timestamp(10_000));
    assert_eq!(s.replies, 5);
    assert_eq!(s.first_reply_at, Some(Timestamp(12_500)));
    assert_eq!(s.last_activity, Timestamp(20_000));
    // Author first, then in reply order (Ana 11 000, Carl 12 500, Ben 13 000).
    assert_eq!(s.participants, vec![ana.id, c.carl.id, c.ben.id]);
    assert_eq!(s.helped, 0);
    assert!(!s.resolved);
    assert_eq!(
        s.excerpt,
        "Every weekend the shelter is smashed. What worked for you?"
    );
}

#[test]
fn summary_without_replies_by_others_has_no_first_reply() {
    let mut fx = thread_fx();
    let ana = fx.cast.ana.clone();
    let s = thread::read(&fx.doc, fx.id).unwrap().summary();
    assert_eq!(s.replies, 0);
    assert_eq!(s.first_reply_at, None);
    assert_eq!(s.last_activity, Timestamp(10_000));
    assert_eq!(s.participants, vec![ana.id]);

    reply_as(&ana, &mut fx.doc, post(1), "Bump", None, 30_000);
    let s = thread::read(&fx.doc, fx.id).unwrap().summary();
    assert_eq!(s.replies, 1);
    assert_eq!(
        s.first_reply_at, None,
        "the author's own reply does not count"
    );
    assert_eq!(s.last_activity, Timestamp(30_000));
    assert_eq!(s.participants, vec![ana.id]);
}

#[test]
fn excerpt_flattens_and_cuts() {
    assert_eq!(thread::excerpt("  a \n b\t c  ", 10), "a b c");
    assert_eq!(thread::excerpt("abcdef", 6), "abcdef");
    assert_eq!(thread::excerpt("abcdefg", 6), "abcdef…");
    assert_eq!(thread::excerpt("ééééé", 3), "ééé…");
    assert_eq!(thread::excerpt("", 3), "");
    let long = "word ".repeat(100);
    assert_eq!(thread::excerpt(&long, 160).chars().count(), 161);
}

// ---------------------------------------------------------------------------------------------
// Repertoire entries
// ---------------------------------------------------------------------------------------------

struct EntryFx {
    cast: Cast,
    id: DocId,
    community: commonplace_base::CommunityId,
    source: Source,
    doc: automerge::Automerge,
}

fn entry_fx(body: &str) -> EntryFx {
    let cast = Cast::new();
    let community = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    }
    .community_id();
    let source = Source {
        thread: DocId::from_bytes([0x10; 16]),
        heads: vec!["ab".repeat(32), "cd".repeat(32)],
        posts: vec![post(1), post(3)],
        contributors: vec![cast.ben.id, cast.carl.id],
    };
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 20, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Lesson,
            " Lights beat cameras ",
            body,
            &tags(&["#Lighting", "LIGHTING", "youth"]),
            Some(&source),
            Timestamp(20_000),
        )
    });
    EntryFx {
        cast,
        id: DocId::from_bytes([0x20; 16]),
        community,
        source,
        doc,
    }
}

fn edit_as(p: &Person, doc: &mut automerge::Automerge, e: &TextEdit, t: i64) {
    let mut mine = p.fork(doc);
    write(&mut mine, t, |tx| entry::edit(tx, e, Timestamp(t)));
    doc.merge(&mut mine).unwrap();
}

fn body_of(doc: &automerge::Automerge) -> String {
    entry::read(doc, DocId::from_bytes([0x20; 16]))
        .unwrap()
        .body
}

#[test]
fn entry_init_with_source_reads_back() {
    let fx = entry_fx("Motion lights at the shelter stopped the damage within a month.");
    let e = entry::read(&fx.doc, fx.id).unwrap();
    assert_eq!(e.id, fx.id);
    assert_eq!(e.community, fx.community);
    assert_eq!(e.kind, EntryKind::Lesson);
    assert_eq!(e.title, "Lights beat cameras");
    assert_eq!(
        e.body,
        "Motion lights at the shelter stopped the damage within a month."
    );
    assert_eq!(e.tags, tags(&["lighting", "youth"]));
    assert_eq!(e.author, Some(fx.cast.ana.id));
    assert_eq!(e.editors, vec![fx.cast.ana.id]);
    assert_eq!(e.created_at, Timestamp(20_000));
    assert_eq!(e.updated_at, Timestamp(20_000));
    assert_eq!(e.source.as_ref(), Some(&fx.source));

    let s = e.summary();
    assert_eq!(s.source_thread, Some(fx.source.thread));
    assert_eq!(s.editors, vec![fx.cast.ana.id]);
    assert_eq!(s.author, Some(fx.cast.ana.id));
    assert_eq!(s.kind, EntryKind::Lesson);
    assert_eq!(s.excerpt, e.body);
}

#[test]
fn entry_without_source_and_with_empty_body() {
    let cast = Cast::new();
    let community = Genesis {
        founder: cast.ana.id,
        nonce: NONCE,
    }
    .community_id();
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 1, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Tool,
            "Checklist",
            "",
            &[],
            None,
            Timestamp(1),
        )
    });
    let e = entry::read(&doc, DocId::from_bytes([1; 16])).unwrap();
    assert_eq!(e.body, "");
    assert_eq!(e.source, None);
    assert_eq!(e.summary().source_thread, None);
    assert!(e.tags.is_empty());
}

#[test]
fn text_edits_apply_at_character_positions() {
    // An emoji is one code point but two UTF-16 units and four UTF-8 bytes.
    let mut fx = entry_fx("a🙂b");
    let ana = fx.cast.ana.clone();
    edit_as(
        &ana,
        &mut fx.doc,
        &TextEdit::Insert {
            at: 2,
            text: "X".into(),
        },
        21,
    );
    assert_eq!(body_of(&fx.doc), "a🙂Xb");
    edit_as(&ana, &mut fx.doc, &TextEdit::Delete { at: 1, len: 1 }, 22);
    assert_eq!(body_of(&fx.doc), "aXb");
    edit_as(&ana, &mut fx.doc, &TextEdit::Append(" — end".into()), 23);
    assert_eq!(body_of(&fx.doc), "aXb — end");
    edit_as(
        &ana,
        &mut fx.doc,
        &TextEdit::Insert {
            at: 9,
            text: "!".into(),
        },
        24,
    );
    assert_eq!(
        body_of(&fx.doc),
        "aXb — end!",
        "inserting at the end is allowed"
    );
    edit_as(
        &ana,
        &mut fx.doc,
        &TextEdit::Replace("Completely new".into()),
        25,
    );
    assert_eq!(body_of(&fx.doc), "Completely new");
    edit_as(&ana, &mut fx.doc, &TextEdit::Delete { at: 0, len: 14 }, 26);
    assert_eq!(body_of(&fx.doc), "");
    let e = entry::read(&fx.doc, fx.id).unwrap();
    assert_eq!(e.updated_at, Timestamp(26));
    assert_eq!(e.created_at, Timestamp(20_000));
}

#[test]
fn text_edits_out_of_range_are_refused() {
    let mut fx = entry_fx("a🙂b");
    let heads = fx.doc.get_heads();
    for bad in [
        TextEdit::Insert {
            at: 4,
            text: "X".into(),
        },
        TextEdit::Insert {
            at: usize::MAX,
            text: "X".into(),
        },
    ] {
        let err = fx
            .doc
            .transact(|tx| entry::edit(tx, &bad, Timestamp(99)))
            .unwrap_err()
            .error;
        assert!(
            matches!(
                err,
                SchemaError::Input {
                    field: "position",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
        );
    }
    for bad in [
        TextEdit::Delete { at: 0, len: 4 },
        TextEdit::Delete { at: 3, len: 1 },
        TextEdit::Delete { at: 4, len: 0 },
        TextEdit::Delete {
            at: 1,
            len: usize::MAX,
        },
    ] {
        let err = fx
            .doc
            .transact(|tx| entry::edit(tx, &bad, Timestamp(99)))
            .unwrap_err()
            .error;
        assert!(
            matches!(err, SchemaError::Input { field: "range", .. }),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(fx.doc.get_heads(), heads, "refused edits commit nothing");
    let e = entry::read(&fx.doc, fx.id).unwrap();
    assert_eq!(e.body, "a🙂b");
    assert_eq!(e.updated_at, Timestamp(20_000));
}

#[test]
fn text_edit_limits_count_the_existing_text() {
    let mut fx = entry_fx("abc");
    let too_much = "x".repeat(MAX_ENTRY_BODY - 2);
    let err = fx
        .doc
        .transact(|tx| entry::edit(tx, &TextEdit::Append(too_much.clone()), Timestamp(1)))
        .unwrap_err()
        .error;
    assert!(
        matches!(err, SchemaError::Input { field: "body", .. }),
        "{err:?}"
    );
    let just_enough = "x".repeat(MAX_ENTRY_BODY - 3);
    write(&mut fx.doc, 2, |tx| {
        entry::edit(tx, &TextEdit::Append(just_enough), Timestamp(2))
    });
    assert_eq!(body_of(&fx.doc).chars().count(), MAX_ENTRY_BODY);
}

#[test]
fn concurrent_edits_on_two_forks_converge() {
    let fx = entry_fx("Lights at the shelter helped.");
    let c = fx.cast.clone();
    let mut anas = fx.doc.fork().with_actor(c.ana.actor.clone());
    let mut bens = c.ben.fork(&fx.doc);
    write(&mut anas, 30, |tx| {
        entry::edit(
            tx,
            &TextEdit::Insert {
                at: 0,
                text: "Motion ".into(),
            },
            Timestamp(30),
        )
    });
    write(&mut bens, 31, |tx| {
        entry::edit(
            tx,
            &TextEdit::Append(" So did murals.".into()),
            Timestamp(31),
        )
    });
    let mut a = anas.fork().with_actor(c.ana.actor.clone());
    let mut b = bens.fork().with_actor(c.ben.actor.clone());
    a.merge(&mut bens).unwrap();
    b.merge(&mut anas).unwrap();
    assert_eq!(a.get_heads(), b.get_heads());
    let ea = entry::read(&a, fx.id).unwrap();
    let eb = entry::read(&b, fx.id).unwrap();
    assert_eq!(ea, eb);
    assert_eq!(
        ea.body,
        "Motion Lights at the shelter helped. So did murals."
    );
    assert_eq!(ea.editors, vec![c.ana.id, c.ben.id]);
    assert_eq!(ea.author, Some(c.ana.id));
    assert!(ea.updated_at == Timestamp(30) || ea.updated_at == Timestamp(31));
}

#[test]
fn concurrent_replace_keeps_the_other_edit() {
    let fx = entry_fx("Lights at the shelter helped.");
    let c = fx.cast.clone();
    let mut anas = fx.doc.fork().with_actor(c.ana.actor.clone());
    let mut bens = c.ben.fork(&fx.doc);
    // Ana rewrites one word of the whole text; Ben adds a sentence at the end.
    write(&mut anas, 30, |tx| {
        entry::edit(
            tx,
            &TextEdit::Replace("Lamps at the shelter helped.".into()),
            Timestamp(30),
        )
    });
    write(&mut bens, 31, |tx| {
        entry::edit(tx, &TextEdit::Append(" Murals too.".into()), Timestamp(31))
    });
    let mut merged = anas.fork();
    merged.merge(&mut bens).unwrap();
    let mut other = bens.fork();
    other.merge(&mut anas).unwrap();
    assert_eq!(body_of(&merged), "Lamps at the shelter helped. Murals too.");
    assert_eq!(body_of(&other), body_of(&merged));
}

#[test]
fn retitle_changes_title_and_tags() {
    let mut fx = entry_fx("body");
    let t = tags(&["#Murals", "art"]);
    write(&mut fx.doc, 40, |tx| {
        entry::retitle(tx, Some(" Murals work "), Some(&t), Timestamp(40))
    });
    let e = entry::read(&fx.doc, fx.id).unwrap();
    assert_eq!(e.title, "Murals work");
    assert_eq!(e.tags, tags(&["murals", "art"]));
    assert_eq!(e.updated_at, Timestamp(40));
    write(&mut fx.doc, 41, |tx| {
        entry::retitle(tx, None, None, Timestamp(41))
    });
    let e = entry::read(&fx.doc, fx.id).unwrap();
    assert_eq!(e.title, "Murals work");
    assert_eq!(e.updated_at, Timestamp(41));
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

#[test]
fn tags_are_normalised() {
    let got = validate::tags(&tags(&[
        "#Youth",
        "youth",
        "  YOUTH ",
        "# Night Buses",
        "#",
        "",
        "   ",
        "##double",
        "Ünïcode",
    ]))
    .unwrap();
    assert_eq!(got, tags(&["youth", "night buses", "double", "ünïcode"]));
    assert!(validate::tags(&[]).unwrap().is_empty());
}

#[test]
fn tag_limits() {
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    assert_eq!(validate::tags(&twenty).unwrap().len(), 20);
    let mut twenty_one = twenty.clone();
    twenty_one.push("t20".into());
    assert!(matches!(
        validate::tags(&twenty_one),
        Err(SchemaError::Input { field: "tags", .. })
    ));
    // Duplicates do not count towards the limit.
    let mut dup = twenty.clone();
    dup.push("#T0".into());
    assert_eq!(validate::tags(&dup).unwrap().len(), 20);
    // One tag: at most 60 characters, one line.
    assert!(validate::tags(&["é".repeat(60)]).is_ok());
    assert!(matches!(
        validate::tags(&["é".repeat(61)]),
        Err(SchemaError::Input { field: "tag", .. })
    ));
    assert!(matches!(
        validate::tags(&tags(&["two\nlines"])),
        Err(SchemaError::Input { field: "tag", .. })
    ));
}

#[test]
fn line_paragraph_and_body_limits() {
    assert!(validate::line("name", "Ana", 3).is_ok());
    assert!(
        validate::line("name", "  Ana  ", 3).is_ok(),
        "trimmed first"
    );
    assert!(validate::line("name", "Anna", 3).is_err());
    assert!(
        validate::line("name", "ééé", 3).is_ok(),
        "characters, not bytes"
    );
    assert!(validate::line("name", "", 3).is_err());
    assert!(validate::line("name", " \t ", 3).is_err());
    assert!(validate::line("name", "a\rb", 10).is_err());
    let err = validate::line("name", "abcd", 3).unwrap_err().to_string();
    assert_eq!(err, "name is 4 characters long; the limit is 3");

    assert!(validate::paragraph("domain", "", 3).is_ok());
    assert!(validate::paragraph("domain", "a\nb", 3).is_ok());
    assert!(validate::paragraph("domain", "a\nbc", 3).is_err());

    assert!(validate::body("body", "x", 1).is_ok());
    assert!(validate::body("body", "\n\n", 10).is_err());
    assert!(validate::body("body", "xy", 1).is_err());
}

#[test]
fn words_parse_case_insensitively() {
    assert_eq!(" Coordinator ".parse::<Role>().unwrap(), Role::Coordinator);
    assert_eq!(
        "PROBLEM".parse::<ActivityKind>().unwrap(),
        ActivityKind::Problem
    );
    assert!("admin".parse::<Role>().is_err());
    assert!(Role::Member.can_contribute());
    assert!(Role::Coordinator.can_contribute());
    assert!(!Role::Observer.can_contribute());
}

#[test]
fn an_automerge_failure_keeps_automerges_error_as_its_source() {
    use std::error::Error as _;
    let mut doc = automerge::Automerge::new();
    let mut tx = doc.transaction();
    // A key under an object that does not exist: Automerge refuses.
    let missing = automerge::ObjId::Id(999, automerge::ActorId::from(&[1u8; 16][..]), 0);
    let e = automerge::transaction::Transactable::put(&mut tx, &missing, "k", 1_i64).unwrap_err();
    let err = SchemaError::from(e);
    assert!(
        err.to_string().starts_with("document operation failed: "),
        "{err}"
    );
    // Automerge's own error, typed, under the variant and down the source chain.
    assert!(
        matches!(&err, SchemaError::Automerge(e) if matches!(**e, automerge::AutomergeError::InvalidObjId(_))),
        "{err:?}"
    );
    assert!(
        err.source()
            .is_some_and(|e| e.is::<Box<automerge::AutomergeError>>())
    );
}
