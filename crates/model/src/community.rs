//! The community document: its charter (the domain) and its roster (the community).
//!
//! One document per community, written by coordinators only. Its id is the community id.
//! The community id is derived from the founder's key and a nonce ([`Genesis`]), so every peer
//! can check who founded it, and the founder is the one coordinator nobody had to appoint.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjType, ROOT, ReadDoc};
use commonplace_base::{CommunityId, MemberId, Timestamp, encode_base32};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::read::View;
use crate::{Role, SCHEMA_VERSION, SchemaError, validate};

/// The founding record of a community: who founded it and a nonce. The community id is
/// `SHA-256("commonplace/community/v1" ‖ founder ‖ nonce)[..16]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The founding coordinator.
    pub founder: MemberId,
    /// Random bytes that make the id unique.
    pub nonce: [u8; 16],
}

impl Genesis {
    /// The community id this record founds.
    pub fn community_id(&self) -> CommunityId {
        let mut h = Sha256::new();
        h.update(b"commonplace/community/v1\0");
        h.update(self.founder.as_bytes());
        h.update(self.nonce);
        let digest = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        CommunityId::from_bytes(id)
    }
}

/// The community's charter: its name and domain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Charter {
    /// The community's name.
    pub name: String,
    /// The shared domain, in a sentence or two.
    pub domain: String,
    /// Key issues the community works on.
    pub issues: Vec<String>,
    /// The values it holds.
    pub values: Vec<String>,
    /// Topics (tags) members use.
    pub topics: Vec<String>,
}

/// One member in the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterMember {
    /// The member's key.
    pub id: MemberId,
    /// The member's name.
    pub name: String,
    /// What the member may do.
    pub role: Role,
    /// Region, if given.
    pub region: Option<String>,
    /// Organisation, if given.
    pub organisation: Option<String>,
    /// When they were added (claimed by the coordinator who added them).
    pub added_at: Timestamp,
    /// The coordinator who wrote the roster entry (from the signed change, not a field).
    pub added_by: Option<MemberId>,
    /// Set once the member was removed.
    pub removed_at: Option<Timestamp>,
    /// For a member whose role may not write (an observer), when that role was given: the
    /// timestamp of the coordinator's change that set it. Their earlier changes, made while
    /// they could write, stay valid (see `verify`). Read from the community document's
    /// history, not stored with the roster (see [`fill_read_only_since`]).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub read_only_since: Option<Timestamp>,
}

impl RosterMember {
    /// Whether the member is in the community now.
    pub fn is_active(&self) -> bool {
        self.removed_at.is_none()
    }
}

/// The roster: everyone who is or was a member.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Roster {
    /// Members by key, removed ones included.
    pub members: BTreeMap<MemberId, RosterMember>,
}

impl Roster {
    /// The role of an active member, or `None` if `id` is not (or no longer) a member.
    pub fn role_of(&self, id: &MemberId) -> Option<Role> {
        self.members
            .get(id)
            .filter(|m| m.is_active())
            .map(|m| m.role)
    }

    /// Active members.
    pub fn active(&self) -> impl Iterator<Item = &RosterMember> {
        self.members.values().filter(|m| m.is_active())
    }

    /// The display name of a member, or a short form of the key.
    pub fn name_of(&self, id: &MemberId) -> String {
        self.members
            .get(id)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| id.short())
    }
}

/// The whole community document, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Community {
    /// The community id.
    pub id: CommunityId,
    /// Its founding record.
    #[cfg_attr(feature = "ts", ts(skip))]
    pub genesis: Genesis,
    /// Its charter.
    pub charter: Charter,
    /// Its roster.
    pub roster: Roster,
    /// When it was founded.
    pub created_at: Timestamp,
}

/// Writes a new community document: charter, and the founder as its first coordinator.
pub fn init<T: Transactable>(
    tx: &mut T,
    genesis: &Genesis,
    charter: &Charter,
    founder_name: &str,
    now: Timestamp,
) -> Result<(), SchemaError> {
    validate::line("community name", &charter.name, 200)?;
    validate::line("your name", founder_name, 120)?;
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "community")?;
    tx.put(ROOT, "community", genesis.community_id().to_string())?;
    tx.put(ROOT, "founder", genesis.founder.to_string())?;
    tx.put(ROOT, "nonce", encode_base32(&genesis.nonce))?;
    tx.put(ROOT, "created_at", now.0)?;
    tx.put_object(ROOT, "charter", ObjType::Map)?;
    write_charter(tx, charter)?;
    tx.put_object(ROOT, "members", ObjType::Map)?;
    put_member(
        tx,
        &genesis.founder,
        founder_name,
        Role::Coordinator,
        None,
        None,
        now,
    )?;
    Ok(())
}

