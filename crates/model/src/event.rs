//! Events: the community's rhythm. One Automerge document per event (a one-off gathering or a
//! recurring series).
//!
//! Times are stored as UTC milliseconds together with the organiser's IANA time zone, so a
//! weekly call at 15:00 in Toronto stays at 15:00 Toronto time across daylight-saving changes:
//! recurrence is expanded in the organiser's zone ([`occurrences`], with the `rrule` crate),
//! never by adding fixed hours to the UTC start.
//!
//! Who may write what (enforced for changes from peers by [`crate::verify`]):
//!
//! - the organiser — the signer who created the `notes` text, as an entry's author is the one
//!   who created its body — owns the kind, title, start, zone, duration, place, agenda,
//!   recurrence and whether it is cancelled;
//! - any member answers for themself in `rsvp`, under keys `"<occurrence ms>/<member id>"`
//!   (one answer per occurrence of a series); a key naming someone else is refused;
//! - `notes` is Automerge Text that every member edits together.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::entry::TextEdit;
use crate::read::{View, signer_of_op};
use crate::thread::{MAX_TITLE, excerpt};
use crate::{EventKind, RsvpStatus, SCHEMA_VERSION, SchemaError, validate};

/// Longest agenda, in characters.
pub const MAX_AGENDA: usize = 20_000;
/// Longest notes, in characters.
pub const MAX_NOTES: usize = 1_000_000;
/// Longest event, in minutes (a three-day conference).
pub const MAX_DURATION_MIN: u32 = 3 * 24 * 60;
/// Most occurrences one expansion returns.
pub const MAX_OCCURRENCES: u16 = 2_000;

/// What the organiser decides about an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventDetails {
    /// Meeting, call, workshop or session.
    pub kind: EventKind,
    /// Its title.
    pub title: String,
    /// When the (first) occurrence starts, in UTC.
    pub start: Timestamp,
    /// The organiser's IANA time zone, e.g. `America/Toronto`.
    pub tz: String,
    /// Length in minutes.
    pub duration_min: u32,
    /// A place or a link.
    pub place: Option<String>,
    /// The agenda.
    pub agenda: String,
    /// Recurrence as an RFC 5545 RRULE value (`FREQ=WEEKLY`), or none for a one-off event.
    pub recur: Option<String>,
}

/// One member's answer for one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rsvp {
    /// The occurrence's start (the event's start for a one-off event).
    pub occurrence: Timestamp,
    /// The member (the signer of the answer).
    pub member: MemberId,
    /// Their answer.
    pub status: RsvpStatus,
}

/// A whole event, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Event {
    /// The event id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// Who organises it (from the signed change).
    pub organiser: Option<MemberId>,
    /// What the organiser decided.
    pub details: EventDetails,
    /// Whether the organiser cancelled it.
    pub cancelled: bool,
    /// The co-edited notes.
    pub notes: String,
    /// Answers, by occurrence then member.
    pub rsvps: Vec<Rsvp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When the organiser last changed it.
    pub updated_at: Timestamp,
}

/// What lists, calendars and reports need about an event, kept in the read index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventSummary {
    /// The event id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// Who organises it.
    pub organiser: Option<MemberId>,
    /// What the organiser decided.
    pub details: EventDetails,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Answers, by occurrence then member.
    pub rsvps: Vec<Rsvp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When the organiser last changed it.
    pub updated_at: Timestamp,
    /// A short start of the notes.
    pub notes_excerpt: String,
}

/// Parses an IANA time zone name.
pub fn parse_tz(name: &str) -> Result<chrono_tz::Tz, SchemaError> {
    name.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| SchemaError::Input {
            field: "time zone",
            problem: format!("'{name}' is not an IANA time zone such as America/Toronto"),
        })
}

/// The UTC instant of a wall-clock time in `tz`. An ambiguous time (the hour repeated when
/// clocks go back) is the first of the two; a time that does not exist (skipped when clocks
/// go forward) is refused.
pub fn local_to_utc(local: NaiveDateTime, tz: &str) -> Result<Timestamp, SchemaError> {
    let zone = parse_tz(tz)?;
    let dt = zone
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| SchemaError::Input {
            field: "start",
            problem: format!("{local} does not exist in {tz} (the clocks skip it)"),
        })?;
    Ok(Timestamp(dt.with_timezone(&Utc).timestamp_millis()))
}

