//! Cultivating the community: participation levels, expertise, gaps and the health report,
//! computed by `commonplace_insight` from the read index (never from loaded documents).

use commonplace_base::{CommunityId, DocId, Timestamp};
use commonplace_insight::{
    Corpus, Expertise, GapOptions, Gaps, HealthReport, Introduction, Participation, Suggestion,
    Topic,
};
use commonplace_model::{DocKind, DocRef, LevelThresholds, Role, settings};
use commonplace_store::Commit;

use crate::{Node, NodeError};

/// Set once every thread and entry stored before the activity index existed has its row.
const ACTIVITY_BUILT: &str = "index/activity/v1";

impl Node {
    /// The community's activity joined for analysis: summaries and per-post records from the
    /// read index.
    pub fn corpus(&self, community: &CommunityId) -> Result<Corpus, NodeError> {
        let c = self.community(community)?;
        self.ensure_activity_index()?;
        let store = self.store();
        Ok(Corpus::new(
            c,
            store.threads(community)?,
            store.entries(community)?,
            store.events(community)?,
            store.activity(community)?,
        ))
    }

    /// Builds the activity rows of documents stored before the activity index existed (a
    /// profile from an earlier version). Runs once per profile; later writes keep the rows
    /// current in the same transaction as each change.
    fn ensure_activity_index(&self) -> Result<(), NodeError> {
        if self.store().meta(ACTIVITY_BUILT)?.is_some() {
            return Ok(());
        }
        // Holding the gate and the local writers' lock keeps every writer out while the rows
        // are rebuilt (gate first, as `cache.rs` orders them).
        let _gate = self.docs().gate();
        let _local = self.docs().local();
        let mut rows = Vec::new();
        for c in self.store().communities()? {
            // Only documents without a row: a profile created by this version has them all.
            let have: std::collections::HashSet<DocId> = self
                .store()
                .activity(&c.id)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            for (id, rec) in self.store().docs_of(&c.id)? {
                if !matches!(rec.kind, DocKind::Thread | DocKind::Entry) || have.contains(&id) {
                    continue;
                }
                let doc_ref = DocRef {
                    community: c.id,
                    kind: rec.kind,
                    id,
                };
                let (_, _, act) =
                    self.read_doc(&id, &rec, |doc| crate::write::index_row(&doc_ref, doc))??;
                if let Some(a) = act {
                    rows.push((c.id, id, a));
                }
            }
        }
        if !rows.is_empty() {
            self.store().put_activity(&rows)?;
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(ACTIVITY_BUILT.into(), vec![1])],
        })?;
        Ok(())
    }

    /// The participation thresholds coordinators set (or the defaults).
    pub fn level_thresholds(&self, community: &CommunityId) -> Result<LevelThresholds, NodeError> {
        let rec = self.doc_record(
            &DocId::from_bytes(*community.as_bytes()),
            DocKind::Community,
        )?;
        self.read_doc(
            &DocId::from_bytes(*community.as_bytes()),
            &rec,
            settings::read_thresholds,
        )
    }

    /// Sets the participation thresholds. Coordinators only.
    pub fn set_level_thresholds(
        &self,
        community: &CommunityId,
        thresholds: &LevelThresholds,
    ) -> Result<(), NodeError> {
        self.require_role(community, Role::Coordinator, "set participation thresholds")?;
        thresholds.check()?;
        self.write(DocRef::community(*community), false, |tx, _| {
            settings::write_thresholds(tx, thresholds)
        })
    }

    /// Every member's participation level at `at`, movement over one window, and a history.
    pub fn participation(
        &self,
        community: &CommunityId,
        at: Timestamp,
    ) -> Result<Participation, NodeError> {
        let t = self.level_thresholds(community)?;
        Ok(commonplace_insight::participation(
            &self.corpus(community)?,
            &t,
            at,
        ))
    }

    /// Expertise per topic, strongest first within each topic; only `topic` if given.
    pub fn experts(
        &self,
        community: &CommunityId,
        topic: Option<&str>,
    ) -> Result<Vec<Expertise>, NodeError> {
        let all = commonplace_insight::expertise(&self.corpus(community)?);
        let topic = topic.map(|t| t.trim().trim_start_matches('#').to_lowercase());
        Ok(all
            .into_iter()
            .filter(|e| topic.as_ref().is_none_or(|t| &e.topic == t))
            .collect())
    }

    /// "Ask someone who knows": members who know the topics of a thread and have not taken
    /// part in it.
    pub fn ask_someone_who_knows(
        &self,
        thread: &DocId,
        limit: usize,
    ) -> Result<Vec<Suggestion>, NodeError> {
        let rec = self.doc_record(thread, DocKind::Thread)?;
        let corpus = self.corpus(&rec.community)?;
        let expertise = commonplace_insight::expertise(&corpus);
        Ok(commonplace_insight::ask_someone_who_knows(
            &corpus, &expertise, thread, limit,
        ))
    }

    /// "You two should meet": members on the same topics from different regions or
    /// organisations who have not met in a thread.
    pub fn introductions(
        &self,
        community: &CommunityId,
        limit: usize,
    ) -> Result<Vec<Introduction>, NodeError> {
        let corpus = self.corpus(community)?;
        let expertise = commonplace_insight::expertise(&corpus);
        Ok(commonplace_insight::introductions(
            &corpus, &expertise, limit,
        ))
    }

    /// Topics with their counts of threads, requests and entries.
    pub fn knowledge_map(&self, community: &CommunityId) -> Result<Vec<Topic>, NodeError> {
        Ok(commonplace_insight::knowledge_map(&self.corpus(community)?))
    }

    /// Where knowledge is thin at `at`.
    pub fn gaps(
        &self,
        community: &CommunityId,
        options: &GapOptions,
        at: Timestamp,
    ) -> Result<Gaps, NodeError> {
        Ok(commonplace_insight::gaps(
            &self.corpus(community)?,
            options,
            at,
        ))
    }

    /// The health report for `[since, until)`.
    pub fn health_report(
        &self,
        community: &CommunityId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<HealthReport, NodeError> {
        let t = self.level_thresholds(community)?;
        Ok(commonplace_insight::health_report(
            &self.corpus(community)?,
            &t,
            since,
            until,
        ))
    }
}
