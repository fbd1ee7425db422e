//! Short invitation codes: `K7QM-3XPA-9FHD-2WNE`, short enough to read over the phone.
//!
//! A short code is 15 random Crockford base32 symbols (75 bits) and one check symbol, shown in
//! four groups of four. Reading it back forgives case, spaces, dashes and the look-alikes
//! `O`/`0`, `I`/`L`/`1` and `U`/`V`. The check symbol is a weighted sum over GF(32), which
//! catches every single wrong symbol and every swap of two neighbours, so a typo is reported
//! as a typo at once instead of after a network wait.
//!
//! The code is not the invitation: it names one. Everything an invitation needs is derived
//! from the code with SHA-256 under separate domain strings:
//!
//! - [`ShortCode::secret`] — the invitation's single-use secret, so a signed invitation
//!   fetched over the network provably belongs to the typed code ([`ShortCode::matches`]);
//! - [`ShortCode::resolver_seed`] — the seed of an ed25519 key whose public key is the id of a
//!   small endpoint the inviter's node runs, so a joiner finds it from the code alone;
//! - [`ShortCode::proof`] — what the joiner sends to the inviter's node to show that it knows
//!   the code (the resolver id alone may be seen by anyone on the local network).
//!
//! This module does no I/O; the random bytes are passed in.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::invite::{InviteError, SignedInvitation};

/// The symbols, in value order (Crockford's base32: no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a code.
const DATA: usize = 15;
/// Symbols in a code, the check symbol included.
pub const SHORT_CODE_SYMBOLS: usize = DATA + 1;

/// A short invitation code (canonical: 16 upper-case symbols, no separators).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ShortCode([u8; SHORT_CODE_SYMBOLS]);

impl ShortCode {
    /// A new code from 10 random bytes (the first 75 bits are used).
    pub fn from_random(bytes: [u8; 10]) -> ShortCode {
        let mut bits = u128::from_be_bytes({
            let mut b = [0u8; 16];
            b[..10].copy_from_slice(&bytes);
            b
        });
        let mut values = [0u8; SHORT_CODE_SYMBOLS];
        for v in values.iter_mut().take(DATA) {
            *v = (bits >> 123) as u8 & 31;
            bits <<= 5;
        }
        values[DATA] = check(&values[..DATA]);
        ShortCode(values.map(|v| ALPHABET[usize::from(v)]))
    }

    /// Parses what a person typed or read out.
    pub fn parse(text: &str) -> Result<ShortCode, InviteError> {
        let mut values = Vec::with_capacity(SHORT_CODE_SYMBOLS);
        for c in text.chars() {
            if c.is_whitespace() || matches!(c, '-' | '.' | '_') {
                continue;
            }
            match value_of(c) {
                Some(v) => values.push(v),
                None => return Err(InviteError::Malformed),
            }
        }
        if values.len() != SHORT_CODE_SYMBOLS {
            return Err(InviteError::WrongLength { got: values.len() });
        }
        if check(&values[..DATA]) != values[DATA] {
            return Err(InviteError::Typo);
        }
        let mut out = [0u8; SHORT_CODE_SYMBOLS];
        for (o, v) in out.iter_mut().zip(values) {
            *o = ALPHABET[usize::from(v)];
        }
        Ok(ShortCode(out))
    }

    /// The canonical symbols, without separators.
    pub fn as_str(&self) -> &str {
        // Only ALPHABET bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn derive(&self, domain: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(domain.as_bytes());
        h.update([0]);
        h.update(self.0);
        h.finalize().into()
    }

    /// The invitation's single-use secret.
    pub fn secret(&self) -> [u8; 16] {
        let d = self.derive("commonplace/invite/secret/1");
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    /// The seed of the resolver endpoint's key.
    pub fn resolver_seed(&self) -> [u8; 32] {
        self.derive("commonplace/invite/resolver/1")
    }

    /// What a joiner sends to show it knows the code.
    pub fn proof(&self) -> [u8; 32] {
        self.derive("commonplace/invite/proof/1")
    }

    /// Whether `inv` is the invitation this code names (its secret is derived from the code).
    pub fn matches(&self, inv: &SignedInvitation) -> bool {
        inv.invitation.secret == self.secret()
    }
}

impl fmt::Display for ShortCode {
    /// Four groups of four: `K7QM-3XPA-9FHD-2WNE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        write!(f, "{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..12], &s[12..])
    }
}

impl fmt::Debug for ShortCode {
    // The code is a bearer secret: never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShortCode(…)")
    }
}

impl FromStr for ShortCode {
    type Err = InviteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ShortCode::parse(s)
    }
}

fn value_of(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        'U' => 'V',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|p| u8::try_from(p).ok())
}

