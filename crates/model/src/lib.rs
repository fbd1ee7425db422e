//! The community-of-practice schema over Automerge, and verification of signed changes.
//!
//! A community is split into documents so that one busy thread never makes the whole
//! community slow:
//!
//! - one **community** document: the [`Charter`] (the domain) and the [`Roster`] (the
//!   community), written by coordinators only — see [`community`];
//! - one document per **thread**, with its opening post and replies — see [`thread`];
//! - one document per **repertoire entry**, its body an Automerge Text — see [`entry`];
//! - one document per **event** (or recurring series), with co-edited notes and each
//!   member's own answers — see [`event`]; [`ics`] exports events to calendars.
//!
//! [`activity`] holds the compact per-post and per-edit records that reports are computed
//! from without loading documents.
//!
//! Every function here is pure: time and randomness are passed in, nothing touches a disk or
//! a socket. [`verify`] is the gate that every change from a peer or a file passes before it
//! reaches a document; [`bundle`] is the file format for the offline exchange.
//!
//! ```
//! use automerge::Automerge;
//! use commonplace_base::{SecretKey, Timestamp};
//! use commonplace_model::{Charter, Genesis, community};
//!
//! let key = SecretKey::from_seed([1; 32]);
//! let genesis = Genesis { founder: key.member_id(), nonce: [0; 16] };
//! let charter = Charter { name: "Crime Prevention Network".into(), ..Default::default() };
//! let mut doc = Automerge::new();
//! doc.transact(|tx| community::init(tx, &genesis, &charter, "Ana Silva", Timestamp(0)))
//!     .unwrap();
//! let read = community::read(&doc).unwrap();
//! assert_eq!(read.id, genesis.community_id());
//! assert_eq!(read.roster.name_of(&key.member_id()), "Ana Silva");
//! ```

mod error;
mod kinds;
mod read;
mod short_code;
mod signed;
mod splice;

pub mod activity;
pub mod admission;
pub mod bundle;
pub mod chunk;
pub mod community;
pub mod entry;
pub mod event;
pub mod ics;
pub mod invite;
pub mod settings;
pub mod thread;
pub mod validate;
pub mod verify;

pub use activity::{DocActivity, EditRecord, PostRecord};
pub use community::{Charter, Community, Genesis, Roster, RosterMember};
pub use entry::{Entry, EntrySummary, Source, TextEdit};
pub use error::{BundleError, RejectReason, SchemaError};
pub use event::{Event, EventDetails, EventSummary, Rsvp};
pub use kinds::{ActivityKind, DocKind, EntryKind, EventKind, Role, RsvpStatus};
pub use settings::LevelThresholds;
pub use signed::{DocRef, SignedChange, vouching_signatures, with_vouching_signatures};
pub use thread::{Post, Thread, ThreadSummary};

/// The schema version this code writes and the newest it reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Loads a saved document (as [`automerge::Automerge::save`] wrote it) with the text
/// encoding every document uses. Automerge re-derives every change from the saved form and
/// checks its hash, so this fails on a document holding a change Automerge does not
/// reproduce byte for byte (see `verify`, which refuses such changes).
pub fn load_document(
    bytes: &[u8],
    actor: &[u8],
) -> Result<automerge::Automerge, automerge::AutomergeError> {
    Ok(automerge::Automerge::load_with_options(
        bytes,
        automerge::LoadOptions::new().text_encoding(automerge::TextEncoding::UnicodeCodePoint),
    )?
    .with_actor(automerge::ActorId::from(actor)))
}

/// A fresh document whose text positions count Unicode code points.
pub fn new_document(actor: &[u8]) -> automerge::Automerge {
    automerge::Automerge::new_with_encoding(automerge::TextEncoding::UnicodeCodePoint)
        .with_actor(automerge::ActorId::from(actor))
}
