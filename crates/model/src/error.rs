use commonplace_base::{DocId, MemberId};
use thiserror::Error;

/// A document, a value or an input does not follow the Commonplace schema.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A word (kind, role) is not one we know.
    #[error("unknown {what} '{word}' (expected one of: {expected})")]
    UnknownWord {
        what: &'static str,
        word: String,
        expected: &'static str,
    },
    /// A field is missing or has the wrong type.
    #[error("document does not follow the schema: {field} is missing or malformed")]
    Field { field: &'static str },
    /// The document was written by a newer Commonplace.
    #[error("document uses schema version {found}, this Commonplace reads up to {supported}")]
    Version { found: i64, supported: i64 },
    /// A text input is empty or too long.
    #[error("{field} {problem}")]
    Input {
        field: &'static str,
        problem: String,
    },
    /// Automerge refused an operation; its error is the source (boxed: it is large, and
    /// every result of the model and the node carries this type).
    #[error("document operation failed: {0}")]
    Automerge(#[source] Box<automerge::AutomergeError>),
}

impl From<automerge::AutomergeError> for SchemaError {
    fn from(e: automerge::AutomergeError) -> Self {
        SchemaError::Automerge(Box::new(e))
    }
}

/// Why a change from a peer or a file was refused. Every variant names the change.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The change bytes do not decode as an Automerge change.
    #[error("a change in document {doc} is malformed: {detail}")]
    Malformed { doc: DocId, detail: String },
    /// The changes apply, but Automerge would not reproduce them byte for byte when the
    /// document is saved and loaded again: stored, they would make it unreadable.
    #[error(
        "document {doc} would not load back after these changes, so they are refused: {detail}"
    )]
    NotReproducible { doc: DocId, detail: String },
    /// The change's actor id does not name a signer.
    #[error("change {hash} in document {doc} has an actor id that names no signer")]
    BadActor { doc: DocId, hash: String },
    /// The signature does not match the change.
    #[error(
        "change {hash} in document {doc} has a forged or damaged signature (claimed signer {signer})"
    )]
    BadSignature {
        doc: DocId,
        hash: String,
        signer: MemberId,
    },
    /// The change carries no signature and no later signed change of its actor vouches for it.
    #[error("change {hash} in document {doc} is not signed")]
    Unsigned { doc: DocId, hash: String },
    /// The signer is not in the community's roster.
    #[error(
        "change {hash} in document {doc} was signed by {signer}, who is not a member of this community"
    )]
    NotAMember {
        doc: DocId,
        hash: String,
        signer: MemberId,
    },
    /// The signer was removed from the community before the change's own (signed) time.
    #[error(
        "change {hash} in document {doc} was signed by {signer} after {signer} was removed from the community"
    )]
    Removed {
        doc: DocId,
        hash: String,
        signer: MemberId,
    },
    /// The change writes a part of a thread or entry that its signer may not write: another
    /// member's post, the thread's own fields, a field that is set only once.
    #[error(
        "change {hash} in document {doc} by {signer} modifies a part of the document that is not theirs to change ({detail})"
    )]
    NotTheirs {
        doc: DocId,
        hash: String,
        signer: MemberId,
        detail: String,
    },
    /// The signer's role does not allow writing this document.
    #[error(
        "change {hash} in document {doc} was signed by {signer}, an observer, who may not write"
    )]
    ReadOnly {
        doc: DocId,
        hash: String,
        signer: MemberId,
    },
    /// A roster or charter change not signed by a coordinator.
    #[error(
        "change {hash} to the community's charter or roster was signed by {signer}, who is not a coordinator"
    )]
    NotACoordinator {
        doc: DocId,
        hash: String,
        signer: MemberId,
    },
    /// A change depends on a change that is neither known nor supplied.
    #[error("change {hash} in document {doc} depends on change {missing}, which is missing")]
    MissingDependency {
        doc: DocId,
        hash: String,
        missing: String,
    },
    /// The document's content does not follow the schema after the change.
    #[error("document {doc} does not follow the schema after its changes: {detail}")]
    Schema { doc: DocId, detail: String },
    /// The document is of another kind than claimed.
    #[error("document {doc} is a {known} but was sent as a {claimed}")]
    KindMismatch {
        doc: DocId,
        known: &'static str,
        claimed: &'static str,
    },
}

/// A bundle file could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// Not a Commonplace bundle at all.
    #[error("not a Commonplace bundle (the file does not start with the bundle header)")]
    NotABundle,
    /// Written by a newer Commonplace.
    #[error("bundle format version {0} is newer than this Commonplace understands")]
    Version(u32),
    /// The file ends early (what is missing is said in words).
    #[error("the bundle is truncated or damaged: {0}")]
    Truncated(String),
    /// The signed contents do not decode; postcard's error is the source.
    #[error("the bundle is truncated or damaged: the contents do not decode: {0}")]
    Contents(#[source] postcard::Error),
    /// The whole-file signature does not match: a byte was changed somewhere.
    #[error(
        "the bundle was altered or damaged after it was signed by {exporter} (its signature does not match its contents)"
    )]
    BadSignature { exporter: MemberId },
    /// The community id does not match its founder and nonce.
    #[error("the bundle's community id does not match its founding record")]
    BadGenesis,
    /// Over a hard limit (which one is said in words).
    #[error("the bundle is too large: {0}")]
    TooLarge(String),
    /// The contents could not be encoded (only on writing).
    #[error("the bundle is too large: {0}")]
    Encode(#[source] postcard::Error),
}
