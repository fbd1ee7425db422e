//! Signed bundles, for USB sticks and e-mail: `export` and `import`.

use std::path::Path;

use anyhow::Result;

use crate::Ctx;
use crate::community::CommunityArg;

/// Writes a signed bundle of everything about a community to `path`.
pub(crate) fn export(cx: &Ctx, community: &CommunityArg, path: &Path) -> Result<()> {
    let c = cx.node.find_community(community.community.as_deref())?;
    let size = cx.node.export_to_file(&c, path)?;
    cx.out.exported(path, size)
}

/// Verifies and imports a bundle; one bad change refuses the whole file.
pub(crate) fn import(cx: &Ctx, file: &Path) -> Result<()> {
    let report = cx.node.import_file(file)?;
    cx.out.imported(&report)
}
