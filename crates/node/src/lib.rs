//! The Commonplace node: the one facade every front end talks to.
//!
//! A [`Node`] opens a member's profile — their identity and their redb store — and answers the
//! commands and queries of the CLI and the desktop app: create a community, open a thread,
//! reply, promote a thread into the repertoire, organise events, export and import — and the
//! community's health (participation levels, expertise, gaps, the health report), computed
//! by `commonplace_insight` from the read index. It signs every local
//! change, verifies every change that comes in, acknowledges a contribution only after it is
//! durably stored, and publishes [`NodeEvent`]s so front ends can refresh without polling.
//!
//! `Node` is a cheap, cloneable handle; clones share one profile.
//!
//! ```
//! use commonplace_node::{Node, NewCommunity, NewThread, Profile};
//! use commonplace_model::ActivityKind;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let node = Node::init(Profile::at(dir.path()), "Ana Silva", None, None).unwrap();
//! let community = node
//!     .create_community(&NewCommunity {
//!         name: "Crime Prevention Network".into(),
//!         domain: "Municipal crime prevention practice".into(),
//!         ..Default::default()
//!     })
//!     .unwrap();
//! let thread = node
//!     .create_thread(&community, &NewThread {
//!         activity: ActivityKind::Request,
//!         title: "Lighting audits".into(),
//!         body: "Has anyone run a night-time lighting audit with residents?".into(),
//!         tags: vec!["lighting".into()],
//!     })
//!     .unwrap();
//! assert_eq!(node.thread(&thread).unwrap().title, "Lighting audits");
//! ```

mod backup;
mod bundles;
mod cache;
mod community;
mod error;
mod events;
mod handle;
mod health;
mod identity;
mod ingest;
mod invite;
mod live;
mod online;
mod peers;
mod presence;
mod profile;
pub mod qr;
mod repertoire;
mod resolve;
mod rhythm;
mod sync;
mod threads;
mod write;

pub use backup::read_key_backup;
pub use bundles::ImportReport;
pub use commonplace_base::{BackupError, BackupFile, KdfParams};
pub use commonplace_net::{NetConfig, NetError, PeerTicket, RelayConfig, SyncReport};
pub use community::{CommunityOverview, NewCommunity};
pub use error::{EncodeError, ErrorCode, NodeError, io_sentence};
pub use events::NodeEvent;
pub use handle::{Node, StagingHook};
pub use identity::Identity;
pub use invite::{InvitationState, NewInvitation, PendingInvitation};
pub use online::{Attempt, Invite, Online, PeerOutcome, Round, SyncNowReport, Trigger};
pub use peers::{NetView, PeerStatus, RelayMode, SyncRecord, SyncStatus, Unshared};
pub use presence::{Connectivity, NetPlan, Presence, PresenceEvent};
pub use profile::{Profile, write_atomically};
pub use repertoire::{EntryFilter, EntryView, NewEntry, Promotion};
pub use rhythm::{EventView, NewEvent, Occurrence, parse_local};
pub use threads::{NewThread, ThreadFilter, ThreadState};
