//! What members who are not coordinators may write in the community document: their own
//! profile, and admissions — the holder of a coordinator's invitation added to the roster by
//! whichever member's node they reach, with the invitation itself as the authority.
//!
//! Only coordinators write the community document, with two exceptions. An active member may
//! change the name, region and organisation of their own roster entry and nothing else. And
//! an active member (not an observer) may write a change that does exactly this and nothing
//! else —
//!
//! - adds one new key `admission/<invitation id>` at the root, holding an [`Admission`]: the
//!   coordinator-signed invitation and the member it admitted;
//! - adds that member to the roster with the invitation's role (a new entry, nothing else in
//!   the roster touched);
//!
//! where the invitation's signature holds, it is for this community, its issuer was a
//! coordinator as of the change's dependencies, the key was not there yet, and the change is
//! dated no later than the invitation's expiry. Every peer checks this the same way
//! ([`judge`], called by `verify`), by comparing the whole document as of the change's
//! dependencies with the document as of the change — object ids and concurrent values
//! included, so a change cannot slip anything else in.
//!
//! The record also makes an invitation single-use across nodes: once it has synced, no node
//! admits a second holder. Two nodes cut off from each other can each admit one holder of the
//! same code before they meet; both stay members (see docs/threat-model.md).

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use commonplace_base::{CommunityId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::community::{self, Roster};
use crate::invite::SignedInvitation;
use crate::{Role, SchemaError};

/// Root keys holding admissions start with this.
pub const PREFIX: &str = "admission/";

/// Root keys recording a coordinator's revocation of an invitation start with this; the value
/// is when (milliseconds). An admission whose dependencies include the revocation is invalid
/// on every peer; one made concurrently (two nodes apart) stands, like a second use.
pub const REVOKED_PREFIX: &str = "revoked-invitation/";

/// What the admitting node records: the invitation and whom it admitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// The coordinator's signed invitation.
    pub invitation: SignedInvitation,
    /// The member it admitted (the holder's key, authenticated by the connection).
    pub member: MemberId,
}

/// Whether the document records a use of invitation `id` ([`SignedInvitation::id`]).
pub fn used(doc: &Automerge, id: &str) -> bool {
    doc.get(ROOT, format!("{PREFIX}{id}").as_str())
        .ok()
        .flatten()
        .is_some()
}

/// The member admitted with invitation `id`, if the document records its use.
pub fn admitted(doc: &Automerge, id: &str) -> Option<MemberId> {
    match doc.get(ROOT, format!("{PREFIX}{id}").as_str()).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Bytes(b) => postcard::from_bytes::<Admission>(b).ok().map(|a| a.member),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the document records that invitation `id` was revoked.
pub fn revoked(doc: &Automerge, id: &str) -> bool {
    doc.get(ROOT, format!("{REVOKED_PREFIX}{id}").as_str())
        .ok()
        .flatten()
        .is_some()
}

/// Records that invitation `id` was revoked (a coordinator's change to the community document).
pub fn revoke<T: Transactable>(tx: &mut T, id: &str, now: Timestamp) -> Result<(), SchemaError> {
    tx.put(ROOT, format!("{REVOKED_PREFIX}{id}").as_str(), now.0)?;
    Ok(())
}

/// Writes an admission: the roster entry and the record, in one change.
pub fn admit<T: Transactable>(
    tx: &mut T,
    admission: &Admission,
    name: &str,
    now: Timestamp,
) -> Result<(), SchemaError> {
    let key = format!("{PREFIX}{}", admission.invitation.id());
    if tx.get(ROOT, key.as_str())?.is_some() {
        return Err(SchemaError::Input {
            field: "invitation",
            problem: "it was already used; ask for a new one".into(),
        });
    }
    let revoked = format!("{REVOKED_PREFIX}{}", admission.invitation.id());
    if tx.get(ROOT, revoked.as_str())?.is_some() {
        return Err(SchemaError::Input {
            field: "invitation",
            problem: "it was revoked by a coordinator; ask for a new one".into(),
        });
    }
    let members = match tx.get(ROOT, "members")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => return Err(SchemaError::Field { field: "members" }),
    };
    if tx
        .get(&members, admission.member.to_string().as_str())?
        .is_some()
    {
        return Err(SchemaError::Input {
            field: "member",
            problem: "is already in the roster".into(),
        });
    }
    community::put_member(
        tx,
        &admission.member,
        name,
        admission.invitation.invitation.role,
        None,
        None,
        now,
    )?;
    let bytes = postcard::to_stdvec(admission).map_err(|e| SchemaError::Input {
        field: "invitation",
        problem: e.to_string(),
    })?;
    tx.put(ROOT, key.as_str(), ScalarValue::Bytes(bytes))?;
    Ok(())
}

