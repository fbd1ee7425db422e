//! Communities and their rosters: founding, the charter, members and roles, and the role
//! checks every write makes.

use commonplace_base::{CommunityId, MemberId};
use commonplace_model::{
    ActivityKind, Charter, Community, DocRef, Genesis, Role, RosterMember, community,
};
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// A new community's charter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewCommunity {
    /// Name.
    pub name: String,
    /// Domain statement.
    pub domain: String,
    /// Key issues.
    pub issues: Vec<String>,
    /// Values.
    pub values: Vec<String>,
    /// Topics.
    pub topics: Vec<String>,
}

/// A community at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CommunityOverview {
    /// Its id.
    pub id: CommunityId,
    /// Its name.
    pub name: String,
    /// Its domain statement.
    pub domain: String,
    /// This profile's role, if a member.
    pub my_role: Option<Role>,
    /// Active members.
    pub members: usize,
    /// Threads.
    pub threads: usize,
    /// Requests for information not yet resolved.
    pub open_requests: usize,
    /// Repertoire entries.
    pub entries: usize,
}

impl Node {
    /// Founds a community with this member as its first coordinator.
    pub fn create_community(&self, new: &NewCommunity) -> Result<CommunityId, NodeError> {
        let me = self.identity()?;
        let genesis = Genesis {
            founder: self.member_id(),
            nonce: commonplace_base::random_bytes(&mut rand::rng()),
        };
        let id = genesis.community_id();
        let charter = Charter {
            name: new.name.trim().to_owned(),
            domain: new.domain.trim().to_owned(),
            issues: new.issues.clone(),
            values: new.values.clone(),
            topics: commonplace_model::validate::tags(&new.topics)?,
        };
        let founder_name = me.name.clone();
        self.write(DocRef::community(id), true, |tx, now| {
            community::init(tx, &genesis, &charter, &founder_name, now)?;
            // The founder's roster entry carries their profile, like every later one.
            community::edit_profile(
                tx,
                &genesis.founder,
                &founder_name,
                me.region.as_deref(),
                me.organisation.as_deref(),
            )
        })?;
        Ok(id)
    }

    /// Every community in the profile.
    pub fn communities(&self) -> Result<Vec<CommunityOverview>, NodeError> {
        let me = self.member_id();
        let mut out = Vec::new();
        for c in self.store().communities()? {
            let threads = self.store().threads(&c.id)?;
            out.push(CommunityOverview {
                id: c.id,
                name: c.charter.name.clone(),
                domain: c.charter.domain.clone(),
                my_role: c.roster.role_of(&me),
                members: c.roster.active().count(),
                open_requests: threads
                    .iter()
                    .filter(|t| t.activity == ActivityKind::Request && !t.resolved)
                    .count(),
                threads: threads.len(),
                entries: self.store().entries(&c.id)?.len(),
            });
        }
        out.sort_by_key(|c| c.name.to_lowercase());
        Ok(out)
    }

    /// One community: charter, roster, founding record.
    pub fn community(&self, id: &CommunityId) -> Result<Community, NodeError> {
        self.store()
            .community(id)?
            .ok_or_else(|| NodeError::NotFound {
                what: "community",
                text: id.to_string(),
            })
    }

    /// Replaces the charter. Coordinators only.
    pub fn update_charter(&self, id: &CommunityId, charter: &Charter) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "change the charter")?;
        self.write(DocRef::community(*id), false, |tx, _| {
            community::write_charter(tx, charter)
        })
    }

    /// The roster: active members first, then removed ones.
    pub fn members(&self, id: &CommunityId) -> Result<Vec<RosterMember>, NodeError> {
        let c = self.community(id)?;
        let mut members: Vec<RosterMember> = c.roster.members.into_values().collect();
        members.sort_by(|a, b| {
            (a.removed_at.is_some(), a.role, a.name.to_lowercase()).cmp(&(
                b.removed_at.is_some(),
                b.role,
                b.name.to_lowercase(),
            ))
        });
        Ok(members)
    }

    /// Adds a member (or updates their name and role). Coordinators only.
    pub fn add_member(
        &self,
        id: &CommunityId,
        member: &MemberId,
        name: &str,
        role: Role,
    ) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "add members")?;
        self.write(DocRef::community(*id), false, |tx, now| {
            community::put_member(tx, member, name, role, None, None, now)
        })
    }

    /// Changes a member's role. Coordinators only; the last coordinator cannot step down.
    pub fn set_role(
        &self,
        id: &CommunityId,
        member: &MemberId,
        role: Role,
    ) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "change roles")?;
        let c = self.community(id)?;
        if c.roster.role_of(member).is_none() {
            return Err(NodeError::NotFound {
                what: "member",
                text: member.to_string(),
            });
        }
        if role != Role::Coordinator {
            self.keep_a_coordinator(&c, member)?;
        }
        self.write(DocRef::community(*id), false, |tx, _| {
            community::set_role(tx, member, role)
        })
    }

    /// Removes a member. Their past contributions stay. Coordinators only.
    pub fn remove_member(&self, id: &CommunityId, member: &MemberId) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "remove members")?;
        let c = self.community(id)?;
        if c.roster.role_of(member).is_none() {
            return Err(NodeError::NotFound {
                what: "member",
                text: member.to_string(),
            });
        }
        self.keep_a_coordinator(&c, member)?;
        self.write(DocRef::community(*id), false, |tx, now| {
            community::remove_member(tx, member, now)
        })
    }

    fn keep_a_coordinator(&self, c: &Community, leaving: &MemberId) -> Result<(), NodeError> {
        let others = c
            .roster
            .active()
            .filter(|m| m.role == Role::Coordinator && m.id != *leaving)
            .count();
        if others == 0 && c.roster.role_of(leaving) == Some(Role::Coordinator) {
            return Err(NodeError::NotAllowed(
                "a community needs at least one coordinator: appoint another first".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn require_role(
        &self,
        id: &CommunityId,
        need: Role,
        action: &str,
    ) -> Result<Role, NodeError> {
        let c = self.community(id)?;
        let role = c.roster.role_of(&self.member_id());
        let ok = match (need, role) {
            (_, None) => false,
            (Role::Coordinator, Some(r)) => r == Role::Coordinator,
            (Role::Member, Some(r)) => r.can_contribute(),
            (Role::Observer, Some(_)) => true,
        };
        match role {
            Some(r) if ok => Ok(r),
            Some(r) => Err(NodeError::NotAllowed(format!(
                "only {}s may {action} in {}; you are a {}",
                need.as_str(),
                c.charter.name,
                r.as_str()
            ))),
            None => Err(NodeError::NotAllowed(format!(
                "you are not a member of {}: ask a coordinator to add you ({})",
                c.charter.name,
                self.member_id()
            ))),
        }
    }

    /// Communities this profile holds.
    pub fn community_ids(&self) -> Result<Vec<CommunityId>, NodeError> {
        Ok(self
            .store()
            .communities()?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }
}
