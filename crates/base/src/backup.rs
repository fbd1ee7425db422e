//! Key backups: a member's secret key sealed under a passphrase, as a small text file.
//!
//! The key is the member: whoever holds it can write as them, and without it the member
//! cannot come back after losing a laptop. A backup must therefore be safe to leave on a USB
//! stick or in a cloud folder. It is sealed with XChaCha20-Poly1305 under a key that Argon2id
//! derives from the passphrase, so a copy of the file alone does not give the key away.
//!
//! The file is text, and says what it is and whose it is:
//!
//! ```text
//! commonplace-key-backup-v2
//! member: <the member id, in clear>
//! kdf: argon2id m=65536 t=3 p=1
//! salt: <16 random bytes, base32>
//! nonce: <24 random bytes, base32>
//! sealed: <the 32 secret bytes and the 16-byte tag, base32>
//! ```
//!
//! Every line above `sealed` is authenticated (it is the AEAD's associated data), so a file
//! whose member id, parameters, salt or nonce were changed is refused like a wrong
//! passphrase; after opening, the key must also belong to the member named in the file.
//! Cost parameters are bounded on reading, so a crafted file cannot make the app allocate
//! gigabytes before the tag is checked.
//!
//! Older backups (`commonplace-secret-key-v1`, the plaintext key file) still parse, as
//! [`BackupFile::Plaintext`], so that nobody is locked out; front ends recommend a new backup.
//!
//! This module never returns or prints secret bytes in an error or in `Debug` output.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::CryptoRng;
use zeroize::Zeroizing;

use crate::error::BackupError;
use crate::id::{decode_base32, encode_base32};
use crate::{MemberId, SecretKey};

const HEADER: &str = "commonplace-key-backup-v2";
const PLAINTEXT_HEADER: &str = "commonplace-secret-key-v1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const SEALED_LEN: usize = 32 + 16;

/// The fewest characters a backup passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// The most characters a backup passphrase may have (a guard against pasting a whole file).
pub const MAX_PASSPHRASE_CHARS: usize = 1024;

/// Argon2id's cost parameters, written into the file so that a backup made with stronger
/// settings later still opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub m_kib: u32,
    /// Passes over the memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// The default: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option). About
    /// 0.13 s per derivation on the 2-core build machine (measured 2026-12-04 with
    /// `default_params_cost`); see docs/threat-model.md.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// The cheapest parameters Argon2 accepts, for tests only.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 8,
        t: 1,
        p: 1,
    };

    /// The most a backup file may ask for: 1 GiB, 16 passes, 8 lanes.
    const MAX: KdfParams = KdfParams {
        m_kib: 1024 * 1024,
        t: 16,
        p: 8,
    };

    fn line(&self) -> String {
        format!("argon2id m={} t={} p={}", self.m_kib, self.t, self.p)
    }

    fn parse(text: &str) -> Result<KdfParams, BackupError> {
        let malformed = BackupError::Malformed {
            problem: "the kdf line is not 'argon2id m=… t=… p=…'",
        };
        let mut words = text.split_whitespace();
        if words.next() != Some("argon2id") {
            return Err(malformed);
        }
        let mut value = |name: &str| -> Result<u32, BackupError> {
            words
                .next()
                .and_then(|w| w.strip_prefix(name))
                .and_then(|w| w.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .ok_or(malformed.clone())
        };
        let params = KdfParams {
            m_kib: value("m")?,
            t: value("t")?,
            p: value("p")?,
        };
        if words.next().is_some() {
            return Err(malformed);
        }
        let max = KdfParams::MAX;
        if params.m_kib > max.m_kib || params.t > max.t || params.p > max.p {
            return Err(BackupError::Malformed {
                problem: "its key-derivation settings are beyond what Commonplace writes",
            });
        }
        Ok(params)
    }

    fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, BackupError> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32)).map_err(|_| {
            BackupError::Malformed {
                problem: "its key-derivation settings are not valid Argon2id settings",
            }
        })?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|_| BackupError::Malformed {
                problem: "its salt is not usable",
            })?;
        Ok(out)
    }
}

