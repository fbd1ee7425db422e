//! The health of the community and what it knows: the health report, participation
//! levels and their thresholds, experts, the knowledge map and its gaps. Thin calls into
//! `commonplace_node`; JSON shapes are in docs/cli.md.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use commonplace_base::{CommunityId, Timestamp};
use commonplace_insight::{GapOptions, render};
use commonplace_model::LevelThresholds;
use serde_json::{Value, json};

use crate::community::CommunityArg;
use crate::output::time;
use crate::{Ctx, write_atomically};

const DAY_MS: i64 = 86_400_000;
/// Longest period `health --since` and `member thresholds --window` take: ten years.
const MAX_PERIOD_DAYS: i64 = 3650;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Md,
    Csv,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
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
pub(crate) struct GapsArgs {
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
pub(crate) struct ExpertsArgs {
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
pub(crate) struct ThresholdArgs {
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

impl HealthArgs {
    pub(crate) fn resolve_paths(&mut self, cwd: &Path) {
        if let Some(p) = &mut self.out {
            *p = cwd.join(&*p);
        }
    }
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

pub(crate) fn health(cx: &Ctx, args: HealthArgs) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
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
                out.print_json(&json!({ "path": path.display().to_string(), "bytes": text.len() }))
            } else {
                say!(out, "wrote {}", path.display());
                Ok(())
            }
        }
        None => {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            match format {
                Format::Json => out.line(text),
                _ => out.line(&crate::output::terminal_safe(text)),
            }
            Ok(())
        }
    }
}

pub(crate) fn levels(cx: &Ctx, community: &CommunityId) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let p = node.participation(community, Timestamp::now())?;
    if out.json {
        return out.print_json(&with_times(serde_json::to_value(&p)?));
    }
    let t = &p.thresholds;
    say!(
        out,
        "Contributions in the last {} days: core ≥ {}, active ≥ {}, peripheral ≥ {}",
        t.window_days,
        t.core,
        t.active,
        t.peripheral
    );
    say!(
        out,
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
            out,
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

pub(crate) fn thresholds(cx: &Ctx, args: ThresholdArgs) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
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
        return out.print_json(&serde_json::to_value(t)?);
    }
    say!(
        out,
        "window {}d, core ≥ {}, active ≥ {}, peripheral ≥ {}{}",
        t.window_days,
        t.core,
        t.active,
        t.peripheral,
        if changing { " (saved)" } else { "" }
    );
    Ok(())
}

pub(crate) fn experts(cx: &Ctx, args: ExpertsArgs) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    if let Some(thread) = args.ask {
        let id = node.find_thread(&thread)?;
        let list = node.ask_someone_who_knows(&id, 5)?;
        if out.json {
            return out.print_json(&serde_json::to_value(&list)?);
        }
        if list.is_empty() {
            say!(
                out,
                "Nobody with recorded expertise on this thread's topics has not yet taken part."
            );
        }
        for s in &list {
            say!(
                out,
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
            return out.print_json(&serde_json::to_value(&list)?);
        }
        if list.is_empty() {
            say!(
                out,
                "No suggestions: nobody shares topics across regions or organisations without having met."
            );
        }
        for i in &list {
            say!(
                out,
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
        return out.print_json(&serde_json::to_value(&list)?);
    }
    if list.is_empty() {
        say!(
            out,
            "No expertise recorded yet: it grows from answers, \"this helped\" and repertoire entries."
        );
    }
    let mut topic = "";
    for e in &list {
        if e.topic != topic {
            topic = &e.topic;
            say!(out, "\n#{topic}");
        }
        say!(
            out,
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

pub(crate) fn gaps(cx: &Ctx, args: GapsArgs) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
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
        return out.print_json(&v);
    }
    say!(out, "Topics (threads, open requests, entries):");
    for t in &map {
        say!(
            out,
            "  #{:<24} {:>4} {:>4} {:>4}",
            t.topic,
            t.threads,
            t.open_requests,
            t.entries
        );
    }
    say!(out, "\nTopics with requests but no repertoire:");
    for t in &g.topics_without_repertoire {
        say!(
            out,
            "  #{} ({} requests, {} open)",
            t.topic,
            t.requests,
            t.open_requests
        );
    }
    say!(
        out,
        "\nRequests: {} asked, {} open, {} with no reply from anyone but the asker.",
        g.requests,
        g.open_requests,
        g.unanswered
    );
    say!(
        out,
        "Open requests with no reply for more than {} days:",
        args.days
    );
    for r in &g.unanswered_requests {
        say!(out, "  {}  {} ({} days)", r.id.short(), r.title, r.age_days);
    }
    say!(
        out,
        "\nEntries not edited for more than {} days:",
        args.stale_days
    );
    for e in &g.stale_entries {
        say!(out, "  {}  {} ({} days)", e.id.short(), e.title, e.age_days);
    }
    Ok(())
}
