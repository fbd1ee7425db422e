//! The community's rhythm: events, answers, co-edited notes, calendars and iCalendar export.

use chrono::NaiveDateTime;
use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use commonplace_model::event::{EventDetails, MAX_OCCURRENCES};
use commonplace_model::ics::IcsEvent;
use commonplace_model::{
    DocKind, DocRef, Event, EventKind, EventSummary, Role, RsvpStatus, SchemaError, TextEdit,
    event, ics,
};
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// An event with the version it was read at, so an editor can send its notes against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventView {
    /// The event.
    pub event: Event,
    /// The document's heads when it was read (opaque to front ends).
    pub version: Vec<String>,
}

impl Node {
    /// An event with the version it was read at, for editing its notes.
    pub fn event_view(&self, id: &DocId) -> Result<EventView, NodeError> {
        let (event, version) = self.read_versioned(id, DocKind::Event, |d| event::read(d, *id))?;
        Ok(EventView { event, version })
    }

    /// Sets an event's co-edited notes to `text`, as an edit of the version `base` the editor
    /// showed; merged like [`Node::edit_entry_text`].
    pub fn edit_event_notes_text(
        &self,
        id: &DocId,
        base: &[String],
        text: &str,
    ) -> Result<EventView, NodeError> {
        let rec = self.doc_record(id, DocKind::Event)?;
        self.require_role(&rec.community, Role::Member, "edit event notes")?;
        let doc_ref = DocRef {
            community: rec.community,
            kind: DocKind::Event,
            id: *id,
        };
        let event = crate::NodeEvent::EventChanged {
            community: rec.community,
            event: *id,
        };
        self.edit_at_version(&rec, doc_ref, base, 0, event, |tx, _| {
            event::edit_notes(tx, &TextEdit::Replace(text.to_owned()))
        })?;
        self.event_view(id)
    }

    /// Creates an event; this member becomes its organiser.
    pub fn create_event(
        &self,
        community: &CommunityId,
        new: &NewEvent,
    ) -> Result<DocId, NodeError> {
        self.require_role(community, Role::Member, "organise events")?;
        let details = new.details()?;
        let id = DocId::random(&mut rand::rng());
        let doc = DocRef {
            community: *community,
            kind: DocKind::Event,
            id,
        };
        self.write(doc, true, |tx, now| {
            event::init(tx, community, &details, now)
        })?;
        Ok(id)
    }

    /// Changes what the organiser decides (time, place, agenda, recurrence…). Organiser only.
    pub fn update_event(&self, id: &DocId, new: &NewEvent) -> Result<(), NodeError> {
        let ev = self.organised_by_me(id, "change")?;
        let details = new.details()?;
        self.write(event_ref(&ev), false, |tx, now| {
            event::update(tx, &details, now)
        })
    }

    /// Cancels an event, or takes the cancellation back. Organiser only.
    pub fn cancel_event(&self, id: &DocId, cancelled: bool) -> Result<(), NodeError> {
        let ev = self.organised_by_me(id, "cancel")?;
        self.write(event_ref(&ev), false, |tx, now| {
            event::set_cancelled(tx, cancelled, now)
        })
    }

    fn organised_by_me(&self, id: &DocId, action: &str) -> Result<Event, NodeError> {
        let ev = self.event(id)?;
        self.require_role(&ev.community, Role::Member, "change events")?;
        if ev.organiser != Some(self.member_id()) {
            let name = match ev.organiser {
                Some(o) => self.community(&ev.community)?.roster.name_of(&o),
                None => "its organiser".into(),
            };
            return Err(NodeError::NotAllowed(format!(
                "only the organiser ({name}) may {action} this event"
            )));
        }
        Ok(ev)
    }

    /// Events of a community: upcoming ones first (soonest first), then past ones (most
    /// recent first).
    pub fn events(&self, community: &CommunityId) -> Result<Vec<EventSummary>, NodeError> {
        self.community(community)?;
        let now = Timestamp::now();
        let mut out = self.store().events(community)?;
        let key = |e: &EventSummary| {
            let next = e
                .occurrences(
                    Timestamp(now.0 - i64::from(e.details.duration_min) * MINUTE),
                    Timestamp(i64::MAX),
                    1,
                )
                .first()
                .copied();
            match next {
                Some(t) => (0, t.0, e.id),
                None => (1, -e.details.start.0, e.id),
            }
        };
        out.sort_by_cached_key(key);
        Ok(out)
    }