/// The verdict on a community change by a member who is not a coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Neither an admission nor an edit of the signer's own profile: refused.
    NotAnAdmission,
    /// It changes only the signer's own name, region or organisation.
    OwnProfile,
    /// A valid admission of this member.
    Admits(MemberId),
    /// It records an admission but breaks a rule: what is wrong.
    Invalid(String),
}

/// Judges the change `hash` (already applied to `doc`) by `signer`, with dependencies `deps`,
/// dated `time`, as an admission to `community`. `before` is the roster as of `deps`.
pub fn judge(
    doc: &Automerge,
    deps: &[ChangeHash],
    hash: ChangeHash,
    community: &CommunityId,
    signer: &MemberId,
    time: Timestamp,
    before: &Roster,
) -> Judgement {
    let was = root_at(doc, deps);
    let now = root_at(doc, &[hash]);
    let added: Vec<&String> = now.keys().filter(|k| !was.contains_key(*k)).collect();
    if !added.iter().any(|k| k.starts_with(PREFIX)) {
        let active = before.members.get(signer).is_some_and(|m| m.is_active());
        return if active && own_profile_only(&was, &now, signer) {
            Judgement::OwnProfile
        } else {
            Judgement::NotAnAdmission
        };
    }
    match check(&was, &now, &added, community, signer, time, before) {
        Ok(member) => Judgement::Admits(member),
        Err(e) => Judgement::Invalid(e),
    }
}

fn check(
    was: &Fields,
    now: &Fields,
    added: &[&String],
    community: &CommunityId,
    signer: &MemberId,
    time: Timestamp,
    before: &Roster,
) -> Result<MemberId, String> {
    if !matches!(before.members.get(signer), Some(m) if m.is_active() && m.role.can_contribute()) {
        return Err("its signer may not admit members".into());
    }
    let [key] = added else {
        return Err("it adds more than the admission record".into());
    };
    let id = &key[PREFIX.len()..];
    if was.contains_key(&format!("{REVOKED_PREFIX}{id}")) {
        return Err("the invitation was revoked".into());
    }
    for (k, v) in was {
        if k != "members" && now.get(k) != Some(v) {
            return Err(format!("it changes '{k}'"));
        }
    }
    // The roster: the same object, every entry as it was, one entry more.
    let (was_members, now_members) = match (was.get("members"), now.get("members")) {
        (Some(a), Some(b)) => (single_map(a)?, single_map(b)?),
        _ => return Err("the roster is missing".into()),
    };
    if was_members.0 != now_members.0 {
        return Err("it replaces the roster".into());
    }
    for (k, v) in was_members.1 {
        if now_members.1.get(k) != Some(v) {
            return Err(format!("it changes the roster entry of {k}"));
        }
    }
    let new: Vec<&String> = now_members
        .1
        .keys()
        .filter(|k| !was_members.1.contains_key(*k))
        .collect();
    let [member_key] = new.as_slice() else {
        return Err("it does not add exactly one member".into());
    };
    let member: MemberId = member_key
        .parse()
        .map_err(|_| "it adds a roster entry that is not a member id".to_string())?;
    let entry = single_map(&now_members.1[*member_key])?;
    for field in entry.1.keys() {
        if !matches!(field.as_str(), "name" | "role" | "added_at") {
            return Err(format!("the new roster entry holds '{field}'"));
        }
    }
    let role = match entry.1.get("role").map(Vec::as_slice) {
        Some([Tree::Scalar(ScalarValue::Str(r))]) => r.parse::<Role>().ok(),
        _ => None,
    };
    // The record.
    let bytes = match now.get(*key).map(Vec::as_slice) {
        Some([Tree::Scalar(ScalarValue::Bytes(b))]) => b,
        _ => return Err("the admission record is not one value".into()),
    };
    let admission: Admission =
        postcard::from_bytes(bytes).map_err(|_| "the admission record does not parse")?;
    let inv = &admission.invitation;
    inv.verify().map_err(|e| e.to_string())?;
    if inv.id() != id {
        return Err("the record is filed under another invitation".into());
    }
    if inv.invitation.community != *community {
        return Err("the invitation is for another community".into());
    }
    if before.role_of(&inv.invitation.issuer) != Some(Role::Coordinator) {
        return Err("the invitation's issuer was not a coordinator".into());
    }
    if admission.member != member {
        return Err("the record names another member than the roster entry".into());
    }
    if role != Some(inv.invitation.role) {
        return Err("the new member's role is not the invitation's".into());
    }
    if time > inv.invitation.expires_at {
        return Err("it is dated after the invitation expired".into());
    }
    Ok(member)
}

