//! Who knows what: expertise per topic from who answered, got "this helped" and wrote the
//! repertoire; "ask someone who knows" for an open request; "you two should meet".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use commonplace_base::{DocId, MemberId};
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, MemberRef};

/// Points per kind of evidence.
pub mod weight {
    /// A reply in someone else's thread on the topic.
    pub const REPLY: u32 = 1;
    /// A reply marked as the answer.
    pub const ANSWER: u32 = 3;
    /// A "this helped" mark from someone else on a reply.
    pub const HELPED: u32 = 2;
    /// A repertoire entry written on the topic.
    pub const ENTRY_WRITTEN: u32 = 3;
    /// A repertoire entry on the topic edited (not written) by the member.
    pub const ENTRY_EDITED: u32 = 1;
}

/// One member's evidence of knowing one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Expertise {
    /// The topic (tag).
    pub topic: String,
    /// The member.
    pub member: MemberRef,
    /// The weighted sum (see [`weight`]).
    pub score: u32,
    /// Replies in others' threads on the topic.
    pub replies: u32,
    /// Replies marked as the answer.
    pub answers: u32,
    /// "This helped" marks from others on their replies.
    pub helped: u32,
    /// Entries on the topic they wrote.
    pub entries_written: u32,
    /// Entries on the topic they edited.
    pub entries_edited: u32,
}

impl Expertise {
    fn rescore(&mut self) {
        self.score = self.replies * weight::REPLY
            + self.answers * weight::ANSWER
            + self.helped * weight::HELPED
            + self.entries_written * weight::ENTRY_WRITTEN
            + self.entries_edited * weight::ENTRY_EDITED;
    }
}

/// Expertise of every member on every topic they have evidence on, by topic, strongest
/// first. Only members still in the roster are listed.
pub fn expertise(corpus: &Corpus) -> Vec<Expertise> {
    let mut map: BTreeMap<(String, MemberId), Expertise> = BTreeMap::new();
    fn at<'m>(
        map: &'m mut BTreeMap<(String, MemberId), Expertise>,
        corpus: &Corpus,
        topic: &str,
        m: MemberId,
    ) -> &'m mut Expertise {
        map.entry((topic.to_owned(), m))
            .or_insert_with(|| Expertise {
                topic: topic.to_owned(),
                member: corpus.member(&m),
                score: 0,
                replies: 0,
                answers: 0,
                helped: 0,
                entries_written: 0,
                entries_edited: 0,
            })
    }
    for t in &corpus.threads {
        let s = &t.summary;
        for p in t.posts.iter().skip(1) {
            let Some(author) = p.author else { continue };
            if Some(author) == s.author {
                continue;
            }
            let is_answer = s.answer == Some(p.id);
            let helped = p.helped_by.iter().filter(|h| **h != author).count() as u32;
            for tag in &s.tags {
                let e = at(&mut map, corpus, tag, author);
                e.replies += 1;
                e.answers += u32::from(is_answer);
                e.helped += helped;
            }
        }
    }
    for e in &corpus.entries {
        let s = &e.summary;
        for tag in &s.tags {
            if let Some(a) = s.author {
                at(&mut map, corpus, tag, a).entries_written += 1;
            }
            for ed in &s.editors {
                if Some(*ed) != s.author {
                    at(&mut map, corpus, tag, *ed).entries_edited += 1;
                }
            }
        }
    }
    let roster = &corpus.community.roster;
    let mut out: Vec<Expertise> = map
        .into_values()
        .filter(|e| roster.role_of(&e.member.id).is_some())
        .map(|mut e| {
            e.rescore();
            e
        })
        .filter(|e| e.score > 0)
        .collect();
    out.sort_by(|a, b| {
        (
            &a.topic,
            std::cmp::Reverse(a.score),
            &a.member.name,
            a.member.id,
        )
            .cmp(&(
                &b.topic,
                std::cmp::Reverse(b.score),
                &b.member.name,
                b.member.id,
            ))
    });
    out
}

/// Someone who could answer an open request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Suggestion {
    /// The member.
    pub member: MemberRef,
    /// Their expertise summed over the request's topics.
    pub score: u32,
    /// The request's topics they know, strongest first.
    pub topics: Vec<String>,
}