/// Multiplication in GF(32) = GF(2)[x] / (x^5 + x^2 + 1).
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut out = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            out ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    out
}

/// The check symbol: sum of `v_i * x^(i+1)`. Weights are distinct and non-zero, so one wrong
/// symbol always changes the sum, and so does swapping two neighbours (their weights differ).
fn check(values: &[u8]) -> u8 {
    let mut weight = 1u8;
    let mut sum = 0u8;
    for &v in values {
        weight = gf_mul(weight, 2);
        sum ^= gf_mul(v, weight);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_is_four_groups_of_four_and_reads_back_forgivingly() {
        let code = ShortCode::from_random([0xA5; 10]);
        let shown = code.to_string();
        assert_eq!(shown.len(), 19, "{shown}");
        assert_eq!(shown.matches('-').count(), 3);
        assert_eq!(ShortCode::parse(&shown).unwrap(), code);
        let sloppy = shown.to_ascii_lowercase().replace('-', " ");
        assert_eq!(ShortCode::parse(&format!("  {sloppy} ")).unwrap(), code);
        assert_eq!(ShortCode::parse(code.as_str()).unwrap(), code);
    }

    #[test]
    fn look_alikes_are_read_as_what_they_look_like() {
        // Find a code with a 0 and a 1 in it, then type them as O and I.
        let code = (0u8..=255)
            .map(|b| ShortCode::from_random([b, 0x10, b, 0x01, 7, b, 3, 0x81, 5, b]))
            .find(|c| c.as_str().contains('0') && c.as_str().contains('1'))
            .unwrap();
        let typed = code.as_str().replace('0', "o").replace('1', "I");
        assert_eq!(ShortCode::parse(&typed).unwrap(), code);
        let typed = code.as_str().replace('1', "l");
        assert_eq!(ShortCode::parse(&typed).unwrap(), code);
    }

    #[test]
    fn wrong_length_and_strange_characters_are_told_apart_from_typos() {
        let code = ShortCode::from_random([9; 10]).to_string();
        assert_eq!(
            ShortCode::parse(&code[..code.len() - 1]),
            Err(InviteError::WrongLength { got: 15 })
        );
        assert_eq!(
            ShortCode::parse(&format!("{code}7")),
            Err(InviteError::WrongLength { got: 17 })
        );
        assert_eq!(
            ShortCode::parse("K7QM-3XPA-9FHD-2WN!"),
            Err(InviteError::Malformed)
        );
    }

    #[test]
    fn debug_hides_the_code() {
        let code = ShortCode::from_random([1; 10]);
        assert!(!format!("{code:?}").contains(code.as_str()));
    }

    #[test]
    fn derived_values_differ_and_are_stable() {
        let code = ShortCode::from_random([3; 10]);
        assert_ne!(code.secret()[..], code.proof()[..16]);
        assert_ne!(code.resolver_seed(), code.proof());
        // Golden: the derivations are a protocol; changing them breaks old codes.
        assert_eq!(code.as_str(), "0C1G60R30C1G60R6");
        let hex = |b: &[u8]| data_encoding::HEXLOWER.encode(&b[..8]);
        assert_eq!(hex(&code.secret()), "c56bd5686b457295");
        assert_eq!(hex(&code.resolver_seed()), "b3c256e06e664b3e");
        assert_eq!(hex(&code.proof()), "60a23e78c1d40260");
    }

    proptest! {
        #[test]
        fn every_code_round_trips(bytes in any::<[u8; 10]>()) {
            let code = ShortCode::from_random(bytes);
            prop_assert_eq!(ShortCode::parse(&code.to_string()).unwrap(), code);
        }

        #[test]
        fn every_single_wrong_symbol_is_a_typo(bytes in any::<[u8; 10]>(), at in 0usize..16, to in 0usize..32) {
            let code = ShortCode::from_random(bytes);
            let mut s = code.as_str().as_bytes().to_vec();
            prop_assume!(s[at] != ALPHABET[to]);
            s[at] = ALPHABET[to];
            let typed = String::from_utf8(s).unwrap();
            prop_assert_eq!(ShortCode::parse(&typed), Err(InviteError::Typo));
        }

        #[test]
        fn every_swap_of_neighbours_is_a_typo(bytes in any::<[u8; 10]>(), at in 0usize..15) {
            let code = ShortCode::from_random(bytes);
            let mut s = code.as_str().as_bytes().to_vec();
            prop_assume!(s[at] != s[at + 1]);
            s.swap(at, at + 1);
            let typed = String::from_utf8(s).unwrap();
            prop_assert_eq!(ShortCode::parse(&typed), Err(InviteError::Typo));
        }
    }
}