/// Replaces the charter's fields.
pub fn write_charter<T: Transactable>(tx: &mut T, charter: &Charter) -> Result<(), SchemaError> {
    validate::line("community name", &charter.name, 200)?;
    validate::paragraph("domain", &charter.domain, 4_000)?;
    let obj = match tx.get(ROOT, "charter")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, "charter", ObjType::Map)?,
    };
    tx.put(&obj, "name", charter.name.trim())?;
    tx.put(&obj, "domain", charter.domain.trim())?;
    for (key, items) in [
        ("issues", &charter.issues),
        ("values", &charter.values),
        ("topics", &charter.topics),
    ] {
        let list = tx.put_object(&obj, key, ObjType::List)?;
        for (i, item) in items.iter().enumerate() {
            validate::line(key, item, 400)?;
            tx.insert(&list, i, item.trim())?;
        }
    }
    Ok(())
}

/// Adds a member, or updates an existing one (and restores a removed one).
pub fn put_member<T: Transactable>(
    tx: &mut T,
    id: &MemberId,
    name: &str,
    role: Role,
    region: Option<&str>,
    organisation: Option<&str>,
    now: Timestamp,
) -> Result<(), SchemaError> {
    validate::line("name", name, 120)?;
    let members = members_obj(tx)?;
    let key = id.to_string();
    let entry = match tx.get(&members, key.as_str())? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => obj,
        _ => {
            let obj = tx.put_object(&members, key.as_str(), ObjType::Map)?;
            tx.put(&obj, "added_at", now.0)?;
            obj
        }
    };
    tx.put(&entry, "name", name.trim())?;
    tx.put(&entry, "role", role.as_str())?;
    if let Some(r) = region {
        tx.put(&entry, "region", r.trim())?;
    }
    if let Some(o) = organisation {
        tx.put(&entry, "organisation", o.trim())?;
    }
    if tx.get(&entry, "removed_at")?.is_some() {
        tx.delete(&entry, "removed_at")?;
    }
    Ok(())
}

/// Sets a member's own name, region and organisation (an empty region or organisation
/// clears it). Any active member may write this for themself.
pub fn edit_profile<T: Transactable>(
    tx: &mut T,
    id: &MemberId,
    name: &str,
    region: Option<&str>,
    organisation: Option<&str>,
) -> Result<(), SchemaError> {
    validate::line("name", name, 120)?;
    let entry = member_obj(tx, id)?;
    tx.put(&entry, "name", name.trim())?;
    for (key, value) in [("region", region), ("organisation", organisation)] {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => {
                validate::line(key, v, 200)?;
                tx.put(&entry, key, v)?;
            }
            None if tx.get(&entry, key)?.is_some() => tx.delete(&entry, key)?,
            None => {}
        }
    }
    Ok(())
}

/// Changes an existing member's role.
pub fn set_role<T: Transactable>(tx: &mut T, id: &MemberId, role: Role) -> Result<(), SchemaError> {
    let entry = member_obj(tx, id)?;
    tx.put(&entry, "role", role.as_str())?;
    Ok(())
}

/// Marks a member as removed. Their past contributions stay; new ones are refused.
pub fn remove_member<T: Transactable>(
    tx: &mut T,
    id: &MemberId,
    now: Timestamp,
) -> Result<(), SchemaError> {
    let entry = member_obj(tx, id)?;
    tx.put(&entry, "removed_at", now.0)?;
    Ok(())
}

fn members_obj<T: ReadDoc>(tx: &T) -> Result<automerge::ObjId, SchemaError> {
    match tx.get(ROOT, "members")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::Field { field: "members" }),
    }
}

