//! Typed reads from Automerge documents, now or at given heads.

use automerge::{Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, Value};
use commonplace_base::{MemberId, actor};

use crate::SchemaError;

/// A read-only view of a document at its current state or at some heads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub doc: &'a Automerge,
    pub heads: Option<&'a [ChangeHash]>,
}

impl<'a> View<'a> {
    pub fn now(doc: &'a Automerge) -> Self {
        View { doc, heads: None }
    }

    pub fn at(doc: &'a Automerge, heads: &'a [ChangeHash]) -> Self {
        View {
            doc,
            heads: Some(heads),
        }
    }

    fn get(&self, obj: &ObjId, key: &str) -> Option<(Value<'a>, ObjId)> {
        let got = match self.heads {
            None => self.doc.get(obj, key),
            Some(h) => self.doc.get_at(obj, key, h),
        };
        got.ok().flatten()
    }

    /// The timestamp of the change that wrote the value now at `key` (claimed by its signer).
    pub fn written_at(&self, obj: &ObjId, key: &str) -> Option<i64> {
        let (_, op) = self.get(obj, key)?;
        let hash = self.doc.hash_for_opid(&op)?;
        Some(self.doc.get_change_meta_by_hash(&hash)?.timestamp)
    }

    pub fn keys(&self, obj: &ObjId) -> Vec<String> {
        match self.heads {
            None => self.doc.keys(obj).collect(),
            Some(h) => self.doc.keys_at(obj, h).collect(),
        }
    }

    fn get_index(&self, obj: &ObjId, i: usize) -> Option<(Value<'a>, ObjId)> {
        let got = match self.heads {
            None => self.doc.get(obj, i),
            Some(h) => self.doc.get_at(obj, i, h),
        };
        got.ok().flatten()
    }

    fn len(&self, obj: &ObjId) -> usize {
        match self.heads {
            None => self.doc.length(obj),
            Some(h) => self.doc.length_at(obj, h),
        }
    }

    pub fn opt_str(&self, obj: &ObjId, key: &str) -> Option<String> {
        self.get(obj, key)
            .and_then(|(v, _)| v.as_str().map(str::to_owned))
    }

    pub fn str(&self, obj: &ObjId, key: &'static str) -> Result<String, SchemaError> {
        self.opt_str(obj, key)
            .ok_or(SchemaError::Field { field: key })
    }

    pub fn opt_i64(&self, obj: &ObjId, key: &str) -> Option<i64> {
        self.get(obj, key).and_then(|(v, _)| match v {
            Value::Scalar(s) => match s.as_ref() {
                automerge::ScalarValue::Int(i) | automerge::ScalarValue::Timestamp(i) => Some(*i),
                automerge::ScalarValue::Uint(u) => i64::try_from(*u).ok(),
                _ => None,
            },
            Value::Object(_) => None,
        })
    }

    pub fn i64(&self, obj: &ObjId, key: &'static str) -> Result<i64, SchemaError> {
        self.opt_i64(obj, key)
            .ok_or(SchemaError::Field { field: key })
    }

    pub fn opt_bool(&self, obj: &ObjId, key: &str) -> Option<bool> {
        self.get(obj, key).and_then(|(v, _)| match v {
            Value::Scalar(s) => match s.as_ref() {
                automerge::ScalarValue::Boolean(b) => Some(*b),
                _ => None,
            },
            Value::Object(_) => None,
        })
    }

    /// The object stored under `key`, with the id of the op that created it.
    pub fn obj(&self, obj: &ObjId, key: &str, ty: ObjType) -> Option<ObjId> {
        match self.get(obj, key) {
            Some((Value::Object(t), id)) if t == ty => Some(id),
            _ => None,
        }
    }

    pub fn req_obj(
        &self,
        obj: &ObjId,
        key: &'static str,
        ty: ObjType,
    ) -> Result<ObjId, SchemaError> {
        self.obj(obj, key, ty)
            .ok_or(SchemaError::Field { field: key })
    }

    /// A list of strings (tags, key issues). Non-string items are skipped.
    pub fn str_list(&self, obj: &ObjId, key: &str) -> Vec<String> {
        let Some(list) = self.obj(obj, key, ObjType::List) else {
            return Vec::new();
        };
        (0..self.len(&list))
            .filter_map(|i| self.get_index(&list, i))
            .filter_map(|(v, _)| v.as_str().map(str::to_owned))
            .collect()
    }

    pub fn text(&self, obj: &ObjId) -> Result<String, SchemaError> {
        let t = match self.heads {
            None => self.doc.text(obj),
            Some(h) => self.doc.text_at(obj, h),
        };
        Ok(t?)
    }

    /// The member who wrote the value currently under `key`.
    pub fn writer_of(&self, obj: &ObjId, key: &str) -> Option<MemberId> {
        self.get(obj, key).and_then(|(_, id)| signer_of_op(&id))
    }

    pub fn check_schema(&self, kind: &'static str) -> Result<(), SchemaError> {
        let version = self.i64(&ROOT, "schema")?;
        if version > crate::SCHEMA_VERSION {
            return Err(SchemaError::Version {
                found: version,
                supported: crate::SCHEMA_VERSION,
            });
        }
        if self.str(&ROOT, "kind")? != kind {
            return Err(SchemaError::Field { field: "kind" });
        }
        Ok(())
    }
}

/// The member whose actor made the op `id` (an object id or a value's op id).
pub(crate) fn signer_of_op(id: &ObjId) -> Option<MemberId> {
    match id {
        ObjId::Root => None,
        ObjId::Id(_, actor_id, _) => actor::signer_of(actor_id.to_bytes()).ok(),
    }
}