    /// A whole event, notes included.
    pub fn event(&self, id: &DocId) -> Result<Event, NodeError> {
        let rec = self.doc_record(id, DocKind::Event)?;
        Ok(self.read_doc(id, &rec, |doc| event::read(doc, *id))??)
    }

    /// Every occurrence of every event of a community starting in `[from, to)`, oldest
    /// first: the calendar view.
    pub fn calendar(
        &self,
        community: &CommunityId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Occurrence>, NodeError> {
        self.community(community)?;
        let me = self.member_id();
        let mut out = Vec::new();
        for e in self.store().events(community)? {
            for start in e.occurrences(from, to, MAX_OCCURRENCES) {
                out.push(occurrence(&e, start, &me));
            }
        }
        out.sort_by_key(|o| (o.start, o.event));
        Ok(out)
    }

    /// Records this member's answer for one occurrence (default: the next one that has not
    /// ended, or for `attended` the latest that has started). Returns the occurrence.
    pub fn rsvp(
        &self,
        id: &DocId,
        occurrence: Option<Timestamp>,
        status: RsvpStatus,
    ) -> Result<Timestamp, NodeError> {
        let rec = self.doc_record(id, DocKind::Event)?;
        self.require_role(&rec.community, Role::Member, "answer events")?;
        let summary = self
            .store()
            .events(&rec.community)?
            .into_iter()
            .find(|e| e.id == *id)
            .ok_or_else(|| NodeError::NotFound {
                what: "event",
                text: id.to_string(),
            })?;
        let now = Timestamp::now();
        let occ = match occurrence {
            Some(t) => {
                if summary.occurrences(t, Timestamp(t.0 + 1), 1) != [t] {
                    return Err(NodeError::NotFound {
                        what: "occurrence of this event starting",
                        text: crate::rhythm::utc_text(t),
                    });
                }
                t
            }
            None if status == RsvpStatus::Attended => summary
                .occurrences(summary.details.start, Timestamp(now.0 + 1), MAX_OCCURRENCES)
                .last()
                .copied()
                .ok_or_else(|| NodeError::NotAllowed("this event has not started yet".into()))?,
            None => summary
                .occurrences(
                    Timestamp(now.0 - i64::from(summary.details.duration_min) * MINUTE),
                    Timestamp(i64::MAX),
                    1,
                )
                .first()
                .copied()
                .ok_or_else(|| {
                    NodeError::NotAllowed(
                        "this event has no occurrence ahead; name one with --on".into(),
                    )
                })?,
        };
        if status == RsvpStatus::Attended && occ > now {
            return Err(NodeError::NotAllowed(
                "that occurrence has not started yet: answer going or maybe".into(),
            ));
        }
        let me = self.member_id();
        self.write(event_ref_of(&rec.community, id), false, |tx, _| {
            event::rsvp(tx, &me, occ, status)
        })?;
        Ok(occ)
    }

    /// Edits an event's co-edited notes (any member).
    pub fn edit_event_notes(&self, id: &DocId, edit: &TextEdit) -> Result<(), NodeError> {
        let rec = self.doc_record(id, DocKind::Event)?;
        self.require_role(&rec.community, Role::Member, "edit event notes")?;
        self.write(event_ref_of(&rec.community, id), false, |tx, _| {
            event::edit_notes(tx, edit)
        })
    }

    /// Every event of a community as an iCalendar file (RFC 5545).
    pub fn export_ics(&self, community: &CommunityId) -> Result<String, NodeError> {
        let c = self.community(community)?;
        let mut events = self.store().events(community)?;
        events.sort_by_key(|e| (e.details.start, e.id));
        let names: Vec<Option<String>> = events
            .iter()
            .map(|e| e.organiser.map(|o| c.roster.name_of(&o)))
            .collect();
        let items: Vec<IcsEvent<'_>> = events
            .iter()
            .zip(&names)
            .map(|(event, name)| IcsEvent {
                event,
                organiser_name: name.as_deref(),
            })
            .collect();
        Ok(ics::calendar(&c.charter.name, &items))
    }
}

/// A new event (or new details for one), as a front end fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewEvent {
    /// Meeting, call, workshop or session.
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// Wall-clock start in `tz`: `2026-12-03T15:00` (seconds optional).
    pub start_local: String,
    /// IANA time zone of the organiser, e.g. `America/Toronto`.
    pub tz: String,
    /// Length in minutes.
    pub duration_min: u32,
    /// Place or link.
    pub place: Option<String>,
    /// Agenda.
    pub agenda: String,
    /// `weekly`, `monthly`, an RRULE such as `FREQ=WEEKLY;BYDAY=TU`, or none.
    pub recur: Option<String>,
}