/// Members who know the topics of `thread` and have not taken part in it yet, strongest first:
/// "ask someone who knows". Only members who may write are suggested.
pub fn ask_someone_who_knows(
    corpus: &Corpus,
    expertise: &[Expertise],
    thread: &DocId,
    limit: usize,
) -> Vec<Suggestion> {
    let Some(t) = corpus.threads.iter().find(|t| t.summary.id == *thread) else {
        return Vec::new();
    };
    let tags: BTreeSet<&str> = t.summary.tags.iter().map(String::as_str).collect();
    let involved: BTreeSet<MemberId> = t.summary.participants.iter().copied().collect();
    let roster = &corpus.community.roster;
    let mut by_member: BTreeMap<MemberId, (u32, Vec<(u32, String)>)> = BTreeMap::new();
    for e in expertise
        .iter()
        .filter(|e| tags.contains(e.topic.as_str()))
        .filter(|e| !involved.contains(&e.member.id))
        .filter(|e| {
            roster
                .role_of(&e.member.id)
                .is_some_and(|r| r.can_contribute())
        })
    {
        let entry = by_member.entry(e.member.id).or_default();
        entry.0 += e.score;
        entry.1.push((e.score, e.topic.clone()));
    }
    let mut out: Vec<Suggestion> = by_member
        .into_iter()
        .map(|(id, (score, mut topics))| {
            topics.sort_by(|a, b| {
                (std::cmp::Reverse(a.0), &a.1).cmp(&(std::cmp::Reverse(b.0), &b.1))
            });
            Suggestion {
                member: corpus.member(&id),
                score,
                topics: topics.into_iter().map(|(_, t)| t).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.score), &a.member.name, a.member.id).cmp(&(
            std::cmp::Reverse(b.score),
            &b.member.name,
            b.member.id,
        ))
    });
    out.truncate(limit);
    out
}

/// Two members who work on the same topics from different regions or organisations and have
/// never taken part in the same thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Introduction {
    /// One member.
    pub a: MemberRef,
    /// The other.
    pub b: MemberRef,
    /// Topics both have expertise in.
    pub topics: Vec<String>,
    /// Sum over those topics of the smaller of the two scores.
    pub score: u32,
    /// What differs: `"region"`, `"organisation"` or both.
    pub differ_in: Vec<String>,
}

/// "You two should meet", strongest first.
pub fn introductions(corpus: &Corpus, expertise: &[Expertise], limit: usize) -> Vec<Introduction> {
    let roster = &corpus.community.roster;
    // Topic scores of active members.
    let mut scores: BTreeMap<MemberId, BTreeMap<&str, u32>> = BTreeMap::new();
    for e in expertise {
        if roster.role_of(&e.member.id).is_some() {
            scores
                .entry(e.member.id)
                .or_default()
                .insert(e.topic.as_str(), e.score);
        }
    }
    // Threads each member took part in.
    let mut threads_of: HashMap<MemberId, BTreeSet<DocId>> = HashMap::new();
    for t in &corpus.threads {
        for p in &t.summary.participants {
            threads_of.entry(*p).or_default().insert(t.summary.id);
        }
    }
    let members: Vec<(&MemberId, &BTreeMap<&str, u32>)> = scores.iter().collect();
    let mut out = Vec::new();
    for (i, (a, sa)) in members.iter().enumerate() {
        for (b, sb) in members.iter().skip(i + 1) {
            let (Some(ra), Some(rb)) = (roster.members.get(a), roster.members.get(b)) else {
                continue;
            };
            let mut differ_in = Vec::new();
            if let (Some(x), Some(y)) = (&ra.region, &rb.region)
                && !x.eq_ignore_ascii_case(y)
            {
                differ_in.push("region".to_owned());
            }
            if let (Some(x), Some(y)) = (&ra.organisation, &rb.organisation)
                && !x.eq_ignore_ascii_case(y)
            {
                differ_in.push("organisation".to_owned());
            }
            if differ_in.is_empty() {
                continue;
            }
            let shared: Vec<(&str, u32)> = sa
                .iter()
                .filter_map(|(t, x)| sb.get(t).map(|y| (*t, (*x).min(*y))))
                .collect();
            if shared.is_empty() {
                continue;
            }
            let met = match (threads_of.get(a), threads_of.get(b)) {
                (Some(x), Some(y)) => !x.is_disjoint(y),
                _ => false,
            };
            if met {
                continue;
            }
            out.push(Introduction {
                a: corpus.member(a),
                b: corpus.member(b),
                score: shared.iter().map(|(_, s)| s).sum(),
                topics: shared.iter().map(|(t, _)| (*t).to_owned()).collect(),
                differ_in,
            });
        }
    }
    out.sort_by(|x, y| {
        (
            std::cmp::Reverse(x.score),
            &x.a.name,
            &x.b.name,
            x.a.id,
            x.b.id,
        )
            .cmp(&(
                std::cmp::Reverse(y.score),
                &y.a.name,
                &y.b.name,
                y.a.id,
                y.b.id,
            ))
    });
    out.truncate(limit);
    out
}
