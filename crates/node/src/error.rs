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
    /// A key backup's passphrase is wrong, or the backup file was changed.
    WrongPassphrase,
    /// The thread is in the repertoire already (promoted before).
    AlreadyPromoted,
    /// An edit was made against a version of the text this node cannot place (the editor
    /// lost track): reload and apply the edit again.
    StaleVersion,
    /// Something went wrong inside Commonplace (a bug, not the member's doing).
    Internal,
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
    /// An invitation code could not be used (a typo, expired, revoked, used).
    #[error(transparent)]
    Invite(#[from] commonplace_model::invite::InviteError),
    /// The network failed.
    #[error(transparent)]
    Net(#[from] commonplace_net::NetError),
    /// A key backup could not be written or opened.
    #[error(transparent)]
    Backup(#[from] commonplace_base::BackupError),
    /// The thread was promoted before: `entry` holds it.
    #[error("this thread is already in the repertoire as entry {entry}")]
    AlreadyPromoted {
        thread: commonplace_base::DocId,
        entry: commonplace_base::DocId,
    },
    /// A file could not be read or written.
    #[error("{}", io_sentence(path, source))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An edit was made against a version of the text that this node cannot place (the
    /// editor lost track of its own earlier edits): the editor reloads and applies it again.
    #[error(
        "the text changed since it was opened here; it has been reloaded, please apply your edit again"
    )]
    StaleVersion,
    /// An address is not a member's (its key is not a valid member id).
    #[error("not a member address: {0}")]
    NotAMemberAddress(#[source] commonplace_base::SignatureError),
    /// A short invitation code could not be resolved: no inviting node answered.
    #[error(
        "could not find the inviting node from the code alone ({source}); ask the inviter for their address and use --via, or use the long code"
    )]
    InviterNotFound {
        #[source]
        source: Box<NodeError>,
    },
    /// A record could not be encoded for storage or for the network.
    #[error("the {what} could not be encoded: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: EncodeError,
    },
    /// Something went wrong inside Commonplace: a fault of ours, not the member's input.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Why a record could not be encoded: the codec's own error.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// As JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// As postcard.
    #[error("{0}")]
    Postcard(#[from] postcard::Error),
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
            // The inviting node refused the invitation: the same code as when this node
            // finds the invitation unusable itself.
            NodeError::Net(commonplace_net::NetError::InviteRefused(_)) => ErrorCode::NotAllowed,
            NodeError::Net(_) => ErrorCode::Network,
            NodeError::Backup(commonplace_base::BackupError::WrongPassphrase) => {
                ErrorCode::WrongPassphrase
            }
            NodeError::Backup(_) => ErrorCode::InvalidInput,
            NodeError::Invite(e) => {
                use commonplace_model::invite::InviteError as E;
                match e {
                    E::Malformed | E::Typo | E::WrongLength { .. } => ErrorCode::InvalidInput,
                    _ => ErrorCode::NotAllowed,
                }
            }
            NodeError::AlreadyPromoted { .. } => ErrorCode::AlreadyPromoted,
            NodeError::StaleVersion => ErrorCode::StaleVersion,
            NodeError::NotAMemberAddress(_) | NodeError::InviterNotFound { .. } => {
                ErrorCode::NotAllowed
            }
            NodeError::Encode { .. } | NodeError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn encode(what: &'static str, source: impl Into<EncodeError>) -> Self {
        NodeError::Encode {
            what,
            source: source.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A file error as a sentence that names the file and says what to do, in place of the
/// operating system's "File exists (os error 17)". Errors the node made itself (a custom
/// message such as "it is not a regular file") keep their message.
pub fn io_sentence(path: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref() {
        return format!("'{path}': {inner}");
    }
    match e.kind() {
        K::NotFound => format!("'{path}' does not exist (or its folder does not): check the name"),
        K::PermissionDenied => format!(
            "you do not have permission to use '{path}': choose another place, or change the \
             file's permissions"
        ),
        K::AlreadyExists => format!("'{path}' already exists: choose another name"),
        K::StorageFull => {
            format!(
                "the disk is full, so '{path}' could not be written: free some space and try again"
            )
        }
        K::QuotaExceeded => format!(
            "your disk quota is used up, so '{path}' could not be written: free some space and \
             try again"
        ),
        K::ReadOnlyFilesystem => {
            format!("'{path}' is on a disk that cannot be written to: choose another place")
        }
        K::IsADirectory => format!("'{path}' is a folder, not a file: choose a file"),
        K::NotADirectory => {
            format!("part of '{path}' is a file where a folder should be: check the path")
        }
        K::FileTooLarge => format!("'{path}' is too large for this disk"),
        K::InvalidFilename => format!("'{path}' is not a file name this system accepts"),
        K::InvalidData => format!("'{path}' is not a text file Commonplace can read"),
        K::ResourceBusy => format!("'{path}' is in use by another program: try again later"),
        K::Interrupted | K::TimedOut | K::WouldBlock => {
            format!("reading or writing '{path}' was interrupted: try again")
        }
        _ => format!("'{path}' could not be read or written ({e})"),
    }
}

/// The plural of a thing's name in a message ("community" becomes "communities").
fn plural(what: &str) -> String {
    match what.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn file_errors_are_sentences_that_name_the_file() {
        for (kind, words) in [
            (ErrorKind::NotFound, "does not exist"),
            (ErrorKind::PermissionDenied, "permission"),
            (ErrorKind::AlreadyExists, "already exists"),
            (ErrorKind::StorageFull, "disk is full"),
            (ErrorKind::ReadOnlyFilesystem, "cannot be written to"),
            (ErrorKind::IsADirectory, "is a folder"),
        ] {
            let e = NodeError::io(std::path::Path::new("/x/key.txt"), Error::from(kind));
            let text = e.to_string();
            assert!(
                text.contains("'/x/key.txt'") && text.contains(words),
                "{text}"
            );
            assert!(!text.contains("os error"), "{text}");
            assert_eq!(e.code(), ErrorCode::Storage);
        }
        // The operating system's own error, as the file system gives it.
        let os = Error::from_raw_os_error(17);
        let text = io_sentence("/x/key.txt", &os);
        assert_eq!(text, "'/x/key.txt' already exists: choose another name");
    }
}
