//! Commands for cultivating the community: events, participation levels, experts, gaps and
//! the health report. Thin calls into `commonplace_node`; JSON shapes are in docs/cli.md.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_insight::{GapOptions, render};
use commonplace_model::event;
use commonplace_model::{
    Community, EventKind, EventSummary, LevelThresholds, RsvpStatus, TextEdit,
};
use commonplace_node::{NewEvent, Node, parse_local};
use serde_json::{Value, json};

use crate::output::Out;
use crate::{CommunityArg, net, text_arg, write_atomically};

const DAY_MS: i64 = 86_400_000;
/// Longest period `health --since` and `member thresholds --window` take: ten years.
const MAX_PERIOD_DAYS: i64 = 3650;
/// Longest event: what the model accepts.
const MAX_EVENT: std::time::Duration =
    std::time::Duration::from_secs(event::MAX_DURATION_MIN as u64 * 60);

#[derive(Debug, Subcommand)]
pub enum EventCmd {
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
    Edit {
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
    },
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Md,
    Csv,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    community: CommunityArg,
    /// The period: the last 90d, 12w… up to now.
    #[arg(long, default_value = "90d", value_parser = parse_days)]
    since: i64,
    /// md, csv, html or json (default md; json with --json).
    #[arg(long)]
    format: Option<Format>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GapsArgs {
    #[command(flatten)]
    community: CommunityArg,
    /// Requests without a reply for more than this many days.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Entries not edited for more than this many days.
    #[arg(long, default_value_t = 365)]
    stale_days: u32,
}

#[derive(Debug, Args)]
pub struct ExpertsArgs {
    #[command(flatten)]
    community: CommunityArg,
    /// Only this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Instead, who could answer this open request ("ask someone who knows").
    #[arg(long, value_name = "THREAD", conflicts_with = "topic")]
    ask: Option<String>,
    /// Instead, members who should meet (same topics, different region or organisation).
    #[arg(long, conflicts_with_all = ["topic", "ask"])]
    meet: bool,
}

#[derive(Debug, Args)]
pub struct ThresholdArgs {
    #[command(flatten)]
    community: CommunityArg,
    /// How far back activity counts, e.g. 90d.
    #[arg(long, value_parser = parse_days)]
    window: Option<i64>,
    /// Contributions in the window for the core.
    #[arg(long)]
    core: Option<u32>,
    /// Contributions in the window to be active.
    #[arg(long)]
    active: Option<u32>,
    /// Contributions in the window to be peripheral.
    #[arg(long)]
    peripheral: Option<u32>,
}

/// "90d", "12w" or "90" (days) → days, from 1 to [`MAX_PERIOD_DAYS`].
fn parse_days(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("'{t}' is not a number of days like 90d or 12w");
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let days = match unit {
        "" | "d" => Some(n),
        "w" => n.checked_mul(7),
        _ => return Err(bad()),
    };
    match days {
        Some(d) if (1..=MAX_PERIOD_DAYS).contains(&d) => Ok(d),
        Some(0) => Err(format!("'{t}' is too short: at least 1d")),
        _ => Err(format!(
            "'{t}' is too long: at most {MAX_PERIOD_DAYS}d (ten years)"
        )),
    }
}

fn time(t: Timestamp) -> Value {
    chrono::DateTime::from_timestamp_millis(t.0)
        .map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn member(c: &Community, m: &MemberId) -> Value {
    json!({ "id": m.to_string(), "name": c.roster.name_of(m) })
}

fn local(t: Timestamp, tz: &str) -> String {
    event::utc_to_local(t, tz)
        .map(|l| l.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Integers under these keys are times: shown as RFC 3339 like every other time the CLI
/// prints (the node API keeps them as milliseconds for the app).
const TIME_KEYS: [&str; 10] = [
    "at",
    "since",
    "until",
    "week_start",
    "start",
    "end",
    "created_at",
    "updated_at",
    "last_active",
    "occurrence",
];

fn with_times(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    if TIME_KEYS.contains(&k.as_str())
                        && let Some(n) = x.as_i64()
                    {
                        *x = time(Timestamp(n));
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn print_json(v: &Value) -> Result<()> {
    crate::output::write_stdout(&serde_json::to_string_pretty(v)?);
    Ok(())
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

pub fn event(node: &Node, cmd: EventCmd, out: &Out) -> Result<()> {
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
                    agenda: text_arg(agenda)?,
                    recur,
                },
            )?;
            out.created("event", &id.to_string())
        }
        EventCmd::Edit {
            event,
            title,
            start,
            tz,
            duration,
            place,
            agenda,
            recur,
        } => {
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
                new.agenda = text_arg(a)?;
            }
            if let Some(r) = recur {
                new.recur = Some(r);
            }
            node.update_event(&id, &new)?;
            out.done(&format!("changed {}", id.short()))
        }
        EventCmd::Cancel { event, undo } => {
            let id = node.find_event(&event)?;
            node.cancel_event(&id, !undo)?;
            out.done(&format!(
                "{} {}",
                if undo { "restored" } else { "cancelled" },
                id.short()
            ))
        }
        EventCmd::List { community } => {
            let c = node.find_community(community.community.as_deref())?;
            let community = node.community(&c)?;
            let events = node.events(&c)?;
            if out.json {
                return print_json(&Value::Array(
                    events
                        .iter()
                        .map(|e| event_json(&community, e, now))
                        .collect(),
                ));
            }
            if events.is_empty() {
                say!("No events yet. Create one with `commonplace event new`.");
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
        EventCmd::Show { event } => {
            let id = node.find_event(&event)?;
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
                return print_json(&j);
            }
            let d = &e.details;
            say!("{} ({})", d.title, d.kind.label());
            say!(
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
                say!("organiser: {}", c.roster.name_of(&o));
            }
            if let Some(p) = &d.place {
                say!("where: {p}");
            }
            if e.cancelled {
                say!("CANCELLED");
            }
            if !d.agenda.is_empty() {
                say!("\nAgenda:\n{}", d.agenda);
            }
            if !upcoming.is_empty() {
                say!("\nNext:");
                for t in &upcoming {
                    say!("  {}", local(*t, &d.tz));
                }
            }
            if !e.rsvps.is_empty() {
                say!("\nAnswers:");
                for r in &e.rsvps {
                    say!(
                        "  {}  {:<8} {}",
                        local(r.occurrence, &d.tz),
                        r.status.as_str(),
                        c.roster.name_of(&r.member)
                    );
                }
            }
            if !full.notes.is_empty() {
                say!("\nNotes:\n{}", full.notes);
            }
            Ok(())
        }
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
                (_, Some(b)) => TextEdit::Replace(text_arg(b)?),
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
                print_json(
                    &json!({ "path": path.display().to_string(), "events": events, "bytes": ics.len() }),
                )
            } else {
                say!("wrote {events} events to {}", path.display());
                Ok(())
            }
        }
    }
}

pub fn health(node: &Node, args: HealthArgs, out: &Out) -> Result<()> {
    let c = node.find_community(args.community.community.as_deref())?;
    let until = Timestamp::now();
    let since = Timestamp(until.0 - args.since * DAY_MS);
    let report = node.health_report(&c, since, until)?;
    let format = args
        .format
        .unwrap_or(if out.json { Format::Json } else { Format::Md });
    let text = match format {
        Format::Md => render::markdown(&report),
        Format::Csv => render::csv(&report),
        Format::Html => render::html(&report),
        Format::Json => {
            serde_json::to_string_pretty(&with_times(serde_json::to_value(&report)?))? + "\n"
        }
    };
    match args.out {
        Some(path) => {
            write_atomically(&path, text.as_bytes())?;
            if out.json {
                print_json(&json!({ "path": path.display().to_string(), "bytes": text.len() }))
            } else {
                say!("wrote {}", path.display());
                Ok(())
            }
        }
        None => {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            match format {
                Format::Json => crate::output::write_stdout(text),
                _ => crate::output::write_stdout(&crate::output::terminal_safe(text)),
            }
            Ok(())
        }
    }
}

pub fn levels(node: &Node, community: &CommunityId, out: &Out) -> Result<()> {
    let p = node.participation(community, Timestamp::now())?;
    if out.json {
        return print_json(&with_times(serde_json::to_value(&p)?));
    }
    let t = &p.thresholds;
    say!(
        "Contributions in the last {} days: core ≥ {}, active ≥ {}, peripheral ≥ {}",
        t.window_days,
        t.core,
        t.active,
        t.peripheral
    );
    say!(
        "core {}  active {}  peripheral {}  inactive {}\n",
        p.counts.core,
        p.counts.active,
        p.counts.peripheral,
        p.counts.inactive
    );
    for m in &p.members {
        let moved = match m.previous {
            Some(prev) if prev != m.level => format!("  (was {})", prev.as_str()),
            None => "  (new)".into(),
            _ => String::new(),
        };
        say!(
            "{}  {:<10} {:>3}  {}{}",
            m.member.id.short(),
            m.level.as_str(),
            m.contributions,
            m.member.name,
            moved
        );
    }
    Ok(())
}

pub fn thresholds(node: &Node, args: ThresholdArgs, out: &Out) -> Result<()> {
    let c = node.find_community(args.community.community.as_deref())?;
    let mut t: LevelThresholds = node.level_thresholds(&c)?;
    let changing = args.window.is_some()
        || args.core.is_some()
        || args.active.is_some()
        || args.peripheral.is_some();
    if let Some(w) = args.window {
        t.window_days = u32::try_from(w).context("the window is too long")?;
    }
    t.core = args.core.unwrap_or(t.core);
    t.active = args.active.unwrap_or(t.active);
    t.peripheral = args.peripheral.unwrap_or(t.peripheral);
    if changing {
        node.set_level_thresholds(&c, &t)?;
    }
    if out.json {
        return print_json(&serde_json::to_value(t)?);
    }
    say!(
        "window {}d, core ≥ {}, active ≥ {}, peripheral ≥ {}{}",
        t.window_days,
        t.core,
        t.active,
        t.peripheral,
        if changing { " (saved)" } else { "" }
    );
    Ok(())
}

pub fn experts(node: &Node, args: ExpertsArgs, out: &Out) -> Result<()> {
    if let Some(thread) = args.ask {
        let id = node.find_thread(&thread)?;
        let list = node.ask_someone_who_knows(&id, 5)?;
        if out.json {
            return print_json(&serde_json::to_value(&list)?);
        }
        if list.is_empty() {
            say!("Nobody with recorded expertise on this thread's topics has not yet taken part.");
        }
        for s in &list {
            say!(
                "{:>4}  {}  ({})",
                s.score,
                s.member.name,
                s.topics.join(", ")
            );
        }
        return Ok(());
    }
    let c = node.find_community(args.community.community.as_deref())?;
    if args.meet {
        let list = node.introductions(&c, 20)?;
        if out.json {
            return print_json(&serde_json::to_value(&list)?);
        }
        if list.is_empty() {
            say!(
                "No suggestions: nobody shares topics across regions or organisations without having met."
            );
        }
        for i in &list {
            say!(
                "{} and {}: {} (different {})",
                i.a.name,
                i.b.name,
                i.topics.join(", "),
                i.differ_in.join(" and ")
            );
        }
        return Ok(());
    }
    let list = node.experts(&c, args.topic.as_deref())?;
    if out.json {
        return print_json(&serde_json::to_value(&list)?);
    }
    if list.is_empty() {
        say!(
            "No expertise recorded yet: it grows from answers, \"this helped\" and repertoire entries."
        );
    }
    let mut topic = "";
    for e in &list {
        if e.topic != topic {
            topic = &e.topic;
            say!("\n#{topic}");
        }
        say!(
            "{:>4}  {}  ({} replies, {} answers, {} helped, {} entries written, {} edited)",
            e.score,
            e.member.name,
            e.replies,
            e.answers,
            e.helped,
            e.entries_written,
            e.entries_edited
        );
    }
    Ok(())
}

pub fn gaps(node: &Node, args: GapsArgs, out: &Out) -> Result<()> {
    let c = node.find_community(args.community.community.as_deref())?;
    let options = GapOptions {
        unanswered_days: args.days,
        stale_days: args.stale_days,
    };
    let g = node.gaps(&c, &options, Timestamp::now())?;
    let map = node.knowledge_map(&c)?;
    if out.json {
        let mut v = with_times(serde_json::to_value(&g)?);
        v["topics"] = with_times(serde_json::to_value(&map)?);
        return print_json(&v);
    }
    say!("Topics (threads, open requests, entries):");
    for t in &map {
        say!(
            "  #{:<24} {:>4} {:>4} {:>4}",
            t.topic,
            t.threads,
            t.open_requests,
            t.entries
        );
    }
    say!("\nTopics with requests but no repertoire:");
    for t in &g.topics_without_repertoire {
        say!(
            "  #{} ({} requests, {} open)",
            t.topic,
            t.requests,
            t.open_requests
        );
    }
    say!(
        "\nRequests: {} asked, {} open, {} with no reply from anyone but the asker.",
        g.requests,
        g.open_requests,
        g.unanswered
    );
    say!(
        "Open requests with no reply for more than {} days:",
        args.days
    );
    for r in &g.unanswered_requests {
        say!("  {}  {} ({} days)", r.id.short(), r.title, r.age_days);
    }
    say!(
        "\nEntries not edited for more than {} days:",
        args.stale_days
    );
    for e in &g.stale_entries {
        say!("  {}  {} ({} days)", e.id.short(), e.title, e.age_days);
    }
    Ok(())
}
