//! Who this profile is: the member's name, region and organisation, in the profile and in the
//! roster of every community they belong to.

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_model::{DocRef, SchemaError, community};
use commonplace_store::Commit;
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// Who this profile is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Identity {
    /// The member id (public key).
    pub member: MemberId,
    /// Display name.
    pub name: String,
    /// Region, if given.
    pub region: Option<String>,
    /// Organisation, if given.
    pub organisation: Option<String>,
    /// The profile directory.
    pub profile: String,
    /// When the key was last backed up (or restored from a sealed backup); `null` until
    /// then, and front ends remind.
    pub backed_up_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdentityRecord {
    pub(crate) name: String,
    pub(crate) region: Option<String>,
    pub(crate) organisation: Option<String>,
}

impl IdentityRecord {
    pub(crate) fn new(name: &str, region: Option<&str>, organisation: Option<&str>) -> Self {
        IdentityRecord {
            name: name.trim().to_owned(),
            region: clean(region),
            organisation: clean(organisation),
        }
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, NodeError> {
        postcard::to_stdvec(self).map_err(|e| {
            NodeError::Invalid(SchemaError::Input {
                field: "identity",
                problem: e.to_string(),
            })
        })
    }
}

impl Node {
    /// Who this profile is.
    pub fn identity(&self) -> Result<Identity, NodeError> {
        let rec: IdentityRecord = self
            .store()
            .meta("identity")?
            .and_then(|b| postcard::from_bytes(&b).ok())
            .ok_or_else(|| NodeError::NoIdentity(self.profile().dir().display().to_string()))?;
        Ok(Identity {
            member: self.member_id(),
            name: rec.name,
            region: rec.region,
            organisation: rec.organisation,
            profile: self.profile().dir().display().to_string(),
            backed_up_at: self.backed_up_at()?,
        })
    }

    /// Changes this member's name, region and organisation: in the profile, and in the
    /// roster of every community they are an active member of (a member may write their own
    /// entry; peers verify that nothing else changed). Returns the identity as stored.
    pub fn update_profile(
        &self,
        name: &str,
        region: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Identity, NodeError> {
        commonplace_model::validate::line("your name", name, 120)?;
        let record = IdentityRecord::new(name, region, organisation);
        let bytes = record.encode()?;
        for c in self.community_ids()? {
            self.write_profile_entry(&c, &record)?;
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![("identity".into(), bytes)],
        })?;
        self.identity()
    }

    /// Writes this member's name, region and organisation as stored in the profile into
    /// their roster entry in `community`, if they are an active member and it differs (a
    /// newcomer's admission carries only the name: the admitting node writes the entry, and
    /// only the member themself may write the rest). Returns whether it wrote a change.
    pub(crate) fn publish_profile(&self, community: &CommunityId) -> Result<bool, NodeError> {
        let me = self.identity()?;
        let record =
            IdentityRecord::new(&me.name, me.region.as_deref(), me.organisation.as_deref());
        self.write_profile_entry(community, &record)
    }

    fn write_profile_entry(
        &self,
        c: &CommunityId,
        record: &IdentityRecord,
    ) -> Result<bool, NodeError> {
        let me = self.member_id();
        let roster = self.community(c)?.roster;
        let Some(entry) = roster.members.get(&me).filter(|m| m.is_active()) else {
            return Ok(false);
        };
        if entry.name == record.name
            && entry.region == record.region
            && entry.organisation == record.organisation
        {
            return Ok(false);
        }
        self.write(DocRef::community(*c), false, |tx, _| {
            community::edit_profile(
                tx,
                &me,
                &record.name,
                record.region.as_deref(),
                record.organisation.as_deref(),
            )
        })?;
        Ok(true)
    }
}

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