/// The wall-clock time of a UTC instant in `tz`.
pub fn utc_to_local(at: Timestamp, tz: &str) -> Result<NaiveDateTime, SchemaError> {
    let zone = parse_tz(tz)?;
    let utc = DateTime::<Utc>::from_timestamp_millis(at.0).ok_or(SchemaError::Input {
        field: "start",
        problem: "is out of range".into(),
    })?;
    Ok(utc.with_timezone(&zone).naive_local())
}

/// Turns what a member typed (`weekly`, `monthly`, `none`, or an RRULE such as
/// `FREQ=WEEKLY;INTERVAL=2;BYDAY=TU`, with or without `RRULE:`) into the stored RRULE value.
/// Rules more frequent than daily are refused: they are not a community's rhythm.
pub fn normalise_recur(text: &str) -> Result<Option<String>, SchemaError> {
    let t = text.trim();
    let bad = |problem: String| SchemaError::Input {
        field: "recurrence",
        problem,
    };
    let rule = match t.to_ascii_lowercase().as_str() {
        "" | "none" | "no" => return Ok(None),
        "daily" => "FREQ=DAILY".to_owned(),
        "weekly" => "FREQ=WEEKLY".to_owned(),
        "fortnightly" | "biweekly" => "FREQ=WEEKLY;INTERVAL=2".to_owned(),
        "monthly" => "FREQ=MONTHLY".to_owned(),
        "yearly" | "annually" => "FREQ=YEARLY".to_owned(),
        _ => {
            let upper = t.to_ascii_uppercase();
            upper
                .strip_prefix("RRULE:")
                .unwrap_or(&upper)
                .trim()
                .to_owned()
        }
    };
    if rule.contains(['\n', '\r', ':']) || rule.contains("DTSTART") {
        return Err(bad(format!(
            "'{t}' is not an RRULE value (expected e.g. FREQ=WEEKLY;BYDAY=TU)"
        )));
    }
    let freq = rule
        .split(';')
        .find_map(|part| part.strip_prefix("FREQ="))
        .ok_or_else(|| bad(format!("'{t}' has no FREQ= part")))?;
    if !matches!(freq, "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY") {
        return Err(bad(format!(
            "FREQ={freq} is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY"
        )));
    }
    // Check that the rule parses, against any start.
    interval_ok(&rule).map_err(|e| bad(format!("'{t}': {e}")))?;
    rule_set(Timestamp(0), "UTC", &rule).map_err(|e| bad(format!("'{t}': {e}")))?;
    Ok(Some(rule))
}

/// Most periods between two occurrences a rule may ask for (a hundred years, months...).
const MAX_INTERVAL: u32 = 100;

/// `INTERVAL=0` parses but never occurs again; absurd intervals never occur in practice.
fn interval_ok(rule: &str) -> Result<(), String> {
    match rule
        .split(';')
        .find_map(|part| part.strip_prefix("INTERVAL="))
    {
        None => Ok(()),
        Some(n) => match n.parse::<u32>() {
            Ok(n) if (1..=MAX_INTERVAL).contains(&n) => Ok(()),
            _ => Err(format!(
                "INTERVAL={n} is not a whole number from 1 to {MAX_INTERVAL}"
            )),
        },
    }
}

fn rule_set(start: Timestamp, tz: &str, rule: &str) -> Result<rrule::RRuleSet, String> {
    // Also for rules that came from a peer, which `normalise_recur` did not see.
    interval_ok(rule)?;
    let local = utc_to_local(start, tz).map_err(|e| e.to_string())?;
    let text = format!(
        "DTSTART;TZID={tz}:{}\nRRULE:{rule}",
        local.format("%Y%m%dT%H%M%S")
    );
    text.parse::<rrule::RRuleSet>().map_err(|e| e.to_string())
}

