use thiserror::Error;

/// A textual id could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseIdError {
    /// The text is not base32.
    #[error("'{text}' is not a valid {what}: it must be base32 (letters a-z and digits 2-7)")]
    NotBase32 { what: &'static str, text: String },
    /// The text decodes to the wrong number of bytes.
    #[error("'{text}' is not a valid {what}: expected {expected} characters")]
    WrongLength {
        what: &'static str,
        text: String,
        expected: usize,
    },
    /// The bytes are not a public key a member can have.
    #[error("'{text}' is not a valid member id: {why}")]
    NotAKey { text: String, why: SignatureError },
}

/// A signature did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not match the message and key.
    #[error("signature does not verify")]
    Invalid,
    /// The signer's key bytes are not a valid public key.
    #[error("not a valid ed25519 public key")]
    BadKey,
    /// The key is a small-order or mixed-order point: signatures for it can be forged, or
    /// verify under one check and fail under another. No honest member has such a key.
    #[error("the key is a weak ed25519 key (small or mixed order), which no member can have")]
    WeakKey,
    /// The key's bytes are not the canonical encoding of its point.
    #[error("the key is not canonically encoded")]
    NonCanonicalKey,
}

/// A key file could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file does not have the expected form.
    #[error("the key file is not a Commonplace secret key (expected {expected})")]
    Malformed { expected: &'static str },
}

/// A key backup could not be written or opened. No variant carries secret material.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupError {
    /// The passphrase is too short to protect a file that may be copied.
    #[error(
        "the passphrase must have at least {min} characters: anyone who gets a copy of the \
         backup file can try short passphrases one after another"
    )]
    PassphraseTooShort { min: usize },
    /// The passphrase is longer than any passphrase a person types.
    #[error("the passphrase is longer than {max} characters")]
    PassphraseTooLong { max: usize },
    /// The passphrase does not open the backup, or the file was changed.
    #[error(
        "wrong passphrase or damaged backup: the key could not be opened (check the \
         passphrase; if it is right, the file was changed or damaged)"
    )]
    WrongPassphrase,
    /// The file is not a Commonplace key backup at all.
    #[error("this is not a Commonplace key backup (it should begin with 'commonplace-key-backup')")]
    NotABackup,
    /// The file looks like a backup but cannot be read.
    #[error("the key backup is damaged: {problem}")]
    Malformed { problem: &'static str },
}
