//! Invitations and admission: any member's node admits the holder of a valid invitation
//! signed by a coordinator (`commonplace_model::admission`).

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_model::admission::Admission;
use commonplace_model::invite::{Invitation, InviteError, ShortCode, SignedInvitation};
use commonplace_model::{DocKind, DocRef, Role, admission};
use commonplace_net::Refusal;
use commonplace_store::Commit;
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// What a newcomer sends to the inviting node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JoinRequest {
    pub code: String,
    pub name: String,
}

const USED: &str = "invite-used/";

/// Invitations created on this node, by id: a [`PendingRecord`].
const PENDING: &str = "invite-pending/";

/// Invitations revoked on this node, by id: when (milliseconds, decimal).
const REVOKED: &str = "invite-revoked/";

/// What the inviting node keeps of an invitation it created, to answer its short code.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingRecord {
    /// The short code (canonical).
    short: String,
    /// The long code: the signed invitation.
    code: String,
    /// When it was created.
    created_at: Timestamp,
}

/// A node's answer to a short code's proof (postcard on the wire, after the status byte).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ResolveAnswer {
    /// The long code.
    Invitation(String),
    /// No such code waits here.
    Unknown,
    /// A coordinator revoked it.
    Revoked,
    /// Someone joined with it.
    Used,
    /// Past its expiry.
    Expired,
}

impl From<Result<String, InviteError>> for ResolveAnswer {
    fn from(r: Result<String, InviteError>) -> Self {
        match r {
            Ok(code) => ResolveAnswer::Invitation(code),
            Err(InviteError::Revoked) => ResolveAnswer::Revoked,
            Err(InviteError::Used) => ResolveAnswer::Used,
            Err(InviteError::Expired) => ResolveAnswer::Expired,
            Err(_) => ResolveAnswer::Unknown,
        }
    }
}

impl ResolveAnswer {
    pub(crate) fn into_result(self) -> Result<String, InviteError> {
        match self {
            ResolveAnswer::Invitation(code) => Ok(code),
            ResolveAnswer::Unknown => Err(InviteError::Unknown),
            ResolveAnswer::Revoked => Err(InviteError::Revoked),
            ResolveAnswer::Used => Err(InviteError::Used),
            ResolveAnswer::Expired => Err(InviteError::Expired),
        }
    }
}

/// A new invitation: the signed one and the short code that names it.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The signed invitation (its long code is [`SignedInvitation::to_code`]).
    pub signed: SignedInvitation,
    /// The short code to read out or type.
    pub short: ShortCode,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum InvitationState {
    /// It can still be used.
    Pending,
    /// Someone joined with it.
    Used,
    /// A coordinator revoked it.
    Revoked,
    /// Past its expiry, unused.
    Expired,
}