/// Start times (UTC) of the occurrences of an event that start in `[from, to)`, at most
/// `limit`, oldest first. Recurrence is expanded in the event's own time zone, so the local
/// time of day stays the same across daylight-saving changes.
pub fn occurrences(
    details: &EventDetails,
    from: Timestamp,
    to: Timestamp,
    limit: u16,
) -> Vec<Timestamp> {
    let Some(rule) = details.recur.as_deref() else {
        return if details.start >= from && details.start < to && limit > 0 {
            vec![details.start]
        } else {
            Vec::new()
        };
    };
    let (Ok(zone), Ok(set)) = (
        parse_tz(&details.tz),
        rule_set(details.start, &details.tz, rule),
    ) else {
        // A rule that does not expand (it was checked when written, so only a peer's odd
        // rule) still has its first occurrence.
        return occurrences(
            &EventDetails {
                recur: None,
                ..details.clone()
            },
            from,
            to,
            limit,
        );
    };
    let tz = rrule::Tz::Tz(zone);
    let (Some(after), Some(before)) = (
        DateTime::<Utc>::from_timestamp_millis(from.0.max(details.start.0)),
        // Past year 9999 nothing is representable; nobody plans that far.
        DateTime::<Utc>::from_timestamp_millis(to.0.min(253_402_300_799_000).saturating_sub(1)),
    ) else {
        return Vec::new();
    };
    if after > before {
        return Vec::new();
    }
    set.after(after.with_timezone(&tz))
        .before(before.with_timezone(&tz))
        .all(limit)
        .dates
        .into_iter()
        .map(|d| Timestamp(d.timestamp_millis()))
        .filter(|t| *t >= from && *t < to)
        .collect()
}

fn check_details(d: &EventDetails) -> Result<(), SchemaError> {
    validate::line("title", &d.title, MAX_TITLE)?;
    parse_tz(&d.tz)?;
    if d.duration_min == 0 || d.duration_min > MAX_DURATION_MIN {
        return Err(SchemaError::Input {
            field: "duration",
            problem: format!("must be between 1 minute and {MAX_DURATION_MIN} minutes"),
        });
    }
    if let Some(p) = &d.place {
        validate::line("place", p, 1_000)?;
    }
    validate::paragraph("agenda", &d.agenda, MAX_AGENDA)?;
    if let Some(r) = &d.recur
        && normalise_recur(r)?.as_deref() != Some(r.as_str())
    {
        return Err(SchemaError::Input {
            field: "recurrence",
            problem: format!("'{r}' is not a normalised RRULE value"),
        });
    }
    Ok(())
}

/// Writes a new event document; the signer becomes its organiser.
pub fn init<T: Transactable>(
    tx: &mut T,
    community: &CommunityId,
    details: &EventDetails,
    now: Timestamp,
) -> Result<(), SchemaError> {
    check_details(details)?;
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "event")?;
    tx.put(ROOT, "community", community.to_string())?;
    tx.put(ROOT, "created_at", now.0)?;
    tx.put_object(ROOT, "notes", ObjType::Text)?;
    tx.put_object(ROOT, "rsvp", ObjType::Map)?;
    write_details(tx, details, now)
}

/// Replaces what the organiser decides (organiser only: peers refuse anyone else's change).
pub fn update<T: Transactable>(
    tx: &mut T,
    details: &EventDetails,
    now: Timestamp,
) -> Result<(), SchemaError> {
    check_details(details)?;
    write_details(tx, details, now)
}

fn write_details<T: Transactable>(
    tx: &mut T,
    d: &EventDetails,
    now: Timestamp,
) -> Result<(), SchemaError> {
    tx.put(ROOT, "event_kind", d.kind.as_str())?;
    tx.put(ROOT, "title", d.title.trim())?;
    tx.put(ROOT, "start", d.start.0)?;
    tx.put(ROOT, "tz", d.tz.trim())?;
    tx.put(ROOT, "duration_min", i64::from(d.duration_min))?;
    match &d.place {
        Some(p) => tx.put(ROOT, "place", p.trim())?,
        None if tx.get(ROOT, "place")?.is_some() => tx.delete(ROOT, "place")?,
        None => {}
    }
    tx.put(ROOT, "agenda", d.agenda.as_str())?;
    match &d.recur {
        Some(r) => tx.put(ROOT, "recur", r.as_str())?,
        None if tx.get(ROOT, "recur")?.is_some() => tx.delete(ROOT, "recur")?,
        None => {}
    }
    tx.put(ROOT, "updated_at", now.0)?;
    Ok(())
}

/// Cancels the event, or takes the cancellation back (organiser only).
pub fn set_cancelled<T: Transactable>(
    tx: &mut T,
    cancelled: bool,
    now: Timestamp,
) -> Result<(), SchemaError> {
    tx.put(ROOT, "cancelled", cancelled)?;
    tx.put(ROOT, "updated_at", now.0)?;
    Ok(())
}

