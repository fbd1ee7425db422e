//! How much work an Automerge change chunk claims, read before Automerge reads it.
//!
//! Automerge stores a change's operations in columns, each run-length encoded: a few bytes can
//! say "the next 2^40 rows hold the same value". `automerge::Change::from_bytes` believes such a
//! claim and walks every row, so a 58-byte change from a member can cost a peer seconds of CPU
//! and gigabytes of memory before it is refused (found by fuzzing, docs/fuzzing.md), and a
//! compressed change (chunk type 2) is inflated without a bound. This module reads only the
//! chunk's header and the run lengths of its columns, in time linear in its bytes, so the gate
//! can refuse a change whose claimed size no Commonplace change can have before Automerge sees
//! it. It does not check that the change is otherwise valid: Automerge does that next.

use std::io::Read;

/// Most operations one change may hold. The largest change Commonplace writes replaces a
/// 1,000,000-character entry body or event notes: a million deletions and a million
/// insertions, about 2 million operations.
pub const MAX_CHANGE_OPS: u64 = 1 << 22;

/// Most operations the changes verified together (one document's batch) may hold in all.
pub const MAX_BATCH_OPS: u64 = 1 << 24;

/// Most bytes a compressed change may inflate to (twice the most a sync frame's changes may
/// inflate to).
pub const MAX_INFLATED_CHANGE: usize = 64 << 20;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// Why a change chunk was refused before Automerge read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("the change is cut short or does not parse ({0})")]
    Malformed(&'static str),
    #[error("the change claims {claimed} or more operations; the limit is {limit}")]
    TooManyOps { claimed: u64, limit: u64 },
    #[error("the compressed change inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
}

/// An upper bound on the operations the change chunk `bytes` holds: the most rows any of its
/// columns claims (and, for a column of list lengths, the most entries its lists claim in all).
/// Refuses chunks that are not changes, that are cut short, or that claim more than
/// [`MAX_CHANGE_OPS`].
pub fn claimed_ops(bytes: &[u8]) -> Result<u64, ChunkError> {
    let mut r = Reader(bytes);
    if r.take(4)? != MAGIC {
        return Err(ChunkError::Malformed("not an Automerge chunk"));
    }
    r.take(4)?; // checksum: Automerge checks it
    let kind = r.byte()?;
    let len = usize::try_from(r.uleb()?).map_err(|_| ChunkError::Malformed("chunk length"))?;
    let data = r.take(len)?;
    match kind {
        CHANGE => change_body(data),
        COMPRESSED_CHANGE => {
            let mut inflated = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_INFLATED_CHANGE as u64 + 1)
                .read_to_end(&mut inflated)
                .map_err(|_| ChunkError::Malformed("compressed change does not inflate"))?;
            if inflated.len() > MAX_INFLATED_CHANGE {
                return Err(ChunkError::TooLarge {
                    limit: MAX_INFLATED_CHANGE,
                });
            }
            change_body(&inflated)
        }
        _ => Err(ChunkError::Malformed("not a change chunk")),
    }
}

fn change_body(data: &[u8]) -> Result<u64, ChunkError> {
    let mut r = Reader(data);
    let deps = r.count()?;
    for _ in 0..deps {
        r.take(32)?;
    }
    r.bytes()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    r.bytes()?; // message
    let actors = r.count()?;
    for _ in 0..actors {
        r.bytes()?;
    }
    let columns = r.count()?;
    let mut specs = Vec::with_capacity(columns);
    for _ in 0..columns {
        let spec = r.uleb()?;
        let len = usize::try_from(r.uleb()?).map_err(|_| ChunkError::Malformed("column length"))?;
        specs.push((spec, len));
    }
    let mut most = 0;
    for (spec, len) in specs {
        let column = r.take(len)?;
        if spec & 0b1000 != 0 {
            // Automerge refuses compressed columns in a change; nothing to count.
            continue;
        }
        most = most.max(column_rows(spec & 0b111, column)?);
    }
    Ok(most)
}

/// The rows a column claims, by its type (the low three bits of its specification).
fn column_rows(kind: u64, data: &[u8]) -> Result<u64, ChunkError> {
    let mut r = Reader(data);
    let mut rows = Rows::default();
    match kind {
        // Boolean: alternating run lengths, false first.
        4 => {
            while !r.is_empty() {
                rows.add(r.uleb()?, 0)?;
            }
        }
        // Raw value bytes: as long as the value metadata says, no rows of their own.
        7 => {}
        // Run-length encoded: group cardinality (0), actor (1), uLEB (2), delta (3), string
        // (5), value metadata (6).
        _ => {
            while !r.is_empty() {
                let count = r.sleb()?;
                if count > 0 {
                    let value = value(kind, &mut r)?;
                    rows.add(count as u64, value)?;
                } else if count < 0 {
                    for _ in 0..count.unsigned_abs() {
                        let value = value(kind, &mut r)?;
                        rows.add(1, value)?;
                    }
                } else {
                    rows.add(r.uleb()?, 0)?;
                }
            }
        }
    }
    Ok(rows.rows.max(rows.listed))
}

