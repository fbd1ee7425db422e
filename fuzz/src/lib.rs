//! The fuzz targets of Commonplace: one function per decoder of bytes from a peer or a file.
//!
//! Each function takes arbitrary bytes, feeds them to the decoder and, where the decoder
//! accepts them, checks that encoding what it returned and decoding that again gives the same
//! value. A decoder may refuse anything; it must never panic, and never allocate more than its
//! documented limits (AFL++ runs the targets under a memory limit: see `scripts/fuzz.sh`).
//! The binaries in `fuzz_targets/` are one line each around these; `seeds` writes the corpus.
//!
//! The decoders behind a signature (bundles, invitations) are also fed bytes signed with a
//! fixed key here, so that the fuzzer reaches what lies behind the signature check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use commonplace_base::{BackupFile, SecretKey, SigningDomain};
use commonplace_model::DocKind;
use commonplace_model::SignedChange;
use commonplace_model::bundle::{self, BundleBody};
use commonplace_model::invite::{ShortCode, SignedInvitation};
use commonplace_net::PeerTicket;
use commonplace_sync::{Announcement, Carried, Frame, FrameReader, deflate, raw_sync_frame};
use sha2::{Digest, Sha256};

/// The key the targets sign with to reach past signature checks.
pub fn fuzz_key() -> SecretKey {
    SecretKey::from_seed([0x5a; 32])
}

/// Checks that a decoded frame encodes and decodes back to itself, and that its sync message
/// and every change it carries are safe to hand to Automerge.
fn check_frame(f: &Frame) {
    if let Ok(bytes) = f.encode() {
        let back = Frame::decode_body(&bytes[4..]).expect("a frame we encoded decodes");
        assert_eq!(
            &back, f,
            "a frame changed on its way through encode and decode"
        );
    }
    if let Frame::Sync {
        message, changes, ..
    } = f
    {
        // What a session does next with a sync frame: Automerge reads the message (its
        // heads, needs and Bloom filter; unguarded, as in the session) and verification reads
        // the changes as the gate does (crates/model/src/verify.rs): first the operations
        // each claims (`chunk::claimed_ops`, which refuses claims too large), then Automerge,
        // inside the guard that turns its panics on malformed changes into a refusal: the
        // targets run under `fuzz_nohook!`, so a panic caught there is no crash, as it is none
        // in the node.
        let _ = automerge::sync::Message::decode(message);
        for c in changes {
            if commonplace_model::chunk::claimed_ops(&c.bytes).is_err() {
                continue;
            }
            let bytes = c.bytes.clone();
            let _ = std::panic::catch_unwind(|| automerge::Change::from_bytes(bytes));
        }
    }
}

/// Sync frames as a stream: the length prefix, the frame body, the change batch inside.
pub fn frame(data: &[u8]) {
    let mut reader = FrameReader::default();
    reader.push(data);
    while let Ok(Some(f)) = reader.next_frame() {
        check_frame(&f);
    }
    if let Ok(f) = Frame::decode_body(data) {
        check_frame(&f);
    }
}

/// A change batch alone (the code that rebuilds Automerge change chunks), inside a sync
/// frame: 2 bytes of claimed count, 1 byte of encoding (0 stored, 1 DEFLATE as given, 2 the
/// rest deflated here so that the fuzzer explores the batch under compression), the batch.
pub fn batch(data: &[u8]) {
    let [c0, c1, encoding, rest @ ..] = data else {
        return;
    };
    let count = u32::from(u16::from_le_bytes([*c0, *c1]));
    let (encoding, body) = match *encoding {
        2 => (1, deflate(rest).expect("deflate never fails in memory")),
        e => (e, rest.to_vec()),
    };
    let doc = commonplace_base::DocId::from_bytes([1; 16]);
    let Ok(bytes) = raw_sync_frame(
        doc,
        DocKind::Thread,
        vec![0x42],
        count,
        encoding,
        body,
        vec![],
    ) else {
        return;
    };
    if let Ok(f) = Frame::decode_body(&bytes[4..]) {
        check_frame(&f);
    }
}

/// Live announcements: the signed form, the body alone and the changes they carry.
pub fn announce(data: &[u8]) {
    if let Ok(a) = Announcement::open(data) {
        let _ = a.carried.unpack();
    }
    if let Ok(a) = Announcement::decode_body(data) {
        check_carried(&a.carried);
    }
    let [mode, rest @ ..] = data else {
        return;
    };
    let carried = match mode % 3 {
        0 => Carried::raw(false, rest.to_vec()),
        1 => Carried::raw(true, rest.to_vec()),
        _ => Carried::raw(true, deflate(rest).expect("deflate never fails in memory")),
    };
    check_carried(&carried);
}

fn check_carried(carried: &Carried) {
    if let Ok(changes) = carried.unpack() {
        let again = Carried::pack(&changes).expect("changes we decoded pack");
        assert_eq!(again.unpack().expect("changes we packed unpack"), changes);
    }
}

