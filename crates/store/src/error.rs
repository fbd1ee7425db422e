use std::path::PathBuf;

use thiserror::Error;

/// The profile's database could not be opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Another process has it open.
    #[error(
        "the profile at {path} is in use by another Commonplace process (the app or `commonplace serve`); close it and try again"
    )]
    InUse { path: PathBuf },
    /// The file is not a database of ours, or is damaged beyond repair.
    #[error("the database at {path} could not be opened: {detail}")]
    Damaged { path: PathBuf, detail: String },
    /// Written by a newer Commonplace.
    #[error(
        "the database at {path} has format {found}; this Commonplace understands up to {supported}"
    )]
    Version {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// An I/O error.
    #[error("the database at {path} could not be opened: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A read or write failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error; nothing was written.
    #[error("storage error: {0}")]
    Database(String),
    /// A stored record does not decode.
    #[error("stored record {what} is damaged: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

macro_rules! from_redb {
    ($($t:ty),+) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(e.to_string())
            }
        }
    )+};
}
from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError
);