/// One value of a run-length encoded column; for a group column, the length of the list it
/// opens (counted too: the rows of the columns it groups).
fn value(kind: u64, r: &mut Reader<'_>) -> Result<u64, ChunkError> {
    match kind {
        0 => r.uleb(),
        3 => r.sleb().map(|_| 0),
        5 => r.bytes().map(|_| 0),
        _ => r.uleb().map(|_| 0),
    }
}

#[derive(Default)]
struct Rows {
    rows: u64,
    listed: u64,
}

impl Rows {
    fn add(&mut self, run: u64, each: u64) -> Result<(), ChunkError> {
        self.rows = self.rows.saturating_add(run);
        self.listed = self.listed.saturating_add(run.saturating_mul(each));
        let claimed = self.rows.max(self.listed);
        if claimed > MAX_CHANGE_OPS {
            return Err(ChunkError::TooManyOps {
                claimed,
                limit: MAX_CHANGE_OPS,
            });
        }
        Ok(())
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ChunkError> {
        if n > self.0.len() {
            return Err(ChunkError::Malformed("cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, ChunkError> {
        Ok(self.take(1)?[0])
    }

    fn uleb(&mut self) -> Result<u64, ChunkError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(ChunkError::Malformed("number too large"));
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ChunkError::Malformed("number too large"))
    }

    fn sleb(&mut self) -> Result<i64, ChunkError> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift == 63 && b != 0 && b != 0x7f {
                return Err(ChunkError::Malformed("number too large"));
            }
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 63 {
                return Err(ChunkError::Malformed("number too large"));
            }
        }
    }

