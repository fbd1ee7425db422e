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
    #[error("the database at {path} could not be opened: {source}")]
    Damaged {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
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
    /// The database reported an error; nothing was written. The cause is redb's own error.
    #[error("storage error: {0}")]
    Database(#[source] redb::Error),
    /// A stored record does not decode (or a record does not encode); the cause is
    /// postcard's error.
    #[error("stored record {what} is damaged: {source}")]
    Codec {
        what: &'static str,
        #[source]
        source: postcard::Error,
    },
    /// A stored record is inconsistent (a key of the wrong length, a count that does not
    /// match); `detail` says what is wrong.
    #[error("stored record {what} is damaged: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

macro_rules! from_redb {
    ($($t:ty),+) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(e.into())
            }
        }
    )+};
}
from_redb!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        StoreError::Database(e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_database_error_keeps_redbs_error_as_its_source() {
        let err = StoreError::from(redb::StorageError::Io(std::io::Error::other("disk gone")));
        let source = err.source().expect("a source");
        let redb = source
            .downcast_ref::<redb::Error>()
            .expect("the source is redb's error");
        assert!(matches!(redb, redb::Error::Io(_)), "{redb:?}");
        assert_eq!(err.to_string(), "storage error: I/O error: disk gone");
    }

    #[test]
    fn a_damaged_record_keeps_postcards_error_as_its_source() {
        let source = postcard::from_bytes::<u64>(&[]).unwrap_err();
        let err = StoreError::Codec {
            what: "document record",
            source,
        };
        assert!(err.source().is_some_and(|e| e.is::<postcard::Error>()));
        let open = OpenError::Damaged {
            path: "/x/profile.redb".into(),
            source: err,
        };
        assert!(open.source().is_some_and(|e| e.is::<StoreError>()));
    }
}