/// Records `member`'s answer for the occurrence starting at `occurrence`. Only the member
/// may write their own answer.
pub fn rsvp<T: Transactable>(
    tx: &mut T,
    member: &MemberId,
    occurrence: Timestamp,
    status: RsvpStatus,
) -> Result<(), SchemaError> {
    let map = match tx.get(ROOT, "rsvp")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        _ => return Err(SchemaError::Field { field: "rsvp" }),
    };
    tx.put(&map, rsvp_key(occurrence, member).as_str(), status.as_str())?;
    Ok(())
}

/// The key of one answer.
pub fn rsvp_key(occurrence: Timestamp, member: &MemberId) -> String {
    format!("{}/{member}", occurrence.0)
}

/// Edits the co-edited notes.
pub fn edit_notes<T: Transactable>(tx: &mut T, edit: &TextEdit) -> Result<(), SchemaError> {
    let text = match tx.get(ROOT, "notes")? {
        Some((automerge::Value::Object(ObjType::Text), id)) => id,
        _ => return Err(SchemaError::Field { field: "notes" }),
    };
    let len = tx.length(&text);
    let past_end = |what: &'static str, problem: String| SchemaError::Input {
        field: what,
        problem,
    };
    match edit {
        TextEdit::Replace(new) => {
            validate::paragraph("notes", new, MAX_NOTES)?;
            crate::splice::replace(tx, &text, new)?;
        }
        TextEdit::Append(more) => {
            validate::paragraph("notes", more, MAX_NOTES.saturating_sub(len))?;
            tx.splice_text(&text, len, 0, more)?;
        }
        TextEdit::Insert { at, text: more } => {
            if *at > len {
                return Err(past_end(
                    "position",
                    format!("{at} is past the end of the notes ({len} characters)"),
                ));
            }
            validate::paragraph("notes", more, MAX_NOTES.saturating_sub(len))?;
            tx.splice_text(&text, *at, 0, more)?;
        }
        TextEdit::Delete { at, len: n } => {
            if at.saturating_add(*n) > len {
                return Err(past_end(
                    "range",
                    format!("{at}+{n} is past the end of the notes ({len} characters)"),
                ));
            }
            let n = isize::try_from(*n).map_err(|_| SchemaError::Field { field: "range" })?;
            tx.splice_text(&text, *at, n, "")?;
        }
    }
    Ok(())
}

/// Reads an event document.
pub fn read(doc: &Automerge, id: DocId) -> Result<Event, SchemaError> {
    let v = View::now(doc);
    v.check_schema("event")?;
    let community: CommunityId = v
        .str(&ROOT, "community")?
        .parse()
        .map_err(|_| SchemaError::Field { field: "community" })?;
    let notes_obj = v.req_obj(&ROOT, "notes", ObjType::Text)?;
    let created_at = Timestamp(v.i64(&ROOT, "created_at")?);
    let duration = v.i64(&ROOT, "duration_min")?;
    let details = EventDetails {
        kind: v.str(&ROOT, "event_kind")?.parse()?,
        title: v.str(&ROOT, "title")?,
        start: Timestamp(v.i64(&ROOT, "start")?),
        tz: v.str(&ROOT, "tz")?,
        duration_min: u32::try_from(duration).map_err(|_| SchemaError::Field {
            field: "duration_min",
        })?,
        place: v.opt_str(&ROOT, "place").filter(|s| !s.is_empty()),
        agenda: v.opt_str(&ROOT, "agenda").unwrap_or_default(),
        recur: v.opt_str(&ROOT, "recur").filter(|s| !s.is_empty()),
    };
    Ok(Event {
        id,
        community,
        organiser: signer_of_op(&notes_obj),
        details,
        cancelled: v.opt_bool(&ROOT, "cancelled").unwrap_or(false),
        notes: v.text(&notes_obj)?,
        rsvps: read_rsvps(v),
        created_at,
        updated_at: Timestamp(v.opt_i64(&ROOT, "updated_at").unwrap_or(created_at.0)),
    })
}

