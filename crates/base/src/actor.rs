//! Automerge actor ids that name their signer.
//!
//! An actor id is 16 random bytes followed by the 32-byte public key of the member who signs
//! the actor's changes. The key goes last because Automerge derives nested actor ids by
//! prefixing. A fresh random part per device and per document keeps actors unique even when
//! one member uses several devices.

use rand::Rng;

use crate::{MemberId, SignatureError, random_bytes};

/// Length of an actor id in bytes.
pub const ACTOR_LEN: usize = 48;

/// A fresh actor id for `member`.
pub fn new_actor(member: &MemberId, rng: &mut (impl Rng + ?Sized)) -> [u8; ACTOR_LEN] {
    let mut out = [0u8; ACTOR_LEN];
    out[..16].copy_from_slice(&random_bytes::<16>(rng));
    out[16..].copy_from_slice(member.as_bytes());
    out
}

/// The member who signs for this actor, or an error if the actor id does not have our form.
pub fn signer_of(actor: &[u8]) -> Result<MemberId, SignatureError> {
    let key: [u8; 32] = actor
        .get(16..)
        .filter(|k| actor.len() == ACTOR_LEN && k.len() == 32)
        .and_then(|k| k.try_into().ok())
        .ok_or(SignatureError::BadKey)?;
    MemberId::from_bytes(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn actor_names_its_signer() {
        let member = SecretKey::from_seed([9; 32]).member_id();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let actor = new_actor(&member, &mut rng);
        assert_eq!(signer_of(&actor).unwrap(), member);
        assert!(signer_of(&actor[..40]).is_err());
        assert!(signer_of(&[]).is_err());
    }

    use rand::SeedableRng;
}
