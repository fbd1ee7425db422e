//! The base of Commonplace: identifiers, member keys and signatures.
//!
//! Everything above this crate names things with the types defined here:
//!
//! - [`MemberId`] is a member's ed25519 public key. It is also the member's iroh endpoint id,
//!   so "who signed this" and "who is connected" are the same question.
//! - [`SecretKey`] is the member's signing key. Its `Debug` output never shows the key, and
//!   it is zeroed when dropped.
//! - [`CommunityId`], [`DocId`] and [`PostId`] are 16-byte random (or derived) identifiers
//!   printed in a short, copyable base32 form.
//! - [`Signature`] signs a message under a [`SigningDomain`], so a signature made for one
//!   purpose (a change, a bundle, an invitation) can never be replayed as another.
//! - [`SealedBackup`] is the key sealed under a passphrase (Argon2id and XChaCha20-Poly1305),
//!   the file a member keeps in case the laptop is lost; [`BackupFile`] also reads old
//!   plaintext key files.
//! - [`actor`] builds and parses Automerge actor ids: 16 random bytes followed by the signer's
//!   public key.
//!
//! ```
//! use commonplace_base::{SecretKey, SigningDomain};
//!
//! let key = SecretKey::from_seed([7; 32]);
//! let sig = key.sign(SigningDomain::Change, b"change hash");
//! assert!(key.member_id().verify(SigningDomain::Change, b"change hash", &sig).is_ok());
//! // The same bytes under another domain do not verify.
//! assert!(key.member_id().verify(SigningDomain::Bundle, b"change hash", &sig).is_err());
//! // Debug never shows the secret.
//! assert_eq!(format!("{key:?}"), format!("SecretKey({})", key.member_id().short()));
//! ```

mod backup;
mod error;
mod id;
mod keys;
mod time;

pub mod actor;

pub use backup::{
    BackupFile, KdfParams, MAX_PASSPHRASE_CHARS, MIN_PASSPHRASE_CHARS, SealedBackup,
    check_passphrase,
};
pub use error::{BackupError, KeyError, ParseIdError, SignatureError};
pub use id::{CommunityId, DocId, PostId, encode_base32, random_bytes};
pub use keys::{MemberId, SecretKey, Signature, SigningDomain, verify_many};
pub use time::Timestamp;