/// Answers whose value was written by the member their key names; anything else is ignored.
fn read_rsvps(v: View<'_>) -> Vec<Rsvp> {
    let Some(obj) = v.obj(&ROOT, "rsvp", ObjType::Map) else {
        return Vec::new();
    };
    let mut out: Vec<Rsvp> = v
        .keys(&obj)
        .into_iter()
        .filter_map(|k| {
            let (at, member) = k.split_once('/')?;
            let member: MemberId = member.parse().ok()?;
            let occurrence = Timestamp(at.parse().ok()?);
            if v.writer_of(&obj, &k) != Some(member) {
                return None;
            }
            let status = v.opt_str(&obj, &k)?.parse().ok()?;
            Some(Rsvp {
                occurrence,
                member,
                status,
            })
        })
        .collect();
    out.sort();
    out
}

impl Event {
    /// The summary kept in the read index.
    pub fn summary(&self) -> EventSummary {
        EventSummary {
            id: self.id,
            community: self.community,
            organiser: self.organiser,
            details: self.details.clone(),
            cancelled: self.cancelled,
            rsvps: self.rsvps.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            notes_excerpt: excerpt(&self.notes, 200),
        }
    }
}

impl EventSummary {
    /// Occurrences starting in `[from, to)` (none if the event was cancelled).
    pub fn occurrences(&self, from: Timestamp, to: Timestamp, limit: u16) -> Vec<Timestamp> {
        if self.cancelled {
            return Vec::new();
        }
        occurrences(&self.details, from, to, limit)
    }

    /// Answers for one occurrence.
    pub fn answers_for(&self, occurrence: Timestamp) -> impl Iterator<Item = &Rsvp> {
        self.rsvps
            .iter()
            .filter(move |r| r.occurrence == occurrence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Timelike};

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .unwrap()
    }

    fn weekly_toronto() -> EventDetails {
        EventDetails {
            kind: EventKind::Call,
            title: "Practice call".into(),
            start: local_to_utc(at(2026, 10, 22, 15, 0), "America/Toronto").unwrap(),
            tz: "America/Toronto".into(),
            duration_min: 60,
            place: None,
            agenda: String::new(),
            recur: Some("FREQ=WEEKLY".into()),
        }
    }

    #[test]
    fn weekly_stays_at_local_time_across_both_dst_switches() {
        let d = weekly_toronto();
        let from = Timestamp(0);
        let to = local_to_utc(at(2027, 4, 1, 0, 0), "America/Toronto").unwrap();
        let occ = occurrences(&d, from, to, 100);
        // 22 Oct 2026 to 25 Mar 2027, every Thursday: 23 occurrences.
        assert_eq!(occ.len(), 23);
        for o in &occ {
            let local = utc_to_local(*o, "America/Toronto").unwrap();
            assert_eq!((local.hour(), local.minute()), (15, 0), "{local}");
        }
        // Before 1 Nov 2026 Toronto is UTC-4, after it UTC-5, after 14 Mar 2027 UTC-4 again.
        let utc_hour = |t: Timestamp| DateTime::<Utc>::from_timestamp_millis(t.0).unwrap().hour();
        assert_eq!(utc_hour(occ[0]), 19); // 22 Oct 2026
        assert_eq!(utc_hour(occ[2]), 20); // 5 Nov 2026
        assert_eq!(utc_hour(occ[22]), 19); // 25 Mar 2027
        // Consecutive occurrences are a week apart except across a switch.
        assert_eq!(occ[2].0 - occ[1].0, 7 * 24 * 3_600_000 + 3_600_000);
        assert_eq!(occ[1].0 - occ[0].0, 7 * 24 * 3_600_000);
    }

    #[test]
    fn window_is_half_open_and_one_off_events_have_one_occurrence() {
        let mut d = weekly_toronto();
        let first = d.start;
        let week = 7 * 24 * 3_600_000;
        assert_eq!(
            occurrences(&d, first, Timestamp(first.0 + week), 10),
            vec![first]
        );
        assert_eq!(
            occurrences(
                &d,
                Timestamp(first.0 + 1),
                Timestamp(first.0 + week + 1),
                10
            ),
            vec![Timestamp(first.0 + week)]
        );
        d.recur = None;
        assert_eq!(
            occurrences(&d, Timestamp(0), Timestamp(i64::MAX), 10),
            vec![first]
        );
        assert!(occurrences(&d, Timestamp(first.0 + 1), Timestamp(i64::MAX), 10).is_empty());
    }

