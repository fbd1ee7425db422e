//! Writes the seed corpus (valid encodings) of every target, or replays files through a
//! target without AFL++:
//!
//! ```text
//! seeds write <corpus dir>             one folder per target, a few valid encodings each
//! seeds replay <target> <file>...      runs the target on each file (a crash reproduces)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;

use automerge::sync::SyncDoc;
use commonplace_base::{
    BackupFile, CommunityId, DocId, KdfParams, SealedBackup, SecretKey, Timestamp,
};
use commonplace_fuzz::{TARGETS, fuzz_key, real_changes, signed_bundle};
use commonplace_model::bundle::{self, BundleBody, BundleDoc};
use commonplace_model::invite::{Invitation, ShortCode, SignedInvitation};
use commonplace_model::{DocKind, Genesis, Role};
use commonplace_net::PeerTicket;
use commonplace_sync::{
    Announcement, Carried, DocDigest, Frame, PROTOCOL_VERSION, SignedAnnouncement, raw_batch,
};
use rand::SeedableRng;

fn inflate(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let key = fuzz_key();
    let community = CommunityId::from_bytes([3; 16]);
    let doc = DocId::from_bytes([4; 16]);
    let genesis = Genesis {
        founder: key.member_id(),
        nonce: [6; 16],
    };
    let few = real_changes(1);
    let many = real_changes(12);
    let mut out = Vec::new();

    // Sync frames: streams of length-prefixed frames, and one body without its prefix.
    let hello = Frame::Hello {
        version: PROTOCOL_VERSION,
        community,
        genesis: Some(genesis),
        scope: Some(doc),
        docs: vec![DocDigest {
            id: doc,
            kind: DocKind::Thread,
            heads: [7; 8],
        }],
    };
    let sync = |changes: &[commonplace_model::SignedChange]| Frame::Sync {
        doc,
        kind: DocKind::Thread,
        message: vec![0x42, 1, 2, 3],
        changes: changes.to_vec(),
    };
    let stream = [
        hello.encode().unwrap(),
        Frame::Idle { received: 3 }.encode().unwrap(),
        Frame::Refuse {
            reason: "not a member".into(),
        }
        .encode()
        .unwrap(),
    ]
    .concat();
    out.push(("frame", "hello-idle-refuse", stream));
    out.push(("frame", "sync-stored", sync(&few).encode().unwrap()));
    out.push(("frame", "sync-deflated", sync(&many).encode().unwrap()));
    out.push((
        "frame",
        "body-only",
        sync(&few).encode().unwrap()[4..].to_vec(),
    ));
    // A real Automerge sync message (heads, needs, a Bloom filter), its changes beside it, as
    // a session sends it.
    let mut state = automerge::sync::State::new();
    let mut peer_state = automerge::sync::State::new();
    let mut doc_of_many = automerge::Automerge::new();
    doc_of_many
        .apply_changes(
            many.iter()
                .map(|c| automerge::Change::from_bytes(c.bytes.clone()).unwrap()),
        )
        .unwrap();
    let mut partial = automerge::Automerge::new();
    partial
        .apply_changes([automerge::Change::from_bytes(many[0].bytes.clone()).unwrap()])
        .unwrap();
    let first = partial.generate_sync_message(&mut peer_state).unwrap();
    doc_of_many.receive_sync_message(&mut state, first).unwrap();
    let mut reply = doc_of_many.generate_sync_message(&mut state).unwrap();
    reply.changes = Vec::<Vec<u8>>::new().into();
    let real = Frame::Sync {
        doc,
        kind: DocKind::Thread,
        message: reply.encode(),
        changes: many.clone(),
    };
    out.push(("frame", "sync-real-message", real.encode().unwrap()));

    // Change batches: count, encoding, data.
    for (name, changes) in [("stored", &few), ("deflated", &many)] {
        let (count, encoding, data) = raw_batch(changes).unwrap();
        let mut seed = (count as u16).to_le_bytes().to_vec();
        seed.push(encoding);
        seed.extend_from_slice(&data);
        out.push(("batch", name, seed));
        let raw = if encoding == 1 { inflate(&data) } else { data };
        let mut seed = (count as u16).to_le_bytes().to_vec();
        seed.push(2);
        seed.extend_from_slice(&raw);
        out.push((
            "batch",
            if name == "stored" {
                "deflate-here-few"
            } else {
                "deflate-here-many"
            },
            seed,
        ));
    }

    // Announcements.
    let a = Announcement {
        community,
        doc,
        kind: DocKind::Thread,
        heads: few.iter().take(2).map(|_| [8; 32]).collect(),
        from: key.member_id(),
        at: Timestamp(1_700_000_000_000),
        addr: vec![9; 20],
        carried: Carried::pack(&few).unwrap(),
    };
    let sealed = a.seal(&key).unwrap();
    out.push(("announce", "signed-carried", sealed.clone()));
    let body = SignedAnnouncement::decode(&sealed).unwrap().body;
    out.push(("announce", "body", body));
    let heads_only = Announcement {
        carried: Carried::default(),
        ..a.clone()
    };
    out.push((
        "announce",
        "signed-heads-only",
        heads_only.seal(&key).unwrap(),
    ));
    let list = postcard::to_stdvec(&few).unwrap();
    out.push(("announce", "carried-stored", [&[0u8][..], &list].concat()));
    out.push((
        "announce",
        "carried-deflate-here",
        [&[2u8][..], &list].concat(),
    ));

    // Bundles: whole, and a body for the target to sign.
    let body = BundleBody {
        genesis,
        created_at: Timestamp(1_700_000_000_000),
        docs: vec![
            BundleDoc {
                id: doc,
                kind: DocKind::Thread,
                changes: few.clone(),
            },
            BundleDoc {
                id: DocId::from_bytes([5; 16]),
                kind: DocKind::Entry,
                changes: vec![],
            },
        ],
    };
    let whole = bundle::encode(&body, &key).unwrap();
    let raw_body = postcard::to_stdvec(&body).unwrap();
    assert_eq!(
        bundle::decode(&signed_bundle(&raw_body)).unwrap().body,
        body
    );
    out.push(("bundle", "whole", [&[0u8][..], &whole].concat()));
    out.push(("bundle", "body-to-sign", [&[1u8][..], &raw_body].concat()));

    // Invitations.
    let inv = SignedInvitation::sign(
        Invitation {
            community,
            community_name: "Nurses of the North".into(),
            issuer: key.member_id(),
            role: Role::Member,
            expires_at: Timestamp(1_800_000_000_000),
            secret: [7; 16],
            inviter_addr: vec![1, 2, 3],
        },
        &key,
    )
    .unwrap();
    out.push(("invite", "long-code", inv.to_code().unwrap().into_bytes()));
    out.push(("invite", "postcard", postcard::to_stdvec(&inv).unwrap()));
    let short = ShortCode::from_random([0x3c; 10]);
    out.push(("invite", "short-code", short.as_str().as_bytes().to_vec()));

    // Peer tickets.
    let id = iroh::SecretKey::from_bytes(&[0x11; 32]).public();
    let addr = iroh::EndpointAddr::new(id)
        .with_ip_addr("192.168.1.20:4433".parse().unwrap())
        .with_relay_url("https://relay.example.org./".parse().unwrap());
    let ticket = PeerTicket(addr);
    out.push(("ticket", "bytes", ticket.to_bytes()));
    out.push(("ticket", "text", ticket.to_string().into_bytes()));

    // Key backups: sealed with the cheapest settings (so the target opens it), and the old
    // plaintext key file (of the fuzz key, which guards nothing).
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let backup = SealedBackup::seal(
        &key,
        "correct horse battery staple",
        KdfParams::INSECURE_FOR_TESTS,
        &mut rng,
    )
    .unwrap();
    assert!(BackupFile::parse(&backup.to_text()).is_ok());
    out.push(("backup", "sealed", backup.to_text().into_bytes()));
    out.push(("backup", "plaintext-v1", key.to_key_file().into_bytes()));
    let _ = SecretKey::from_key_file(&key.to_key_file()).unwrap();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let dir = Path::new(args.get(1).expect("seeds write <corpus dir>"));
            for (target, name, bytes) in seeds() {
                let folder = dir.join(target);
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(folder.join(name), bytes).unwrap();
            }
        }
        Some("replay") => {
            let name = args.get(1).expect("seeds replay <target> <file>...");
            let (_, target) = TARGETS
                .iter()
                .find(|(n, _)| n == name)
                .expect("a target's name");
            for file in &args[2..] {
                target(&std::fs::read(file).unwrap());
            }
            println!("{}: {} files replayed", name, args.len() - 2);
        }
        Some("changes") => {
            // The changes inside frame files whose decoding by Automerge panics or is slow, as
            // hex: what a regression test in crates/model needs.
            std::panic::set_hook(Box::new(|_| {}));
            for file in &args[1..] {
                let bytes = std::fs::read(file).unwrap();
                let mut frames = Vec::new();
                let mut reader = commonplace_sync::FrameReader::default();
                reader.push(&bytes);
                while let Ok(Some(f)) = reader.next_frame() {
                    frames.push(f);
                }
                frames.extend(Frame::decode_body(&bytes));
                for f in frames {
                    let Frame::Sync { changes, .. } = f else {
                        continue;
                    };
                    for c in changes {
                        let b = c.bytes.clone();
                        let started = std::time::Instant::now();
                        let panicked =
                            std::panic::catch_unwind(|| automerge::Change::from_bytes(b)).is_err();
                        // Slow ones too: a change that takes Automerge over 100 ms to read.
                        if panicked || started.elapsed() > std::time::Duration::from_millis(100) {
                            let hex: String = c.bytes.iter().map(|x| format!("{x:02x}")).collect();
                            println!("{} {hex}", c.bytes.len());
                        }
                    }
                }
            }
        }
        _ => {
            eprintln!(
                "usage: seeds write <dir> | seeds replay <target> <file>... | seeds changes <file>..."
            );
            std::process::exit(2);
        }
    }
}