fn member_obj<T: ReadDoc>(tx: &T, id: &MemberId) -> Result<automerge::ObjId, SchemaError> {
    let members = members_obj(tx)?;
    match tx.get(&members, id.to_string().as_str())? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => Err(SchemaError::Input {
            field: "member",
            problem: format!("{id} is not in the roster"),
        }),
    }
}

/// Reads the whole community document.
pub fn read(doc: &Automerge) -> Result<Community, SchemaError> {
    let v = View::now(doc);
    v.check_schema("community")?;
    let founder: MemberId = v
        .str(&ROOT, "founder")?
        .parse()
        .map_err(|_| SchemaError::Field { field: "founder" })?;
    let nonce_text = v.str(&ROOT, "nonce")?;
    let nonce = decode_nonce(&nonce_text).ok_or(SchemaError::Field { field: "nonce" })?;
    let genesis = Genesis { founder, nonce };
    let id = genesis.community_id();
    if v.str(&ROOT, "community")? != id.to_string() {
        return Err(SchemaError::Field { field: "community" });
    }
    let charter_obj = v.req_obj(&ROOT, "charter", ObjType::Map)?;
    let charter = Charter {
        name: v.str(&charter_obj, "name")?,
        domain: v.opt_str(&charter_obj, "domain").unwrap_or_default(),
        issues: v.str_list(&charter_obj, "issues"),
        values: v.str_list(&charter_obj, "values"),
        topics: v.str_list(&charter_obj, "topics"),
    };
    Ok(Community {
        id,
        genesis,
        charter,
        roster: read_roster(v)?,
        created_at: Timestamp(v.opt_i64(&ROOT, "created_at").unwrap_or_default()),
    })
}

/// Fills in [`RosterMember::read_only_since`] from the community document, for a roster
/// that came from somewhere that does not keep it (the store's index record). Only members
/// whose role may not write are looked up.
pub fn fill_read_only_since(doc: &Automerge, roster: &mut Roster) {
    let v = View::now(doc);
    let Some(members_obj) = v.obj(&ROOT, "members", ObjType::Map) else {
        return;
    };
    for (id, m) in roster.members.iter_mut() {
        if m.role.can_contribute() {
            continue;
        }
        m.read_only_since = v
            .obj(&members_obj, &id.to_string(), ObjType::Map)
            .and_then(|entry| v.written_at(&entry, "role"))
            .map(Timestamp);
    }
}

/// The roster as of `heads`: what a change with those dependencies could see.
pub fn roster_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<Roster, SchemaError> {
    if heads.is_empty() {
        return Ok(Roster::default());
    }
    read_roster(View::at(doc, heads))
}

fn read_roster(v: View<'_>) -> Result<Roster, SchemaError> {
    let Some(members_obj) = v.obj(&ROOT, "members", ObjType::Map) else {
        return Ok(Roster::default());
    };
    let mut members = BTreeMap::new();
    for key in v.keys(&members_obj) {
        // Entries that do not parse are ignored rather than failing the whole roster: the
        // roster is written only by coordinators, and a bad entry grants nothing.
        let Ok(id) = key.parse::<MemberId>() else {
            continue;
        };
        let Some(entry) = v.obj(&members_obj, &key, ObjType::Map) else {
            continue;
        };
        let Some(role) = v
            .opt_str(&entry, "role")
            .and_then(|r| r.parse::<Role>().ok())
        else {
            continue;
        };
        members.insert(
            id,
            RosterMember {
                id,
                name: v.opt_str(&entry, "name").unwrap_or_else(|| id.short()),
                role,
                region: v.opt_str(&entry, "region").filter(|s| !s.is_empty()),
                organisation: v.opt_str(&entry, "organisation").filter(|s| !s.is_empty()),
                added_at: Timestamp(v.opt_i64(&entry, "added_at").unwrap_or_default()),
                added_by: crate::read::signer_of_op(&entry),
                removed_at: v.opt_i64(&entry, "removed_at").map(Timestamp),
                read_only_since: if role.can_contribute() {
                    None
                } else {
                    v.written_at(&entry, "role").map(Timestamp)
                },
            },
        );
    }
    Ok(Roster { members })
}

fn decode_nonce(text: &str) -> Option<[u8; 16]> {
    // Same alphabet as every other id.
    let id: commonplace_base::DocId = text.parse().ok()?;
    Some(*id.as_bytes())
}