    #[test]
    fn monthly_by_weekday_follows_local_time() {
        let mut d = weekly_toronto();
        d.recur = normalise_recur("FREQ=MONTHLY;BYDAY=1TU").unwrap();
        d.start = local_to_utc(at(2026, 10, 6, 9, 30), "Europe/Lisbon").unwrap();
        d.tz = "Europe/Lisbon".into();
        let occ = occurrences(&d, Timestamp(0), Timestamp(i64::MAX / 2), 4);
        let days: Vec<String> = occ
            .iter()
            .map(|o| {
                utc_to_local(*o, "Europe/Lisbon")
                    .unwrap()
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            days,
            [
                "2026-10-06 09:30",
                "2026-11-03 09:30",
                "2026-12-01 09:30",
                "2027-01-05 09:30"
            ]
        );
    }

    #[test]
    fn recurrence_words_and_rules() {
        assert_eq!(
            normalise_recur("weekly").unwrap().as_deref(),
            Some("FREQ=WEEKLY")
        );
        assert_eq!(
            normalise_recur("Monthly").unwrap().as_deref(),
            Some("FREQ=MONTHLY")
        );
        assert_eq!(normalise_recur("none").unwrap(), None);
        assert_eq!(
            normalise_recur("RRULE:freq=weekly;interval=2;byday=tu")
                .unwrap()
                .as_deref(),
            Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
        );
        assert!(normalise_recur("FREQ=SECONDLY").is_err());
        assert!(normalise_recur("FREQ=WEEKLY;BYDAY=XX").is_err());
        assert!(normalise_recur("every now and then").is_err());
        // An interval of zero would never occur again; absurd ones never occur in practice.
        for bad in [
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=WEEKLY;INTERVAL=-1",
            "FREQ=YEARLY;INTERVAL=101",
        ] {
            let err = normalise_recur(bad).unwrap_err().to_string();
            assert!(err.contains("INTERVAL="), "{bad}: {err}");
        }
        assert!(normalise_recur("FREQ=MONTHLY;INTERVAL=100").is_ok());
    }

    #[test]
    fn the_event_forms_patterns_are_kept_as_written_and_expand() {
        // What the UI's event form writes (ui/src/lib/events/when.ts, `repeatChoices`): these
        // must be accepted unchanged, or an edit would show the event as a custom rule.
        for rule in [
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;INTERVAL=2",
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;BYDAY=2TH",
            "FREQ=MONTHLY;BYDAY=-1TH",
            "FREQ=YEARLY",
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
            "FREQ=MONTHLY;BYDAY=2TH;UNTIL=20270630T215959Z",
        ] {
            assert_eq!(normalise_recur(rule).unwrap().as_deref(), Some(rule));
        }
        // The last Thursday of each month, 15:00 in Oslo, until 30 June 2027 (end of day there).
        let mut d = weekly_toronto();
        d.tz = "Europe/Oslo".into();
        d.start = local_to_utc(at(2027, 1, 28, 15, 0), "Europe/Oslo").unwrap();
        d.recur = normalise_recur("FREQ=MONTHLY;BYDAY=-1TH;UNTIL=20270630T215959Z").unwrap();
        let days: Vec<String> = occurrences(&d, Timestamp(0), Timestamp(i64::MAX / 2), 20)
            .iter()
            .map(|o| {
                utc_to_local(*o, "Europe/Oslo")
                    .unwrap()
                    .format("%m-%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            days,
            [
                "01-28 15:00",
                "02-25 15:00",
                "03-25 15:00",
                "04-29 15:00",
                "05-27 15:00",
                "06-24 15:00"
            ]
        );
    }

    #[test]
    fn local_times_that_do_not_exist_are_refused_and_ambiguous_ones_take_the_first() {
        // 8 March 2026, 02:30 does not exist in Toronto.
        assert!(local_to_utc(at(2026, 3, 8, 2, 30), "America/Toronto").is_err());
        // 1 November 2026, 01:30 happens twice; the first is still daylight time (UTC-4).
        let t = local_to_utc(at(2026, 11, 1, 1, 30), "America/Toronto").unwrap();
        let utc = DateTime::<Utc>::from_timestamp_millis(t.0).unwrap();
        assert_eq!(utc.hour(), 5);
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