/// Checks that a passphrase is long enough to protect a backup that may be copied.
pub fn check_passphrase(passphrase: &str) -> Result<(), BackupError> {
    let chars = passphrase.chars().count();
    if passphrase.trim().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(BackupError::PassphraseTooShort {
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    if chars > MAX_PASSPHRASE_CHARS {
        return Err(BackupError::PassphraseTooLong {
            max: MAX_PASSPHRASE_CHARS,
        });
    }
    Ok(())
}

/// A key backup file as read: sealed under a passphrase, or an old plaintext key file.
pub enum BackupFile {
    /// A passphrase-protected backup (the current format).
    Sealed(SealedBackup),
    /// An old plaintext key file (`commonplace-secret-key-v1`): usable, but a new backup is
    /// recommended.
    Plaintext(SecretKey),
}

impl fmt::Debug for BackupFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupFile::Sealed(s) => f.debug_tuple("Sealed").field(s).finish(),
            BackupFile::Plaintext(k) => f.debug_tuple("Plaintext").field(k).finish(),
        }
    }
}

impl BackupFile {
    /// Parses a backup file's text (either format). Nothing is decrypted yet.
    pub fn parse(text: &str) -> Result<BackupFile, BackupError> {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        match first {
            Some(HEADER) => SealedBackup::parse(text).map(BackupFile::Sealed),
            Some(PLAINTEXT_HEADER) => SecretKey::from_key_file(text)
                .map(BackupFile::Plaintext)
                .map_err(|_| BackupError::Malformed {
                    problem: "it has the old key file's header but not a key",
                }),
            _ => Err(BackupError::NotABackup),
        }
    }

    /// Whose key the file holds.
    pub fn member(&self) -> MemberId {
        match self {
            BackupFile::Sealed(s) => s.member,
            BackupFile::Plaintext(k) => k.member_id(),
        }
    }

    /// Whether opening it needs a passphrase.
    pub fn is_sealed(&self) -> bool {
        matches!(self, BackupFile::Sealed(_))
    }

    /// The key: unsealed with `passphrase`, or as stored in an old plaintext file (the
    /// passphrase is then not used).
    pub fn open(&self, passphrase: &str) -> Result<SecretKey, BackupError> {
        match self {
            BackupFile::Sealed(s) => s.open(passphrase),
            BackupFile::Plaintext(k) => Ok(k.clone()),
        }
    }
}

/// A passphrase-protected key backup (see the module docs for the file).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBackup {
    member: MemberId,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    sealed: [u8; SEALED_LEN],
}

impl fmt::Debug for SealedBackup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sealed bytes are safe to show, but nobody needs them in a log.
        f.debug_struct("SealedBackup")
            .field("member", &self.member.short())
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl SealedBackup {
    /// Seals `key` under `passphrase` with `params` (use [`KdfParams::DEFAULT`]).
    pub fn seal(
        key: &SecretKey,
        passphrase: &str,
        params: KdfParams,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<SealedBackup, BackupError> {
        check_passphrase(passphrase)?;
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut nonce);
        let mut backup = SealedBackup {
            member: key.member_id(),
            params,
            salt,
            nonce,
            sealed: [0; SEALED_LEN],
        };
        let derived = params.derive(passphrase, &salt)?;
        let secret = Zeroizing::new(key.to_secret_bytes());
        let aad = backup.associated_data();
        let sealed = XChaCha20Poly1305::new(&(*derived).into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.as_ref(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| BackupError::Malformed {
                problem: "the key could not be sealed",
            })?;
        backup.sealed = sealed
            .as_slice()
            .try_into()
            .map_err(|_| BackupError::Malformed {
                problem: "the sealed key has an unexpected length",
            })?;
        Ok(backup)
    }

    /// Whose key this is (stated in clear in the file, and checked on opening).
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// The key-derivation settings the file was written with.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// The key, if `passphrase` is the one it was sealed under and the file is intact.
    pub fn open(&self, passphrase: &str) -> Result<SecretKey, BackupError> {
        let derived = self.params.derive(passphrase, &self.salt)?;
        let aad = self.associated_data();
        let secret = XChaCha20Poly1305::new(&(*derived).into())
            .decrypt(
                &XNonce::from(self.nonce),
                Payload {
                    msg: &self.sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| BackupError::WrongPassphrase)?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            secret
                .as_slice()
                .try_into()
                .map_err(|_| BackupError::WrongPassphrase)?,
        );
        let key = SecretKey::from_seed(*seed);
        if key.member_id() != self.member {
            return Err(BackupError::WrongPassphrase);
        }
        Ok(key)
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        format!(
            "{}sealed: {}\n",
            self.associated_data(),
            encode_base32(&self.sealed)
        )
    }

    /// Every line above `sealed`, exactly as written: what the tag authenticates.
    fn associated_data(&self) -> String {
        format!(
            "{HEADER}\nmember: {}\nkdf: {}\nsalt: {}\nnonce: {}\n",
            self.member,
            self.params.line(),
            encode_base32(&self.salt),
            encode_base32(&self.nonce),
        )
    }

    fn parse(text: &str) -> Result<SealedBackup, BackupError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(HEADER) {
            return Err(BackupError::NotABackup);
        }
        let mut field = |name: &'static str| -> Result<&str, BackupError> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(':'))
                .map(str::trim)
                .ok_or(BackupError::Malformed {
                    problem: "a line is missing or out of order",
                })
        };
        let member = field("member")?
            .parse()
            .map_err(|_| BackupError::Malformed {
                problem: "the member id is not valid",
            })?;
        let params = KdfParams::parse(field("kdf")?)?;
        let salt = bytes("salt", field("salt")?)?;
        let nonce = bytes("nonce", field("nonce")?)?;
        let sealed = bytes("sealed key", field("sealed")?)?;
        if lines.next().is_some() {
            return Err(BackupError::Malformed {
                problem: "there is text after the sealed key",
            });
        }
        Ok(SealedBackup {
            member,
            params,
            salt,
            nonce,
            sealed,
        })
    }
}

