use commonplace_model::{BundleError, RejectReason, SchemaError};
use commonplace_store::{OpenError, StoreError};
use thiserror::Error;

/// What went wrong, for front ends to act on without reading message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[non_exhaustive]
pub enum ErrorCode {
    /// The profile has no identity yet.
    NoIdentity,
    /// The profile already has an identity.
    AlreadyInitialised,
    /// The profile is open in another process.
    ProfileInUse,
    /// No such community, thread, entry, post or member.
    NotFound,
    /// A short id matches several things.
    Ambiguous,
    /// The member may not do this.
    NotAllowed,
    /// The input is not acceptable (empty, too long, unknown word).
    InvalidInput,
    /// A change or file was refused by verification.
    Rejected,
    /// A bundle file is damaged or not a bundle.
    BadBundle,
    /// Storage or the file system failed.
    Storage,
    /// A peer could not be reached, or a sync failed.
    Network,
    /// The thread is in the repertoire already (promoted before).
    AlreadyPromoted,
}

/// An error from the node. `code()` is stable; the message is for people.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The profile has no identity yet.
    #[error("no identity in profile {0}: run `commonplace init --name \"Your Name\"` first")]
    NoIdentity(String),
    /// The profile already has an identity.
    #[error("profile {0} already has an identity; use another --profile for another member")]
    AlreadyInitialised(String),
    /// Opening the store failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Something named does not exist.
    #[error("no {what} matches '{text}'")]
    NotFound { what: &'static str, text: String },
    /// A short id matches several things.
    #[error(
        "'{text}' matches several {}: {candidates}; type more of the id",
        plural(what)
    )]
    Ambiguous {
        what: &'static str,
        text: String,
        candidates: String,
    },
    /// The member may not do this.
    #[error("{0}")]
    NotAllowed(String),
    /// The input does not follow the schema.
    #[error(transparent)]
    Invalid(#[from] SchemaError),
    /// Verification refused a change; nothing was stored.
    #[error("refused, nothing was imported: {0}")]
    Rejected(#[from] RejectReason),
    /// A bundle could not be read; nothing was stored.
    #[error("{0}; nothing was imported")]
    Bundle(#[from] BundleError),
    /// The store failed; the operation did not happen.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network failed.
    #[error(transparent)]
    Net(#[from] commonplace_net::NetError),
    /// The thread was promoted before: `entry` holds it.
    #[error("this thread is already in the repertoire as entry {entry}")]
    AlreadyPromoted {
        thread: commonplace_base::DocId,
        entry: commonplace_base::DocId,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl NodeError {
    /// The stable, machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            NodeError::NoIdentity(_) => ErrorCode::NoIdentity,
            NodeError::AlreadyInitialised(_) => ErrorCode::AlreadyInitialised,
            NodeError::Open(OpenError::InUse { .. }) => ErrorCode::ProfileInUse,
            NodeError::Open(_) | NodeError::Store(_) | NodeError::Io { .. } => ErrorCode::Storage,
            NodeError::NotFound { .. } => ErrorCode::NotFound,
            NodeError::Ambiguous { .. } => ErrorCode::Ambiguous,
            NodeError::NotAllowed(_) => ErrorCode::NotAllowed,
            NodeError::Invalid(_) => ErrorCode::InvalidInput,
            NodeError::Rejected(_) => ErrorCode::Rejected,
            NodeError::Bundle(_) => ErrorCode::BadBundle,
            NodeError::Net(_) => ErrorCode::Network,
            NodeError::AlreadyPromoted { .. } => ErrorCode::AlreadyPromoted,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The plural of a thing's name in a message ("community" becomes "communities").
fn plural(what: &str) -> String {
    match what.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{what}s"),
    }
}