    /// A count of things that take at least a byte each: never more than the bytes left.
    fn count(&mut self) -> Result<usize, ChunkError> {
        let n = self.uleb()?;
        if n > self.0.len() as u64 {
            return Err(ChunkError::Malformed("count larger than the change"));
        }
        Ok(n as usize)
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self) -> Result<&'a [u8], ChunkError> {
        let n = usize::try_from(self.uleb()?).map_err(|_| ChunkError::Malformed("length"))?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc};

    fn changes_of(doc: &mut Automerge) -> Vec<automerge::Change> {
        doc.get_changes(&[])
    }

    /// The claimed count is never below the operations Automerge finds in the change, on the
    /// shapes Commonplace writes: maps, text, lists, deletions, counters, marks.
    #[test]
    fn claims_cover_every_operation_of_real_changes() {
        let mut doc = Automerge::new();
        doc.set_actor(ActorId::from([3u8; 32].as_slice()));
        let mut tx = doc.transaction();
        tx.put(ROOT, "title", "Safer walking routes").unwrap();
        let text = tx.put_object(ROOT, "body", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, &"é mixed text ".repeat(500))
            .unwrap();
        let list = tx.put_object(ROOT, "tags", ObjType::List).unwrap();
        for i in 0..40 {
            tx.insert(&list, i, format!("tag{i}")).unwrap();
        }
        tx.put(ROOT, "count", automerge::ScalarValue::counter(1))
            .unwrap();
        tx.commit();
        let mut tx = doc.transaction();
        tx.splice_text(&text, 10, 3000, "").unwrap();
        tx.delete(&list, 3).unwrap();
        tx.increment(ROOT, "count", 5).unwrap();
        tx.put(ROOT, "title", "Walking routes").unwrap();
        tx.commit();
        assert!(doc.text(&text).unwrap().starts_with("é mixed"));
        for change in changes_of(&mut doc) {
            let claimed = claimed_ops(change.raw_bytes()).unwrap();
            assert!(
                claimed >= change.len() as u64,
                "{claimed} < {}",
                change.len()
            );
            assert!(
                claimed <= change.len() as u64 * 2 + 2,
                "{claimed} for {}",
                change.len()
            );
            // The compressed form claims the same.
            let mut c = change.clone();
            assert_eq!(claimed_ops(c.bytes().as_ref()).unwrap(), claimed);
        }
    }

    /// A rewrite of a text claims two rows per character (a deletion and an insertion), so
    /// a rewrite of the largest body Commonplace accepts is within the limit.
    #[test]
    fn a_full_rewrite_claims_two_rows_a_character_and_the_largest_is_within_the_limit() {
        let n = 50_000;
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let text = tx.put_object(ROOT, "body", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, &"a".repeat(n)).unwrap();
        tx.commit();
        let mut tx = doc.transaction();
        tx.splice_text(&text, 0, n as isize, &"b".repeat(n))
            .unwrap();
        tx.commit();
        let rewrite = doc.get_changes(&[]).pop().unwrap();
        let claimed = claimed_ops(rewrite.raw_bytes()).unwrap();
        assert!(
            claimed >= 2 * n as u64 && claimed <= 2 * n as u64 + 8,
            "{claimed}"
        );
        let largest = crate::entry::MAX_ENTRY_BODY.max(crate::event::MAX_NOTES) as u64;
        assert!(2 * largest + 8 <= MAX_CHANGE_OPS);
    }

    /// A change chunk from parts, with a correct checksum, as a hostile member would sign it.
    pub(crate) fn forged_change(columns: &[(u64, Vec<u8>)]) -> Vec<u8> {
        use sha2::Digest;
        let mut body = vec![0u8]; // no dependencies
        body.push(32);
        body.extend([9u8; 32]); // actor
        body.extend([1, 1, 0, 0, 0]); // seq, start op, time, empty message, no other actors
        body.push(columns.len() as u8);
        for (spec, data) in columns {
            uleb(&mut body, *spec);
            uleb(&mut body, data.len() as u64);
        }
        for (_, data) in columns {
            body.extend(data);
        }
        let mut hashed = vec![CHANGE];
        uleb(&mut hashed, body.len() as u64);
        hashed.extend(&body);
        let hash = sha2::Sha256::digest(&hashed);
        let mut chunk = MAGIC.to_vec();
        chunk.extend(&hash[..4]);
        chunk.extend(hashed);
        chunk
    }

    pub(crate) fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn sleb(out: &mut Vec<u8>, mut v: i64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A run of `n` copies of one uLEB value, as an RLE column writes it.
    pub(crate) fn run(n: i64, value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        sleb(&mut out, n);
        uleb(&mut out, value);
        out
    }

    #[test]
    fn a_run_claiming_more_than_the_limit_is_refused() {
        // action column (id 4, uLEB): 2^40 "set" operations in six bytes.
        let chunk = forged_change(&[(0x42, run(1 << 40, 1))]);
        assert!(chunk.len() < 64);
        assert!(matches!(
            claimed_ops(&chunk),
            Err(ChunkError::TooManyOps { .. })
        ));
        // Just at the limit is fine; one more is not.
        assert_eq!(
            claimed_ops(&forged_change(&[(0x42, run(MAX_CHANGE_OPS as i64, 1))])),
            Ok(MAX_CHANGE_OPS)
        );
        assert!(claimed_ops(&forged_change(&[(0x42, run(MAX_CHANGE_OPS as i64 + 1, 1))])).is_err());
    }

    #[test]
    fn boolean_null_and_list_length_claims_are_counted() {
        // insert column (id 3, boolean): alternating runs.
        let mut b = Vec::new();
        uleb(&mut b, 0);
        uleb(&mut b, MAX_CHANGE_OPS + 1);
        assert!(claimed_ops(&forged_change(&[(0x34, b)])).is_err());
        // A null run in an actor column.
        let mut nulls = vec![0u8];
        uleb(&mut nulls, 1 << 50);
        assert!(claimed_ops(&forged_change(&[(0x01, nulls)])).is_err());
        // A predecessor list column (id 7, group): 1,000 rows each opening a list of 2^20.
        assert!(claimed_ops(&forged_change(&[(0x70, run(1000, 1 << 20))])).is_err());
        assert_eq!(
            claimed_ops(&forged_change(&[(0x70, run(1000, 2))])),
            Ok(2000)
        );
        // Literal runs count one row each.
        let mut lit = Vec::new();
        sleb(&mut lit, -3);
        for v in [1u64, 2, 3] {
            uleb(&mut lit, v);
        }
        assert_eq!(claimed_ops(&forged_change(&[(0x42, lit)])), Ok(3));
    }

    #[test]
    fn a_compressed_change_that_inflates_without_end_is_refused() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_INFLATED_CHANGE >> 20) + 1 {
            enc.write_all(&zeros).unwrap();
        }
        let deflated = enc.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(COMPRESSED_CHANGE);
        uleb(&mut chunk, deflated.len() as u64);
        chunk.extend(&deflated);
        assert!(deflated.len() < 100_000);
        assert_eq!(
            claimed_ops(&chunk),
            Err(ChunkError::TooLarge {
                limit: MAX_INFLATED_CHANGE
            })
        );
    }

    #[test]
    fn cut_short_or_foreign_bytes_are_malformed() {
        let chunk = forged_change(&[(0x42, run(3, 1))]);
        for cut in 0..chunk.len() {
            assert!(
                matches!(claimed_ops(&chunk[..cut]), Err(ChunkError::Malformed(_))),
                "cut at {cut}"
            );
        }
        let mut doc_chunk = chunk.clone();
        doc_chunk[8] = 0; // a document chunk
        assert!(claimed_ops(&doc_chunk).is_err());
        assert!(claimed_ops(&[0xff; 80]).is_err());
    }
}
