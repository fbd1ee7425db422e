//! Invitations and admission: any member's node admits the holder of a valid invitation
//! signed by a coordinator (`commonplace_model::admission`).

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_model::admission::{self, Admission};
use commonplace_model::invite::{Invitation, InviteError, SignedInvitation};
use commonplace_model::{DocKind, DocRef, Role};
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
const PEER: &str = "peer/";
const SYNC: &str = "sync/";

impl Node {
    /// Signs an invitation to `community` (coordinators only), valid for `valid_for_ms`,
    /// naming how to reach this node (`inviter_addr`, from the network layer).
    pub fn create_invite(
        &self,
        community: &CommunityId,
        role: Role,
        valid_for_ms: i64,
        inviter_addr: Vec<u8>,
    ) -> Result<SignedInvitation, NodeError> {
        let c = self.community(community)?;
        if c.roster.role_of(&self.member_id()) != Some(Role::Coordinator) {
            return Err(NodeError::NotAllowed(format!(
                "only coordinators may invite to {}",
                c.charter.name
            )));
        }
        let invitation = Invitation {
            community: *community,
            community_name: c.charter.name,
            issuer: self.member_id(),
            role,
            expires_at: Timestamp(Timestamp::now().0.saturating_add(valid_for_ms)),
            secret: commonplace_base::random_bytes(&mut rand::rng()),
            inviter_addr,
        };
        SignedInvitation::sign(invitation, self.secret_key()).map_err(invite_err)
    }

    /// Admits the holder of an invitation: checks it and adds `peer` to the roster. Called by
    /// the network layer with the TLS-authenticated peer id.
    pub(crate) fn admit(&self, peer: &MemberId, request: &[u8]) -> Result<Vec<u8>, String> {
        let req: JoinRequest =
            postcard::from_bytes(request).map_err(|_| "malformed join request".to_string())?;
        let inv = SignedInvitation::from_code(&req.code).map_err(|e| e.to_string())?;
        let i = &inv.invitation;
        let c = self
            .community(&i.community)
            .map_err(|_| "this node does not hold that community".to_string())?;
        if c.roster.role_of(&i.issuer) != Some(Role::Coordinator) {
            return Err(InviteError::NotACoordinator.to_string());
        }
        if c.roster.role_of(peer).is_some() {
            // Already in: joining again just syncs.
            return Ok(i.community.as_bytes().to_vec());
        }
        if Timestamp::now() > i.expires_at {
            return Err(InviteError::Expired.to_string());
        }
        let used_key = format!("{USED}{}", inv.id());
        if self
            .store()
            .meta(&used_key)
            .map_err(|e| e.to_string())?
            .is_some()
            || self.invitation_used(&i.community, &inv.id())
        {
            return Err(InviteError::Used.to_string());
        }
        if !c
            .roster
            .members
            .get(&self.member_id())
            .is_some_and(|m| m.is_active() && m.role.can_contribute())
        {
            return Err(
                "this node's member may not add members (an observer or no longer in the roster); ask another member".into(),
            );
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
        let mut cache = self.lock_docs();
        self.loaded(&mut cache, &doc_id, &rec)
            .is_ok_and(|doc| admission::used(doc, id))
    }

    /// Remembers how to reach a member.
    pub fn record_peer(&self, member: &MemberId, addr: Vec<u8>) -> Result<(), NodeError> {
        if *member == self.member_id() {
            return Ok(());
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("{PEER}{member}"), addr)],
        })?;
        Ok(())
    }

    /// Members we know how to reach, with their last known address.
    pub fn known_peers(&self) -> Result<Vec<(MemberId, Vec<u8>)>, NodeError> {
        Ok(self
            .store()
            .meta_with_prefix(PEER)?
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PEER)?.parse().ok()?, v)))
            .collect())
    }

    /// Records the outcome of a sync with `peer` about `community` (for `status`); a
    /// completed one also means nothing local is unshared any more. One commit for both.
    pub fn record_sync(
        &self,
        peer: &MemberId,
        community: &CommunityId,
        record: &crate::SyncRecord,
    ) -> Result<(), NodeError> {
        let bytes = serde_json::to_vec(record).map_err(|e| NodeError::NotAllowed(e.to_string()))?;
        let mut meta = vec![(format!("{SYNC}{peer}/{community}"), bytes)];
        // Hold the writers' lock so no local write slips between the count and its reset.
        let _writers = record.ok.then(|| self.lock_docs());
        if record.ok {
            meta.push(self.shared_now(community));
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta,
        })?;
        Ok(())
    }

    /// The last recorded sync with each peer about each community.
    pub fn sync_history(&self) -> Result<Vec<crate::SyncRecord>, NodeError> {
        Ok(self
            .store()
            .meta_with_prefix(SYNC)?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect())
    }

    /// A network setting (`bind`, `relay`), as last used.
    pub fn net_setting(&self, name: &str) -> Result<Option<String>, NodeError> {
        Ok(self
            .store()
            .meta(&format!("net/{name}"))?
            .and_then(|v| String::from_utf8(v).ok()))
    }

    /// Remembers a network setting.
    pub fn set_net_setting(&self, name: &str, value: &str) -> Result<(), NodeError> {
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("net/{name}"), value.as_bytes().to_vec())],
        })?;
        Ok(())
    }

    /// This node's own address, as last published by the network layer.
    pub fn own_address(&self) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store().meta("net/addr")?)
    }

    pub(crate) fn set_own_address(&self, addr: Vec<u8>) -> Result<(), NodeError> {
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![("net/addr".into(), addr)],
        })?;
        Ok(())
    }
}

fn invite_err(e: InviteError) -> NodeError {
    NodeError::NotAllowed(e.to_string())
}
