//! Cultivating the community: participation levels, who knows what, knowledge gaps and the
//! health report, computed locally from the signed history.
//!
//! Every function here is pure and deterministic: the moment to compute for is passed in,
//! and the input is a [`Corpus`] built from the store's read index (thread, entry and event
//! summaries plus the compact per-post and per-edit records of
//! [`commonplace_model::activity`]) — never from loaded Automerge documents, so a community
//! with 100,000 posts gets its report in a fraction of a second. Every member who holds the
//! same history computes the same numbers.
//!
//! - [`participation`]: core / active / peripheral / inactive from contributions in a
//!   trailing window (thresholds set by coordinators), and movement between levels;
//! - [`expertise`]: expertise per topic, "ask someone who knows", "you two should meet";
//! - [`knowledge_map`] and [`gaps`]: topics with their counts, and where knowledge is thin;
//! - [`health_report`] for a period, rendered by [`render`] as Markdown, CSV, JSON or a
//!   standalone HTML page with charts.
//!
//! ```
//! use commonplace_base::{SecretKey, Timestamp};
//! use commonplace_insight::{Corpus, health_report};
//! use commonplace_model::{Charter, Community, Genesis, LevelThresholds, Roster};
//!
//! let key = SecretKey::from_seed([1; 32]);
//! let genesis = Genesis { founder: key.member_id(), nonce: [0; 16] };
//! let community = Community {
//!     id: genesis.community_id(),
//!     genesis,
//!     charter: Charter { name: "Crime Prevention Network".into(), ..Default::default() },
//!     roster: Roster::default(),
//!     created_at: Timestamp(0),
//! };
//! let corpus = Corpus::new(community, vec![], vec![], vec![], vec![]);
//! let week = 7 * 86_400_000;
//! let report = health_report(&corpus, &LevelThresholds::default(), Timestamp(0), Timestamp(week));
//! assert_eq!(report.totals.posts, 0);
//! assert!(commonplace_insight::render::csv(&report).ends_with("total,0,0,0,0,0,0,0,0\n"));
//! ```

mod corpus;
mod expertise;
mod health;
mod knowledge;
mod participation;

pub mod render;

pub use corpus::{Contribution, ContributionKind, Corpus, DAY, EntryFacts, MemberRef, ThreadFacts};
pub use expertise::{
    Expertise, Introduction, Suggestion, ask_someone_who_knows, expertise, introductions, weight,
};
pub use health::{
    EventsHealth, HealthReport, HeldEvent, MembersHealth, RepertoireHealth, RequestsHealth,
    WeekRow, health_report, week_start,
};
pub use knowledge::{
    GapOptions, Gaps, StaleEntry, Topic, UnansweredRequest, UncoveredTopic, gaps, knowledge_map,
    unanswered_at,
};
pub use participation::{
    Level, LevelCounts, LevelSnapshot, MemberLevel, Movement, Participation, counts_at, levels_at,
    movement, participation,
};