/// Fields of a roster entry its member may change.
const OWN_FIELDS: [&str; 3] = ["name", "region", "organisation"];

/// Whether `now` differs from `was` only in the name, region or organisation of `signer`'s
/// own roster entry (same object), each a single text value, the name not empty.
fn own_profile_only(was: &Fields, now: &Fields, signer: &MemberId) -> bool {
    if was.len() != now.len()
        || was
            .iter()
            .any(|(k, v)| k != "members" && now.get(k) != Some(v))
    {
        return false;
    }
    let (Some(a), Some(b)) = (was.get("members"), now.get("members")) else {
        return false;
    };
    let (Ok(a), Ok(b)) = (single_map(a), single_map(b)) else {
        return false;
    };
    let me = signer.to_string();
    if a.0 != b.0
        || a.1.len() != b.1.len()
        || a.1.iter().any(|(k, v)| *k != me && b.1.get(k) != Some(v))
    {
        return false;
    }
    let (Some(x), Some(y)) = (a.1.get(&me), b.1.get(&me)) else {
        return false;
    };
    let (Ok(x), Ok(y)) = (single_map(x), single_map(y)) else {
        return false;
    };
    if x.0 != y.0 {
        return false;
    }
    let keys: std::collections::BTreeSet<&String> = x.1.keys().chain(y.1.keys()).collect();
    keys.into_iter().all(|k| {
        let (old, new) = (x.1.get(k), y.1.get(k));
        if !OWN_FIELDS.contains(&k.as_str()) {
            return old == new;
        }
        match new.map(Vec::as_slice) {
            None => k != "name",
            Some([Tree::Scalar(ScalarValue::Str(t))]) => {
                let n = t.chars().count();
                (k != "name" || n > 0) && n <= 400 && !t.contains('\n')
            }
            Some(_) => false,
        }
    })
}

/// A document's contents for comparison: every value of every key (concurrent ones too) and
/// the id of every object, so that replacing an object by an equal-looking one shows.
#[derive(Debug, Clone, PartialEq)]
enum Tree {
    Scalar(ScalarValue),
    Map(String, Fields),
    List(String, Vec<Vec<Tree>>),
    Text(String, String),
}

type Fields = BTreeMap<String, Vec<Tree>>;

fn single_map(values: &[Tree]) -> Result<(&String, &Fields), String> {
    match values {
        [Tree::Map(id, fields)] => Ok((id, fields)),
        _ => Err("a roster part is not a single map".into()),
    }
}

fn root_at(doc: &Automerge, heads: &[ChangeHash]) -> Fields {
    fields_at(doc, &ROOT, heads, 0)
}

/// Deeper than any document of ours nests; anything below is compared by object id only.
const MAX_DEPTH: usize = 16;

fn fields_at(doc: &Automerge, obj: &ObjId, heads: &[ChangeHash], depth: usize) -> Fields {
    let mut out = Fields::new();
    for key in doc.keys_at(obj, heads) {
        let values = doc
            .get_all_at(obj, key.as_str(), heads)
            .unwrap_or_default()
            .into_iter()
            .map(|(v, id)| tree(doc, v, &id, heads, depth))
            .collect();
        out.insert(key, values);
    }
    out
}

fn tree(doc: &Automerge, v: Value<'_>, id: &ObjId, heads: &[ChangeHash], depth: usize) -> Tree {
    let name = id.to_string();
    match v {
        Value::Scalar(s) => Tree::Scalar(s.into_owned()),
        Value::Object(_) if depth >= MAX_DEPTH => Tree::Text(name, String::new()),
        Value::Object(ObjType::Map | ObjType::Table) => {
            Tree::Map(name, fields_at(doc, id, heads, depth + 1))
        }
        Value::Object(ObjType::List) => {
            let items = (0..doc.length_at(id, heads))
                .map(|i| {
                    doc.get_all_at(id, i, heads)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(v, item)| tree(doc, v, &item, heads, depth + 1))
                        .collect()
                })
                .collect();
            Tree::List(name, items)
        }
        Value::Object(ObjType::Text) => {
            Tree::Text(name, doc.text_at(id, heads).unwrap_or_default())
        }
    }
}
