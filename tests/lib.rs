//! Cross-crate tests live in this package (`tests/*.rs`), with their fixtures in
//! `tests/fixtures/`. The library only holds what several of them share.

use std::path::{Path, PathBuf};

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
