//! The member's key backup: writing it sealed under a passphrase, restoring an identity from
//! it, and remembering when the last backup was made so that front ends can remind until
//! there is one. The file format and its cryptography live in `commonplace_base::backup`.

use std::path::Path;

use commonplace_base::{BackupFile, KdfParams, SealedBackup, Timestamp};

use crate::profile::write_atomically_with_mode;
use crate::{Node, NodeError, Profile};

/// Where the time of the last key backup is kept in the profile's meta table.
pub(crate) const BACKED_UP_AT: &str = "backup/at";

/// A key backup file is a few hundred bytes; anything much larger is not one.
const MAX_BACKUP_FILE: u64 = 64 * 1024;

impl Node {
    /// Writes the secret key to `path`, sealed under `passphrase` (Argon2id with the default
    /// settings, XChaCha20-Poly1305), and records the time. The file is written atomically
    /// with mode 0600; an existing file is replaced (the convention of every file the app
    /// writes), so saving twice to the same place works.
    pub fn backup_key(&self, path: &Path, passphrase: &str) -> Result<(), NodeError> {
        self.backup_key_with(path, passphrase, KdfParams::DEFAULT)
    }

    /// [`Node::backup_key`] with chosen key-derivation settings (tests use cheap ones).
    pub fn backup_key_with(
        &self,
        path: &Path,
        passphrase: &str,
        params: KdfParams,
    ) -> Result<(), NodeError> {
        let sealed = SealedBackup::seal(self.secret_key(), passphrase, params, &mut rand::rng())?;
        write_atomically_with_mode(path, sealed.to_text().as_bytes(), Some(0o600))?;
        self.record_backup(Timestamp::now())
    }

    /// When the key was last backed up from (or restored into) this profile; `None` until
    /// then.
    pub fn backed_up_at(&self) -> Result<Option<Timestamp>, NodeError> {
        Ok(self
            .store()
            .meta(BACKED_UP_AT)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(|b| Timestamp(i64::from_be_bytes(b))))
    }

    fn record_backup(&self, at: Timestamp) -> Result<(), NodeError> {
        self.store().commit(&commonplace_store::Commit {
            docs: Vec::new(),
            meta: vec![(BACKED_UP_AT.into(), at.0.to_be_bytes().to_vec())],
        })?;
        Ok(())
    }

    /// Creates a profile around the key in a backup and opens it. The community data returns
    /// from other members at the next sync (the member is already on their rosters). A
    /// sealed backup counts as this profile's backup; an old plaintext one does not, so the
    /// reminder to make a new one stays.
    pub fn restore(
        profile: Profile,
        backup: &BackupFile,
        passphrase: &str,
        name: &str,
        region: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Node, NodeError> {
        let key = backup.open(passphrase)?;
        let node = Node::init_with_key(profile, key, name, region, organisation)?;
        if backup.is_sealed() {
            node.record_backup(Timestamp::now())?;
        }
        Ok(node)
    }
}

/// Reads a key backup file (either format); nothing is decrypted yet, so front ends can show
/// whose key it is and ask for the passphrase only when one is needed.
pub fn read_key_backup(path: &Path) -> Result<BackupFile, NodeError> {
    let meta = std::fs::metadata(path).map_err(|e| NodeError::io(path, e))?;
    if meta.is_dir() {
        return Err(NodeError::io(
            path,
            std::io::Error::from(std::io::ErrorKind::IsADirectory),
        ));
    }
    if meta.len() > MAX_BACKUP_FILE {
        return Err(commonplace_base::BackupError::NotABackup.into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| NodeError::io(path, e))?;
    Ok(BackupFile::parse(&text)?)
}
