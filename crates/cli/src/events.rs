//! Events and the community's rhythm: meetings, calls, workshops, sessions; answers,
//! co-edited notes and the calendar export (`event …`). Thin calls into `commonplace_node`;
//! JSON shapes are in docs/cli.md.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use commonplace_base::{MemberId, Timestamp};
use commonplace_model::event;
use commonplace_model::{Community, EventKind, EventSummary, RsvpStatus, TextEdit};
use commonplace_node::{NewEvent, Node, parse_local};
use serde_json::{Value, json};

use crate::community::CommunityArg;
use crate::output::time;
use crate::{Ctx, net, write_atomically};

/// Longest event: what the model accepts.
const MAX_EVENT: std::time::Duration =
    std::time::Duration::from_secs(event::MAX_DURATION_MIN as u64 * 60);

#[derive(Debug, Subcommand)]
pub(crate) enum EventCmd {
    /// Create an event (you become its organiser); prints the event id.
    New {
        #[command(flatten)]
        community: CommunityArg,
        /// meeting, call, workshop or session.
        #[arg(long)]
        kind: EventKind,
        /// Title.
        #[arg(long)]
        title: String,
        /// Local start in --tz, e.g. 2026-12-03T15:00.
        #[arg(long)]
        start: String,
        /// Your IANA time zone, e.g. America/Toronto.
        #[arg(long)]
        tz: String,
        /// Length, e.g. 60m or 2h.
        #[arg(long, default_value = "60m", value_parser = net::duration_up_to(MAX_EVENT))]
        duration: std::time::Duration,
        /// Place or link.
        #[arg(long = "where")]
        place: Option<String>,
        /// Agenda ("-" reads standard input).
        #[arg(long, default_value = "")]
        agenda: String,
        /// weekly, monthly, or an RRULE such as FREQ=WEEKLY;INTERVAL=2;BYDAY=TU.
        #[arg(long)]
        recur: Option<String>,
    },
    /// Change an event's details (organiser only); unnamed details stay.
    Edit(EditArgs),
    /// Cancel an event (organiser only).
    Cancel {
        /// The event.
        event: String,
        /// Take the cancellation back.
        #[arg(long)]
        undo: bool,
    },
    /// Events: upcoming first (soonest first), then past ones.
    List {
        #[command(flatten)]
        community: CommunityArg,
    },
    /// One event with its notes, answers and next occurrences.
    Show {
        /// The event (id or unique prefix).
        event: String,
    },
    /// Answer for yourself: going, maybe, no, or attended.
    Rsvp {
        /// The event.
        event: String,
        /// going, maybe, no or attended.
        status: RsvpStatus,
        /// The occurrence, as local time in the event's zone (default: the next one; for
        /// attended, the latest that has started).
        #[arg(long, value_name = "LOCAL_TIME")]
        on: Option<String>,
    },
    /// Edit the co-edited notes.
    Notes {
        /// The event.
        event: String,
        /// Add text at the end.
        #[arg(long, group = "edit")]
        append: Option<String>,
        /// Replace the whole text ("-" reads standard input).
        #[arg(long, group = "edit")]
        body: Option<String>,
    },
    /// Write every event of a community as an iCalendar (.ics) file.
    ExportIcs {
        #[command(flatten)]
        community: CommunityArg,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct EditArgs {
    /// The event (id or unique prefix).
    event: String,
    /// New title.
    #[arg(long)]
    title: Option<String>,
    /// New local start in the zone.
    #[arg(long)]
    start: Option<String>,
    /// New zone (the local start is kept unless --start is given).
    #[arg(long)]
    tz: Option<String>,
    /// New length.
    #[arg(long, value_parser = net::duration_up_to(MAX_EVENT))]
    duration: Option<std::time::Duration>,
    /// New place or link.
    #[arg(long = "where")]
    place: Option<String>,
    /// New agenda.
    #[arg(long)]
    agenda: Option<String>,
    /// New recurrence (`none` to stop repeating).
    #[arg(long)]
    recur: Option<String>,
}

impl EditArgs {
    pub(crate) fn reads_stdin(&self) -> bool {
        self.agenda.as_deref() == Some("-")
    }
}

fn member(c: &Community, m: &MemberId) -> Value {
    json!({ "id": m.to_string(), "name": c.roster.name_of(m) })
}

fn local(t: Timestamp, tz: &str) -> String {
    event::utc_to_local(t, tz)
        .map(|l| l.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

fn event_json(c: &Community, e: &EventSummary, now: Timestamp) -> Value {
    let d = &e.details;
    let next = e
        .occurrences(
            Timestamp(now.0 - i64::from(d.duration_min) * 60_000),
            Timestamp(i64::MAX),
            1,
        )
        .first()
        .copied();
    json!({
        "id": e.id.to_string(),
        "community": e.community.to_string(),
        "kind": d.kind.as_str(),
        "title": d.title,
        "organiser": e.organiser.map(|o| member(c, &o)),
        "start": time(d.start),
        "start_local": local(d.start, &d.tz),
        "tz": d.tz,
        "duration_min": d.duration_min,
        "where": d.place,
        "agenda": d.agenda,
        "recur": d.recur,
        "cancelled": e.cancelled,
        "next": next.map(time),
        "rsvps": e.rsvps.iter().map(|r| json!({
            "occurrence": time(r.occurrence),
            "member": member(c, &r.member),
            "status": r.status.as_str(),
        })).collect::<Vec<_>>(),
        "created_at": time(e.created_at),
        "updated_at": time(e.updated_at),
    })
}

fn new_event_from(e: &EventSummary) -> NewEvent {
    let d = &e.details;
    NewEvent {
        kind: d.kind,
        title: d.title.clone(),
        start_local: local(d.start, &d.tz),
        tz: d.tz.clone(),
        duration_min: d.duration_min,
        place: d.place.clone(),
        agenda: d.agenda.clone(),
        recur: d.recur.clone(),
    }
}

fn minutes(d: std::time::Duration) -> Result<u32> {
    let m = d.as_secs().div_ceil(60);
    u32::try_from(m).context("the duration is too long")
}

fn summary_of(node: &Node, id: &commonplace_base::DocId) -> Result<(Community, EventSummary)> {
    let e = node.event(id)?;
    let c = node.community(&e.community)?;
    Ok((c, e.summary()))
}

pub(crate) fn event(cx: &Ctx, cmd: EventCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let now = Timestamp::now();
    match cmd {
        EventCmd::New {
            community,
            kind,
            title,
            start,
            tz,
            duration,
            place,
            agenda,
            recur,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let id = node.create_event(
                &c,
                &NewEvent {
                    kind,
                    title,
                    start_local: start,
                    tz,
                    duration_min: minutes(duration)?,
                    place,
                    agenda: cx.text_arg(agenda)?,
                    recur,
                },
            )?;
            out.created("event", &id.to_string())
        }
        EventCmd::Edit(args) => edit(cx, args),
        EventCmd::Cancel { event, undo } => {
            let id = node.find_event(&event)?;
            node.cancel_event(&id, !undo)?;
            out.done(&format!(
                "{} {}",
                if undo { "restored" } else { "cancelled" },
                id.short()
            ))
        }
        EventCmd::List { community } => list(cx, &community, now),
        EventCmd::Show { event } => show(cx, &event, now),
        EventCmd::Rsvp { event, status, on } => {
            let id = node.find_event(&event)?;
            let occurrence = match on {
                Some(text) => {
                    let (_, e) = summary_of(node, &id)?;
                    Some(event::local_to_utc(parse_local(&text)?, &e.details.tz)?)
                }
                None => None,
            };
            let occ = node.rsvp(&id, occurrence, status)?;
            out.done(&format!(
                "{status} for {}",
                time(occ).as_str().unwrap_or("")
            ))
        }
        EventCmd::Notes {
            event,
            append,
            body,
        } => {
            let id = node.find_event(&event)?;
            let edit = match (append, body) {
                (Some(a), _) => TextEdit::Append(a),
                (_, Some(b)) => TextEdit::Replace(cx.text_arg(b)?),
                _ => bail!("say what to change: --append TEXT or --body TEXT"),
            };
            node.edit_event_notes(&id, &edit)?;
            out.done(&format!("notes of {} edited", id.short()))
        }
        EventCmd::ExportIcs {
            community,
            out: path,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let ics = node.export_ics(&c)?;
            write_atomically(&path, ics.as_bytes())?;
            let events = node.events(&c)?.len();
            if out.json {
                out.print_json(
                    &json!({ "path": path.display().to_string(), "events": events, "bytes": ics.len() }),
                )
            } else {
                say!(out, "wrote {events} events to {}", path.display());
                Ok(())
            }
        }
    }
}

/// Changes an event's details; those not given stay.
fn edit(cx: &Ctx, args: EditArgs) -> Result<()> {
    let EditArgs {
        event,
        title,
        start,
        tz,
        duration,
        place,
        agenda,
        recur,
    } = args;
    let (node, out) = (cx.node, cx.out);
    let id = node.find_event(&event)?;
    let (_, e) = summary_of(node, &id)?;
    let mut new = new_event_from(&e);
    if let Some(t) = title {
        new.title = t;
    }
    if let Some(s) = start {
        new.start_local = s;
    }
    if let Some(z) = tz {
        new.tz = z;
    }
    if let Some(d) = duration {
        new.duration_min = minutes(d)?;
    }
    if let Some(p) = place {
        new.place = Some(p);
    }
    if let Some(a) = agenda {
        new.agenda = cx.text_arg(a)?;
    }
    if let Some(r) = recur {
        new.recur = Some(r);
    }
    node.update_event(&id, &new)?;
    out.done(&format!("changed {}", id.short()))
}

fn list(cx: &Ctx, community: &CommunityArg, now: Timestamp) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let c = node.find_community(community.community.as_deref())?;
    let community = node.community(&c)?;
    let events = node.events(&c)?;
    if out.json {
        return out.print_json(&Value::Array(
            events
                .iter()
                .map(|e| event_json(&community, e, now))
                .collect(),
        ));
    }
    if events.is_empty() {
        say!(
            out,
            "No events yet. Create one with `commonplace event new`."
        );
    }
    for e in &events {
        let when = e
            .occurrences(now, Timestamp(i64::MAX), 1)
            .first()
            .map_or_else(
                || format!("was {}", local(e.details.start, &e.details.tz)),
                |n| format!("next {}", local(*n, &e.details.tz)),
            );
        say!(
            out,
            "{}  {:<9} {}  ({} {}{}{})",
            e.id.short(),
            e.details.kind.as_str(),
            e.details.title,
            when,
            e.details.tz,
            e.details
                .recur
                .as_deref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default(),
            if e.cancelled { ", cancelled" } else { "" }
        );
    }
    Ok(())
}

fn show(cx: &Ctx, event: &str, now: Timestamp) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let id = node.find_event(event)?;
    let full = node.event(&id)?;
    let c = node.community(&full.community)?;
    let e = full.summary();
    let upcoming = e.occurrences(now, Timestamp(i64::MAX), 10);
    if out.json {
        let mut j = event_json(&c, &e, now);
        j["notes"] = Value::String(full.notes.clone());
        j["upcoming"] = Value::Array(
            upcoming
                .iter()
                .map(|t| json!({ "start": time(*t), "start_local": local(*t, &e.details.tz) }))
                .collect(),
        );
        return out.print_json(&j);
    }
    let d = &e.details;
    say!(out, "{} ({})", d.title, d.kind.label());
    say!(
        out,
        "starts {} {} for {} minutes{}",
        local(d.start, &d.tz),
        d.tz,
        d.duration_min,
        d.recur
            .as_deref()
            .map(|r| format!(", repeats {r}"))
            .unwrap_or_default()
    );
    if let Some(o) = e.organiser {
        say!(out, "organiser: {}", c.roster.name_of(&o));
    }
    if let Some(p) = &d.place {
        say!(out, "where: {p}");
    }
    if e.cancelled {
        say!(out, "CANCELLED");
    }
    if !d.agenda.is_empty() {
        say!(out, "\nAgenda:\n{}", d.agenda);
    }
    if !upcoming.is_empty() {
        say!(out, "\nNext:");
        for t in &upcoming {
            say!(out, "  {}", local(*t, &d.tz));
        }
    }
    if !e.rsvps.is_empty() {
        say!(out, "\nAnswers:");
        for r in &e.rsvps {
            say!(
                out,
                "  {}  {:<8} {}",
                local(r.occurrence, &d.tz),
                r.status.as_str(),
                c.roster.name_of(&r.member)
            );
        }
    }
    if !full.notes.is_empty() {
        say!(out, "\nNotes:\n{}", full.notes);
    }
    Ok(())
}
