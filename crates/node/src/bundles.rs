//! Export and import: a community as a signed bundle file, verified through the ingest gate
//! on the way in.

use std::path::Path;

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_model::bundle::{BundleBody, BundleDoc};
use commonplace_model::{DocKind, DocRef, bundle};
use commonplace_store::StoreError;
use serde::Serialize;

use crate::ingest::{Arrived, Durability};
use crate::profile::write_atomically;
use crate::{Node, NodeError};

/// What an import brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// The community.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// Who exported the bundle.
    pub exporter: MemberId,
    /// Changes that were new here.
    pub new_changes: usize,
    /// Changes already known.
    pub known_changes: usize,
    /// Documents that changed.
    pub documents_changed: usize,
}

impl Node {
    /// Everything about a community, with every signature, as a signed bundle.
    pub fn export(&self, community: &CommunityId) -> Result<Vec<u8>, NodeError> {
        let c = self.community(community)?;
        let mut docs = Vec::new();
        let mut ids = self.store().docs_of(community)?;
        // The community document first: importers judge every other document by its roster.
        ids.sort_by_key(|(id, rec)| (rec.kind != DocKind::Community, *id));
        for (id, rec) in ids {
            docs.push(BundleDoc {
                id,
                kind: rec.kind,
                // Each actor's newest change signed, vouching for its earlier ones.
                changes: commonplace_model::with_vouching_signatures(self.store().changes(&id)?)
                    .map_err(|e| StoreError::Corrupt {
                        what: "change",
                        detail: e.to_string(),
                    })?,
            });
        }
        let body = BundleBody {
            genesis: c.genesis,
            created_at: Timestamp::now(),
            docs,
        };
        Ok(bundle::encode(&body, self.secret_key())?)
    }

    /// Verifies and stores a bundle, through the ingest gate (see `ingest.rs`). One bad
    /// change refuses the whole bundle and stores nothing.
    pub fn import(&self, bytes: &[u8]) -> Result<ImportReport, NodeError> {
        let b = bundle::decode(bytes)?;
        let genesis = b.body.genesis;
        let community = genesis.community_id();
        let batches: Vec<Arrived<'_>> = b
            .body
            .docs
            .iter()
            .map(|d| Arrived {
                doc: DocRef {
                    community,
                    kind: d.kind,
                    id: d.id,
                },
                changes: &d.changes,
            })
            .collect();
        let (c, total, ingested) = self.ingest(&genesis, &batches, Durability::Durable)?;
        Ok(ImportReport {
            community,
            name: c.charter.name,
            exporter: b.exporter,
            new_changes: ingested.new_changes,
            known_changes: total - ingested.new_changes,
            documents_changed: ingested.heads.len(),
        })
    }

    /// Exports a community as a signed bundle file (written atomically); returns its size.
    pub fn export_to_file(&self, community: &CommunityId, path: &Path) -> Result<usize, NodeError> {
        let bytes = self.export(community)?;
        write_atomically(path, &bytes)?;
        Ok(bytes.len())
    }

    /// Verifies and imports a bundle file; one bad change refuses all of it.
    pub fn import_file(&self, path: &Path) -> Result<ImportReport, NodeError> {
        self.import(&read_bundle_file(path)?)
    }
}

/// Reads a bundle file, looking at its header before reading the rest: the header says how
/// long the bundle is, so a stream that is not a bundle (`/dev/zero`) or claims more than a
/// bundle may hold is refused after a few bytes, and no more than the declared length is read.
fn read_bundle_file(path: &Path) -> Result<Vec<u8>, NodeError> {
    use std::io::Read;
    let io = |e| NodeError::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(bundle::HEADER_BYTES);
    (&mut file)
        .take(bundle::HEADER_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let total = bundle::declared_len(&bytes)?;
    bytes.reserve(usize::try_from(total).unwrap_or(0).min(64 << 20));
    // One byte more than declared, so that trailing bytes are noticed.
    let rest = total + 1 - bytes.len() as u64;
    file.take(rest).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
