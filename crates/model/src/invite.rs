//! Invitations: a coordinator's signed permission for the holder to join a community.
//!
//! An invitation names the community, the role the newcomer gets, when it expires, a random
//! secret that makes it single-use, and how to reach the inviting node (an opaque address
//! the network layer understands). It travels as a short text code, e.g. in an e-mail or a QR
//! code. The node that admits the holder checks the signature, that the issuer is a
//! coordinator, the expiry, and that the secret was not used before.

use commonplace_base::{
    CommunityId, MemberId, SecretKey, Signature, SigningDomain, Timestamp, encode_base32,
};
use serde::{Deserialize, Serialize};

use crate::Role;

pub use crate::short_code::{SHORT_CODE_SYMBOLS, ShortCode};

const CODE_PREFIX: &str = "cpinvite1";

/// What a coordinator signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The community.
    pub community: CommunityId,
    /// Its name, so the newcomer sees what they are joining before connecting.
    pub community_name: String,
    /// The coordinator who signed it.
    pub issuer: MemberId,
    /// The role the newcomer gets.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Makes the invitation single-use.
    pub secret: [u8; 16],
    /// How to reach the inviting node (postcard-encoded iroh address).
    pub inviter_addr: Vec<u8>,
}

/// An invitation with the issuer's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The issuer's signature over its encoding.
    pub signature: Signature,
}

/// An invitation code could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InviteError {
    /// Not an invitation code.
    #[error("this is not a Commonplace invitation code")]
    Malformed,
    /// The signature does not match.
    #[error("the invitation was altered or forged (its signature does not match)")]
    Forged,
    /// Past its expiry.
    #[error("the invitation expired; ask for a new one")]
    Expired,
    /// Already used.
    #[error("the invitation was already used; ask for a new one")]
    Used,
    /// The issuer is not a coordinator.
    #[error("the invitation was signed by someone who is not a coordinator of the community")]
    NotACoordinator,
    /// A short code whose check symbol does not match: a symbol was mistyped or misheard.
    #[error("this code has a typo: check it letter by letter (O and 0, I and 1 are the same)")]
    Typo,
    /// A short code with too few or too many symbols.
    #[error(
        "an invitation code has 16 letters and digits (XXXX-XXXX-XXXX-XXXX); this one has {got}"
    )]
    WrongLength {
        /// How many symbols were typed.
        got: usize,
    },
    /// A coordinator withdrew the invitation.
    #[error("the invitation was revoked by a coordinator; ask for a new one")]
    Revoked,
    /// No node asked knows this short code (never created there, or already forgotten).
    #[error("no invitation with this code is waiting here; check the code or ask the inviter")]
    Unknown,
    /// A node answered the short code with an invitation that does not belong to it.
    #[error("the node that answered this code sent an invitation for another code")]
    NotThisCode,
}

impl SignedInvitation {
    /// Signs an invitation.
    pub fn sign(invitation: Invitation, key: &SecretKey) -> Result<Self, InviteError> {
        let bytes = postcard::to_stdvec(&invitation).map_err(|_| InviteError::Malformed)?;
        Ok(SignedInvitation {
            signature: key.sign(SigningDomain::Invitation, &bytes),
            invitation,
        })
    }

    /// Checks the signature (not expiry, use or the issuer's role: the admitting node does).
    pub fn verify(&self) -> Result<(), InviteError> {
        let bytes = postcard::to_stdvec(&self.invitation).map_err(|_| InviteError::Malformed)?;
        self.invitation
            .issuer
            .verify(SigningDomain::Invitation, &bytes, &self.signature)
            .map_err(|_| InviteError::Forged)
    }

    /// The text code.
    pub fn to_code(&self) -> Result<String, InviteError> {
        let bytes = postcard::to_stdvec(self).map_err(|_| InviteError::Malformed)?;
        Ok(format!("{CODE_PREFIX}{}", encode_base32(&bytes)))
    }

    /// Parses a text code and checks its signature.
    pub fn from_code(code: &str) -> Result<Self, InviteError> {
        let body = code
            .trim()
            .strip_prefix(CODE_PREFIX)
            .ok_or(InviteError::Malformed)?;
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.to_ascii_uppercase().as_bytes())
            .map_err(|_| InviteError::Malformed)?;
        let inv: SignedInvitation =
            postcard::from_bytes(&bytes).map_err(|_| InviteError::Malformed)?;
        inv.verify()?;
        Ok(inv)
    }

    /// Whether `text` is a long code (`cpinvite1…`) rather than a short one.
    pub fn is_long_code(text: &str) -> bool {
        text.trim().to_ascii_lowercase().starts_with(CODE_PREFIX)
    }

    /// A stable id of the invitation, for single-use bookkeeping.
    pub fn id(&self) -> String {
        encode_base32(&self.invitation.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SignedInvitation, SecretKey) {
        let key = SecretKey::from_seed([4; 32]);
        let inv = Invitation {
            community: CommunityId::from_bytes([1; 16]),
            community_name: "Nurses".into(),
            issuer: key.member_id(),
            role: Role::Member,
            expires_at: Timestamp(10),
            secret: [7; 16],
            inviter_addr: vec![1, 2, 3],
        };
        (SignedInvitation::sign(inv, &key).unwrap(), key)
    }

    #[test]
    fn code_round_trips_and_tampering_is_caught() {
        let (inv, _) = sample();
        let code = inv.to_code().unwrap();
        assert_eq!(SignedInvitation::from_code(&code).unwrap(), inv);
        let mut forged = inv.clone();
        forged.invitation.role = Role::Coordinator;
        let code = forged.to_code().unwrap();
        assert_eq!(SignedInvitation::from_code(&code), Err(InviteError::Forged));
        assert_eq!(
            SignedInvitation::from_code("hello"),
            Err(InviteError::Malformed)
        );
        assert_eq!(
            SignedInvitation::from_code(&format!("{CODE_PREFIX}zzzz")),
            Err(InviteError::Malformed)
        );
    }
}
