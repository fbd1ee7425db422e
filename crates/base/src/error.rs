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