/// An invitation created on this node, for the coordinators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingInvitation {
    /// The short code, grouped (`K7QM-3XPA-9FHD-2WNE`).
    pub short_code: String,
    /// The community.
    pub community: CommunityId,
    /// Its name.
    pub community_name: String,
    /// The role the holder gets.
    pub role: Role,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Where it stands.
    pub state: InvitationState,
    /// Who joined with it, if anyone (as far as this node knows).
    pub used_by: Option<MemberId>,
    /// Their name in the roster.
    pub used_by_name: Option<String>,
    /// When they were added to the roster.
    pub used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl Node {
    /// Signs an invitation to `community` (coordinators only), valid for `valid_for_ms`,
    /// naming how to reach this node (`inviter_addr`, from the network layer), with a short
    /// code that names it. The node keeps it, so it can answer the short code and list it.
    pub fn create_invite(
        &self,
        community: &CommunityId,
        role: Role,
        valid_for_ms: i64,
        inviter_addr: Vec<u8>,
    ) -> Result<NewInvitation, NodeError> {
        let c = self.community(community)?;
        if c.roster.role_of(&self.member_id()) != Some(Role::Coordinator) {
            return Err(NodeError::NotAllowed(format!(
                "only coordinators may invite to {}",
                c.charter.name
            )));
        }
        let short = ShortCode::from_random(commonplace_base::random_bytes(&mut rand::rng()));
        let now = Timestamp::now();
        let invitation = Invitation {
            community: *community,
            community_name: c.charter.name,
            issuer: self.member_id(),
            role,
            expires_at: Timestamp(now.0.saturating_add(valid_for_ms)),
            secret: short.secret(),
            inviter_addr,
        };
        let signed = SignedInvitation::sign(invitation, self.secret_key())?;
        let record = PendingRecord {
            short: short.as_str().to_owned(),
            code: signed.to_code()?,
            created_at: now,
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| NodeError::encode("invitation", e))?;
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("{PENDING}{}", signed.id()), bytes)],
        })?;
        Ok(NewInvitation { signed, short })
    }

    fn pending_records(&self) -> Result<Vec<(ShortCode, SignedInvitation, Timestamp)>, NodeError> {
        Ok(self
            .store()
            .meta_with_prefix(PENDING)?
            .into_iter()
            .filter_map(|(_, v)| {
                let r: PendingRecord = serde_json::from_slice(&v).ok()?;
                let short = ShortCode::parse(&r.short).ok()?;
                let signed = SignedInvitation::from_code(&r.code).ok()?;
                Some((short, signed, r.created_at))
            })
            .collect())
    }

    /// The invitations created on this node (to `community`, or to any), newest first.
    pub fn pending_invitations(
        &self,
        community: Option<&CommunityId>,
    ) -> Result<Vec<PendingInvitation>, NodeError> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for (short, signed, created_at) in self.pending_records()? {
            let i = &signed.invitation;
            if community.is_some_and(|c| *c != i.community) {
                continue;
            }
            let id = signed.id();
            let used_by = self.used_by(&i.community, &id)?;
            let roster = self.community(&i.community).ok().map(|c| c.roster);
            let entry = used_by.and_then(|m| roster.as_ref()?.members.get(&m).cloned());
            let revoked_at = self.revoked_at(&i.community, &id)?;
            let state = if used_by.is_some() {
                InvitationState::Used
            } else if revoked_at.is_some() {
                InvitationState::Revoked
            } else if now > i.expires_at {
                InvitationState::Expired
            } else {
                InvitationState::Pending
            };
            out.push(PendingInvitation {
                short_code: short.to_string(),
                community: i.community,
                community_name: i.community_name.clone(),
                role: i.role,
                created_at,
                expires_at: i.expires_at,
                state,
                used_by,
                used_by_name: entry.as_ref().map(|e| e.name.clone()),
                used_at: entry.map(|e| e.added_at),
                revoked_at,
            });
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        Ok(out)
    }

    /// Revokes the invitation with short code `code` (coordinators of its community): this
    /// node refuses it from now on, and so does every member's node once the record in the
    /// community document has reached it.
    pub fn revoke_invite(&self, code: &str) -> Result<PendingInvitation, NodeError> {
        let short = ShortCode::parse(code)?;
        let Some((_, signed, _)) = self
            .pending_records()?
            .into_iter()
            .find(|(s, _, _)| *s == short)
        else {
            return Err(NodeError::NotFound {
                what: "invitation created on this node",
                text: short.to_string(),
            });
        };
        let community = signed.invitation.community;
        let c = self.community(&community)?;
        if c.roster.role_of(&self.member_id()) != Some(Role::Coordinator) {
            return Err(NodeError::NotAllowed(format!(
                "only coordinators may revoke invitations to {}",
                c.charter.name
            )));
        }
        let id = signed.id();
        if self.used_by(&community, &id)?.is_some() {
            return Err(NodeError::NotAllowed(
                "this invitation was already used; remove the member instead".into(),
            ));
        }
        let now = Timestamp::now();
        // Locally first: from here on this node refuses the code, even before the record
        // below is written.
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("{REVOKED}{id}"), now.0.to_string().into_bytes())],
        })?;
        if self.revoked_at_doc(&community, &id).is_none() {
            self.write(DocRef::community(community), false, |tx, now| {
                admission::revoke(tx, &id, now)
            })?;
        }
        self.pending_invitations(Some(&community))?
            .into_iter()
            .find(|p| p.short_code == short.to_string())
            .ok_or_else(|| NodeError::NotFound {
                what: "invitation",
                text: short.to_string(),
            })
    }

    /// Answers a short code's proof with the long code, if this node holds that invitation
    /// and it can still be used. Called by the network layer for the resolve protocol.
    pub(crate) fn resolve_invite(&self, proof: &[u8]) -> Result<String, InviteError> {
        let records = self.pending_records().map_err(|_| InviteError::Unknown)?;
        let Some((_, signed, _)) = records
            .into_iter()
            .find(|(s, _, _)| s.proof().as_slice() == proof)
        else {
            return Err(InviteError::Unknown);
        };
        let i = &signed.invitation;
        let id = signed.id();
        if self.revoked_at(&i.community, &id).ok().flatten().is_some() {
            return Err(InviteError::Revoked);
        }
        if self.used_by(&i.community, &id).ok().flatten().is_some() {
            return Err(InviteError::Used);
        }
        if Timestamp::now() > i.expires_at {
            return Err(InviteError::Expired);
        }
        signed.to_code()
    }

    /// The short codes of invitations that can still be used, newest first, for the resolver
    /// endpoints.
    pub(crate) fn open_short_codes(&self) -> Result<Vec<ShortCode>, NodeError> {
        Ok(self
            .pending_invitations(None)?
            .into_iter()
            .filter(|p| p.state == InvitationState::Pending)
            .filter_map(|p| ShortCode::parse(&p.short_code).ok())
            .collect())
    }

    fn used_by(&self, community: &CommunityId, id: &str) -> Result<Option<MemberId>, NodeError> {
        if let Some(Some(m)) =
            self.with_community_doc(community, |doc| admission::admitted(doc, id))
        {
            return Ok(Some(m));
        }
        Ok(self
            .store()
            .meta(&format!("{USED}{id}"))?
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .and_then(|b| MemberId::from_bytes(b).ok()))
    }

    fn revoked_at(
        &self,
        community: &CommunityId,
        id: &str,
    ) -> Result<Option<Timestamp>, NodeError> {
        let local = self
            .store()
            .meta(&format!("{REVOKED}{id}"))?
            .and_then(|b| String::from_utf8(b).ok()?.parse().ok())
            .map(Timestamp);
        Ok(local.or_else(|| self.revoked_at_doc(community, id)))
    }

    fn revoked_at_doc(&self, community: &CommunityId, id: &str) -> Option<Timestamp> {
        self.with_community_doc(community, |doc| {
            use automerge::ReadDoc;
            let key = format!("{}{id}", admission::REVOKED_PREFIX);
            match doc.get(automerge::ROOT, key.as_str()).ok()?? {
                (automerge::Value::Scalar(s), _) => s.as_i64().map(Timestamp),
                _ => None,
            }
        })
        .flatten()
    }

    fn with_community_doc<R>(
        &self,
        community: &CommunityId,
        f: impl FnOnce(&automerge::Automerge) -> R,
    ) -> Option<R> {
        let doc_id = commonplace_base::DocId::from_bytes(*community.as_bytes());
        let rec = self.doc_record(&doc_id, DocKind::Community).ok()?;
        self.read_doc(&doc_id, &rec, f).ok()
    }

    /// Admits the holder of an invitation: checks it and adds `peer` to the roster. Called by
    /// the network layer with the TLS-authenticated peer id.
    pub(crate) fn admit(&self, peer: &MemberId, request: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req: JoinRequest =
            postcard::from_bytes(request).map_err(|_| "malformed join request".to_string())?;
        let inv = SignedInvitation::from_code(&req.code)?;
        let i = &inv.invitation;
        let c = self
            .community(&i.community)
            .map_err(|_| Refusal::CommunityNotHeld)?;
        if c.roster.role_of(&i.issuer) != Some(Role::Coordinator) {
            return Err(InviteError::NotACoordinator.into());
        }
        if c.roster.role_of(peer).is_some() {
            // Already in: joining again just syncs.
            return Ok(i.community.as_bytes().to_vec());
        }
        if Timestamp::now() > i.expires_at {
            return Err(InviteError::Expired.into());
        }
        let used_key = format!("{USED}{}", inv.id());
        if self
            .store()
            .meta(&used_key)
            .map_err(|e| e.to_string())?
            .is_some()
            || self.invitation_used(&i.community, &inv.id())
        {
            return Err(InviteError::Used.into());
        }
        if self
            .revoked_at(&i.community, &inv.id())
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Err(InviteError::Revoked.into());
        }
        if !c
            .roster
            .members
            .get(&self.member_id())
            .is_some_and(|m| m.is_active() && m.role.can_contribute())
        {
            return Err(Refusal::Denied(
                "this node's member may not add members (an observer or no longer in the roster); ask another member".into(),
            ));
        }
        // Burn the invitation first: a crash in between leaves it used, never reusable.
        self.store()
            .commit(&Commit {
                docs: Vec::new(),
                meta: vec![(used_key, peer.as_bytes().to_vec())],
            })
            .map_err(|e| e.to_string())?;
        let name = if req.name.trim().is_empty() {
            peer.short()
        } else {
            req.name
        };
        // The roster entry and the invitation it rests on, in one signed change: every peer
        // checks the invitation, whoever's node admitted the holder.
        let record = Admission {
            invitation: inv.clone(),
            member: *peer,
        };
        self.write(DocRef::community(i.community), false, |tx, now| {
            admission::admit(tx, &record, &name, now)
        })
        .map_err(|e| e.to_string())?;
        Ok(i.community.as_bytes().to_vec())
    }

    /// Whether the community document records a use of invitation `id` (by any node).
    fn invitation_used(&self, community: &CommunityId, id: &str) -> bool {
        let doc_id = commonplace_base::DocId::from_bytes(*community.as_bytes());
        let Ok(rec) = self.doc_record(&doc_id, DocKind::Community) else {
            return false;
        };
        self.read_doc(&doc_id, &rec, |doc| admission::used(doc, id))
            .unwrap_or(false)
    }
}
