use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use commonplace_base::SecretKey;

use crate::NodeError;

/// Writes `bytes` to `path` atomically: a temporary file beside the target, synced, then
/// renamed over it, so a crash leaves the old file or the new one, never half of one.
///
/// A symbolic link is followed (the file it names is replaced, the link stays); an existing
/// file keeps its permission mode; a target that is not a regular file (a directory, a
/// device, a FIFO) is refused rather than replaced; the temporary file is removed on any
/// failure (a full disk leaves nothing behind).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    write_atomically_with_mode(path, bytes, None)
}

/// [`write_atomically`], with the file's permission mode set to `mode` (unix) whether it
/// existed or not: the temporary file has that mode from its creation, so a secret is never
/// readable by others, not even for a moment.
pub(crate) fn write_atomically_with_mode(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> Result<(), NodeError> {
    use std::io::Write;
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is refused below; a new file is written where named.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(NodeError::io(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "it is a symbolic link to nothing",
                    ),
                ));
            }
            path.to_path_buf()
        }
        Err(e) => return Err(NodeError::io(path, e)),
    };
    let existing = match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Some(m.permissions()),
        Ok(_) => {
            return Err(NodeError::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is not a regular file: give the path of a file to write",
                ),
            ));
        }
        Err(_) => None,
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("output")
    ));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        let mut f = opts.open(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            // A temporary file left from before keeps its mode on open: set it again.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| NodeError::io(&tmp, e))?;
        }
        if let (None, Some(mode)) = (mode, &existing) {
            f.set_permissions(mode.clone())
                .map_err(|e| NodeError::io(&tmp, e))?;
        }
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| NodeError::io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| NodeError::io(path, e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Where one member's data lives: a directory holding the secret key file and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    dir: PathBuf,
}

const KEY_FILE: &str = "identity.key";

const DB_FILE: &str = "commonplace.redb";

impl Profile {
    /// The profile in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Profile { dir: dir.into() }
    }

    /// The default profile: `$COMMONPLACE_PROFILE`, else the platform's data directory
    /// (`$XDG_DATA_HOME/commonplace/default` on Linux).
    pub fn default_location() -> Option<Self> {
        if let Some(p) = std::env::var_os("COMMONPLACE_PROFILE").filter(|p| !p.is_empty()) {
            return Some(Profile::at(p));
        }
        dirs::data_dir().map(|d| Profile::at(d.join("commonplace").join("default")))
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub(crate) fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    pub(crate) fn has_identity(&self) -> bool {
        self.key_path().exists()
    }

    pub(crate) fn read_key(&self) -> Result<SecretKey, NodeError> {
        let path = self.key_path();
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                NodeError::NoIdentity(self.dir.display().to_string())
            } else {
                NodeError::io(&path, e)
            }
        })?;
        SecretKey::from_key_file(&text).map_err(|e| {
            NodeError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    /// Writes the key file with mode 0600, atomically: a crash leaves the old file or the new
    /// one, never half of one.
    pub(crate) fn write_key(&self, key: &SecretKey) -> Result<(), NodeError> {
        create_private_dir(&self.dir)?;
        let path = self.key_path();
        let tmp = self.dir.join(format!("{KEY_FILE}.tmp"));
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        f.write_all(key.to_key_file().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| NodeError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| NodeError::io(&path, e))?;
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), NodeError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| NodeError::io(dir, e))?;
    // A directory made before (by `mkdir`, with the usual 0755) is tightened too: it holds
    // the member's key and database.
    restrict(dir, 0o700)
}

/// Sets a profile file's or directory's mode so that other local users cannot read it.
pub(crate) fn restrict(path: &Path, mode: u32) -> Result<(), NodeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let now = fs::metadata(path).map_err(|e| NodeError::io(path, e))?;
        if now.permissions().mode() & 0o777 != mode {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .map_err(|e| NodeError::io(path, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