impl NewEvent {
    /// The details to store: the start converted to UTC, the recurrence normalised.
    pub fn details(&self) -> Result<EventDetails, SchemaError> {
        let local = parse_local(&self.start_local)?;
        Ok(EventDetails {
            kind: self.kind,
            title: self.title.trim().to_owned(),
            start: event::local_to_utc(local, self.tz.trim())?,
            tz: self.tz.trim().to_owned(),
            duration_min: self.duration_min,
            place: self
                .place
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            agenda: self.agenda.clone(),
            recur: match &self.recur {
                Some(r) => event::normalise_recur(r)?,
                None => None,
            },
        })
    }
}

/// `2026-12-03T15:00`, `2026-12-03T15:00:00` or `2026-12-03 15:00`.
pub fn parse_local(text: &str) -> Result<NaiveDateTime, SchemaError> {
    let t = text.trim().replace(' ', "T");
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&t, f).ok())
        .ok_or_else(|| SchemaError::Input {
            field: "start",
            problem: format!("'{text}' is not a local date and time like 2026-12-03T15:00"),
        })
}

/// One occurrence of an event, for calendars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Occurrence {
    /// The event.
    pub event: DocId,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: EventKind,
    /// Start (UTC).
    pub start: Timestamp,
    /// End (UTC).
    pub end: Timestamp,
    /// The organiser's zone.
    pub tz: String,
    /// Start as wall-clock time in that zone, `2026-12-03T15:00`.
    pub start_local: String,
    /// Place or link.
    pub place: Option<String>,
    /// Members going.
    pub going: u32,
    /// Members who might come.
    pub maybe: u32,
    /// Members who attended.
    pub attended: u32,
    /// This member's own answer.
    pub mine: Option<RsvpStatus>,
}

const MINUTE: i64 = 60_000;

fn occurrence(e: &EventSummary, start: Timestamp, me: &MemberId) -> Occurrence {
    let count = |s: RsvpStatus| e.answers_for(start).filter(|r| r.status == s).count() as u32;
    Occurrence {
        event: e.id,
        title: e.details.title.clone(),
        kind: e.details.kind,
        start,
        end: Timestamp(start.0 + i64::from(e.details.duration_min) * MINUTE),
        tz: e.details.tz.clone(),
        start_local: event::utc_to_local(start, &e.details.tz)
            .map(|l| l.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        place: e.details.place.clone(),
        going: count(RsvpStatus::Going),
        maybe: count(RsvpStatus::Maybe),
        attended: count(RsvpStatus::Attended),
        mine: e
            .answers_for(start)
            .find(|r| r.member == *me)
            .map(|r| r.status),
    }
}

/// RFC 3339 UTC text of a time, for messages.
pub(crate) fn utc_text(t: Timestamp) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(t.0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| t.0.to_string())
}

fn event_ref(ev: &Event) -> DocRef {
    event_ref_of(&ev.community, &ev.id)
}

fn event_ref_of(community: &CommunityId, id: &DocId) -> DocRef {
    DocRef {
        community: *community,
        kind: DocKind::Event,
        id: *id,
    }
}