/// Bundle files: as given (mode byte even), or the rest as a body signed with the fuzz key
/// (mode byte odd), so that the body's decoder is reached.
pub fn bundle(data: &[u8]) {
    let _ = bundle::declared_len(data);
    let [mode, rest @ ..] = data else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        data.to_vec()
    } else {
        signed_bundle(rest)
    };
    if let Ok(b) = bundle::decode(&bytes) {
        let key = fuzz_key();
        if b.exporter == key.member_id() {
            let again = bundle::encode(&b.body, &key).expect("a body we decoded encodes");
            assert_eq!(
                bundle::decode(&again).expect("a bundle we encoded decodes"),
                b
            );
        }
    }
}

/// A bundle around `body` as [`bundle::encode`] lays it out, signed with the fuzz key.
pub fn signed_bundle(body: &[u8]) -> Vec<u8> {
    let key = fuzz_key();
    let mut out = b"COMMONPLACE-BNDL".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(key.member_id().as_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&key.sign(SigningDomain::Bundle, &digest).0);
    out
}

/// The body of a bundle, to write seeds for [`bundle`] in its signed mode.
pub fn bundle_body(bytes: &[u8]) -> Option<BundleBody> {
    bundle::decode(bytes).ok().map(|b| b.body)
}

/// Invitation codes, long and short, and the signed invitation inside a long one (re-signed
/// with the fuzz key, so that a decoded invitation must survive a round trip).
pub fn invite(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = SignedInvitation::is_long_code(&text);
    let _ = SignedInvitation::from_code(&text);
    if let Ok(code) = ShortCode::parse(&text) {
        assert_eq!(
            ShortCode::parse(code.as_str()).expect("a code we read reads"),
            code
        );
        let _ = (code.secret(), code.proof(), code.resolver_seed());
    }
    if let Ok(inv) = postcard::from_bytes::<SignedInvitation>(data) {
        let _ = inv.verify();
        let key = fuzz_key();
        let mut invitation = inv.invitation;
        invitation.issuer = key.member_id();
        let signed = SignedInvitation::sign(invitation, &key).expect("an invitation signs");
        let code = signed.to_code().expect("a signed invitation has a code");
        assert_eq!(SignedInvitation::from_code(&code), Ok(signed));
    }
}

/// Peer tickets, as bytes and as text.
pub fn ticket(data: &[u8]) {
    if let Ok(t) = PeerTicket::from_bytes(data) {
        assert_eq!(
            PeerTicket::from_bytes(&t.to_bytes()).expect("bytes we wrote read"),
            t
        );
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = PeerTicket::from_str(&text) {
        assert_eq!(
            PeerTicket::from_str(&t.to_string()).expect("text we wrote reads"),
            t
        );
    }
}

/// Key backup files. Opening runs Argon2id with the file's settings, which are bounded (at
/// most 1 GiB, by design); the target opens only files whose settings are cheap, so that
/// each run stays fast and within the fuzzer's memory limit.
pub fn backup(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(file) = BackupFile::parse(&text) else {
        return;
    };
    let _ = file.member();
    match &file {
        BackupFile::Sealed(s) => {
            let again = BackupFile::parse(&s.to_text()).expect("a backup we wrote reads");
            let BackupFile::Sealed(again) = again else {
                panic!("a sealed backup read back as another kind");
            };
            assert!(again == *s, "a backup changed on its way through text");
            let p = s.params();
            if p.m_kib <= 64 && p.t <= 2 && p.p <= 2 {
                let _ = file.open("correct horse battery staple");
            }
        }
        BackupFile::Plaintext(k) => {
            let _ = SecretKey::from_key_file(&k.to_key_file()).expect("a key file we wrote reads");
        }
    }
}

/// A fuzz target: bytes in, a panic if a decoder misbehaves.
pub type Target = fn(&[u8]);

/// Every target by name, for `seeds` and for replaying a file without AFL++.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame", frame),
    ("batch", batch),
    ("announce", announce),
    ("bundle", bundle),
    ("invite", invite),
    ("ticket", ticket),
    ("backup", backup),
];

/// Changes of real Automerge documents: two actors, merged, so that the batch has back
/// references and changes with two dependencies.
pub fn real_changes(n: usize) -> Vec<SignedChange> {
    use automerge::transaction::Transactable;
    let mut a = automerge::Automerge::new();
    a.set_actor(automerge::ActorId::from([1u8; 16].as_slice()));
    let mut b = a
        .fork()
        .with_actor(automerge::ActorId::from([2u8; 16].as_slice()));
    for (doc, who) in [(&mut a, "a"), (&mut b, "b")] {
        for i in 0..n {
            let mut tx = doc.transaction();
            tx.put(
                automerge::ROOT,
                format!("{who}{i}"),
                format!("post {i} by {who}"),
            )
            .expect("a put on a fresh document");
            tx.commit();
        }
    }
    a.merge(&mut b).expect("two forks merge");
    let key = fuzz_key();
    a.get_changes(&[])
        .into_iter()
        .enumerate()
        .map(|(i, c)| SignedChange {
            bytes: c.raw_bytes().to_vec(),
            signature: (i % 3 == 0).then(|| key.sign(SigningDomain::Change, &c.hash().0)),
        })
        .collect()
}