fn bytes<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], BackupError> {
    decode_base32(what, text).map_err(|_| BackupError::Malformed {
        problem: "a value is not base32 of the right length",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const PASS: &str = "correct horse battery";

    fn key() -> SecretKey {
        SecretKey::from_seed([9; 32])
    }

    fn sealed() -> SealedBackup {
        let mut rng = StdRng::seed_from_u64(7);
        SealedBackup::seal(&key(), PASS, KdfParams::INSECURE_FOR_TESTS, &mut rng).unwrap()
    }

    fn secret_text() -> String {
        encode_base32(&[9; 32])
    }

    #[test]
    fn round_trips_through_text() {
        let text = sealed().to_text();
        assert!(text.starts_with("commonplace-key-backup-v2\nmember: "));
        assert!(text.contains(&key().member_id().to_string()), "{text}");
        assert!(!text.contains(&secret_text()[..12]));
        let file = BackupFile::parse(&text).unwrap();
        assert!(file.is_sealed());
        assert_eq!(file.member(), key().member_id());
        assert_eq!(file.open(PASS).unwrap().member_id(), key().member_id());
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let file = BackupFile::parse(&sealed().to_text()).unwrap();
        let err = file.open("correct horse battery!").unwrap_err();
        assert_eq!(err, BackupError::WrongPassphrase);
        assert!(
            err.to_string()
                .contains("wrong passphrase or damaged backup")
        );
    }

    #[test]
    fn every_tampered_value_is_refused() {
        let text = sealed().to_text();
        let other = SecretKey::from_seed([10; 32]).member_id().to_string();
        let mut variants = vec![
            text.replace(&key().member_id().to_string(), &other),
            text.replace("m=8 ", "m=16 "),
            text.replace("t=1 ", "t=2 "),
        ];
        // Flip one character of each base32 value.
        for name in ["salt: ", "nonce: ", "sealed: "] {
            let at = text.find(name).unwrap() + name.len() + 3;
            let mut bytes = text.clone().into_bytes();
            bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
            variants.push(String::from_utf8(bytes).unwrap());
        }
        for bad in variants {
            assert_ne!(bad, text);
            let refused = BackupFile::parse(&bad).and_then(|f| f.open(PASS).map(|_| ()));
            assert!(refused.is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn garbage_and_truncation_are_refused_without_panicking() {
        let text = sealed().to_text();
        for cut in 0..text.len() {
            let _ = BackupFile::parse(&text[..cut]).and_then(|f| f.open(PASS).map(|_| ()));
        }
        assert_eq!(
            BackupFile::parse("hello").unwrap_err(),
            BackupError::NotABackup
        );
        let huge = text.replace("m=8 t=1 p=1", "m=4000000000 t=1 p=1");
        assert!(matches!(
            BackupFile::parse(&huge).unwrap_err(),
            BackupError::Malformed { .. }
        ));
    }

    #[test]
    fn old_plaintext_key_files_still_open() {
        let file = BackupFile::parse(&key().to_key_file()).unwrap();
        assert!(!file.is_sealed());
        assert_eq!(file.open("").unwrap().member_id(), key().member_id());
    }

    #[test]
    fn short_passphrases_are_refused_with_the_reason() {
        let mut rng = StdRng::seed_from_u64(1);
        for short in ["", "1234567", "   abc   "] {
            let err = SealedBackup::seal(&key(), short, KdfParams::INSECURE_FOR_TESTS, &mut rng)
                .unwrap_err();
            assert_eq!(err, BackupError::PassphraseTooShort { min: 8 });
            assert!(err.to_string().contains("at least 8"), "{err}");
        }
        let long = "x".repeat(MAX_PASSPHRASE_CHARS + 1);
        assert!(check_passphrase(&long).is_err());
        assert!(check_passphrase("eight ch").is_ok());
    }

    #[test]
    fn no_secret_in_debug_or_errors() {
        let s = sealed();
        let file = BackupFile::parse(&s.to_text()).unwrap();
        let secret = secret_text();
        for shown in [
            format!("{s:?}"),
            format!("{file:?}"),
            format!("{:?}", BackupFile::Plaintext(key())),
            file.open("wrong passphrase").unwrap_err().to_string(),
            format!("{:?}", file.open("wrong passphrase").unwrap_err()),
        ] {
            assert!(!shown.contains(&secret[..12]), "{shown}");
            assert!(!shown.contains(PASS), "{shown}");
        }
    }

    /// A backup written by this version, kept so that a change of format is noticed: it must
    /// open, and sealing with the same random bytes must give it again byte for byte. (If a
    /// rand upgrade changes `StdRng`'s stream, only the second half fails: regenerate with
    /// `UPDATE_GOLDEN=1 cargo test -p commonplace-base golden` after checking the first.)
    #[test]
    fn the_golden_backup_opens_and_is_reproduced() {
        let golden = include_str!("../tests/golden/key-backup-v2.txt");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/golden/key-backup-v2.txt"
            );
            std::fs::write(path, sealed().to_text()).unwrap();
            return;
        }
        let file = BackupFile::parse(golden).unwrap();
        assert_eq!(file.open(PASS).unwrap().member_id(), key().member_id());
        assert_eq!(sealed().to_text(), golden);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "(commonplace-key-backup-v2\n)?[a-z0-9:=\n ]{0,300}") {
            let _ = BackupFile::parse(&text).map(|f| f.open(PASS).is_ok());
        }

        #[test]
        fn any_passphrase_round_trips(pass in "\\PC{8,40}", seed in proptest::prelude::any::<u64>()) {
            proptest::prop_assume!(check_passphrase(&pass).is_ok());
            let mut rng = StdRng::seed_from_u64(seed);
            let text = SealedBackup::seal(&key(), &pass, KdfParams::INSECURE_FOR_TESTS, &mut rng).unwrap().to_text();
            let file = BackupFile::parse(&text).unwrap();
            proptest::prop_assert_eq!(file.open(&pass).unwrap().member_id(), key().member_id());
        }
    }

    /// The default settings' cost on this machine (run with `--ignored --nocapture`).
    #[test]
    #[ignore = "measures the default key-derivation time"]
    fn default_params_cost() {
        let start = std::time::Instant::now();
        let mut rng = StdRng::seed_from_u64(2);
        let s = SealedBackup::seal(&key(), PASS, KdfParams::DEFAULT, &mut rng).unwrap();
        let sealed_in = start.elapsed();
        s.open(PASS).unwrap();
        println!(
            "argon2id m=64MiB t=3 p=1: seal {sealed_in:?}, open {:?}",
            start.elapsed() - sealed_in
        );
    }
}
