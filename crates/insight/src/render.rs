//! The health report as Markdown, CSV, JSON and a standalone HTML page with charts.
//!
//! The HTML page inlines uPlot (MIT, `assets/`), so it opens anywhere with no network.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use commonplace_base::Timestamp;

use crate::health::{HealthReport, WeekRow};
use crate::participation::Level;

const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");

/// `2026-11-25`.
pub fn date(t: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{:.0}%", x * 100.0))
}

fn num(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{x:.1}"))
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "week_start",
    "threads",
    "replies",
    "posts",
    "active_members",
    "new_members",
    "entries_created",
    "events_held",
    "attendance",
];

fn csv_row(out: &mut String, label: &str, w: &WeekRow) {
    let _ = writeln!(
        out,
        "{label},{},{},{},{},{},{},{},{}",
        w.threads,
        w.replies,
        w.posts,
        w.active_members,
        w.new_members,
        w.entries_created,
        w.events_held,
        w.attendance
    );
}

/// One row per week, then a `total` row over the period (its `active_members` counts each
/// member once, so it is not the sum of the weeks).
pub fn csv(r: &HealthReport) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for w in &r.weeks {
        csv_row(&mut out, &date(w.week_start), w);
    }
    csv_row(&mut out, "total", &r.totals);
    out
}

/// The report as pretty JSON.
pub fn json(r: &HealthReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn markdown(r: &HealthReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Health of {}\n", md_escape(&r.name));
    let _ = writeln!(
        o,
        "{} to {} (UTC). Computed on this machine from the signed history.\n",
        date(r.since),
        date(Timestamp(r.until.0 - 1))
    );
    let m = &r.members;
    let _ = writeln!(o, "## Members\n");
    let _ = writeln!(
        o,
        "- {} members, {} contributed in the period, {} new",
        m.total, m.active, m.new
    );
    let t = &r.thresholds;
    let _ = writeln!(
        o,
        "- Levels (contributions in the last {} days: core ≥ {}, active ≥ {}, peripheral ≥ {}):\n",
        t.window_days, t.core, t.active, t.peripheral
    );
    let _ = writeln!(o, "| level | at start | at end |\n| --- | ---: | ---: |");
    for l in Level::ALL {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            l.as_str(),
            m.levels_at_start.get(l),
            m.levels_at_end.get(l)
        );
    }
    if !m.movement.is_empty() {
        let _ = writeln!(o, "\nMovement:\n");
        for mv in &m.movement {
            let _ = writeln!(
                o,
                "- {}: {} → {}",
                md_escape(&mv.member.name),
                mv.from.map_or("new", Level::as_str),
                mv.to.as_str()
            );
        }
    }
    let _ = writeln!(o, "\n## Activity per week\n");
    let _ = writeln!(
        o,
        "| week | threads | replies | posts | active | new members | entries | events | attendance |"
    );
    let _ = writeln!(
        o,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for w in r.weeks.iter().chain(std::iter::once(&r.totals)) {
        let label = if std::ptr::eq(w, &r.totals) {
            "**total**".to_owned()
        } else {
            date(w.week_start)
        };
        let _ = writeln!(
            o,
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            w.threads,
            w.replies,
            w.posts,
            w.active_members,
            w.new_members,
            w.entries_created,
            w.events_held,
            w.attendance
        );
    }
    let q = &r.requests;
    let _ = writeln!(o, "\n## Requests for information\n");
    let _ = writeln!(
        o,
        "- {} opened, {} replied to, {} resolved ({})",
        q.opened,
        q.replied,
        q.resolved,
        pct(q.share_resolved)
    );
    let _ = writeln!(
        o,
        "- Median time to first reply: {} hours",
        num(q.median_hours_to_first_reply)
    );
    let _ = writeln!(o, "- Unanswered at the end: {}", q.unanswered_at_end);
    let p = &r.repertoire;
    let _ = writeln!(o, "\n## Repertoire\n");
    let _ = writeln!(
        o,
        "- {} entries at the start, {} at the end; {} created ({} promoted from threads), {} edits",
        p.entries_at_start, p.entries_at_end, p.created, p.promoted_from_threads, p.edits
    );
    let _ = writeln!(
        o,
        "- Reuse: {} replies linked to {} entries",
        p.replies_linking_entries, p.entries_reused
    );
    let e = &r.events;
    let _ = writeln!(o, "\n## Events\n");
    let _ = writeln!(
        o,
        "- {} held, {} attendances (mean {})",
        e.held,
        e.attendance,
        num(e.mean_attendance)
    );
    for h in &e.occurrences {
        let _ = writeln!(
            o,
            "- {} {}: {} attended",
            date(h.start),
            md_escape(&h.title),
            h.attended
        );
    }
    if !r.top_topics.is_empty() {
        let _ = writeln!(o, "\n## Topics\n");
        for (t, n) in &r.top_topics {
            let _ = writeln!(o, "- {}: {n} threads", md_escape(t));
        }
    }
    o
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A standalone HTML page: the Markdown's figures as tables, and charts of posts, active
/// members and attendance per week, and of levels at the start and end.
pub fn html(r: &HealthReport) -> String {
    let xs: Vec<i64> = r.weeks.iter().map(|w| w.week_start.0 / 1000).collect();
    let series = |f: fn(&WeekRow) -> u32| -> Vec<u32> { r.weeks.iter().map(f).collect() };
    let data = serde_json::json!({
        "x": xs,
        "threads": series(|w| w.threads),
        "replies": series(|w| w.replies),
        "active": series(|w| w.active_members),
        "attendance": series(|w| w.attendance),
        "levels": Level::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "levels_start": Level::ALL.iter().map(|l| r.members.levels_at_start.get(*l)).collect::<Vec<_>>(),
        "levels_end": Level::ALL.iter().map(|l| r.members.levels_at_end.get(*l)).collect::<Vec<_>>(),
    });
    // `</` must not appear inside the script element.
    let data = data.to_string().replace("</", "<\\/");
    let title = format!("Health of {}", html_escape(&r.name));
    let mut tables = String::new();
    let q = &r.requests;
    let p = &r.repertoire;
    let m = &r.members;
    let e = &r.events;
    let _ = write!(
        tables,
        "<table><tr><th>Members</th><td>{}</td></tr><tr><th>Contributed</th><td>{}</td></tr>\
         <tr><th>New</th><td>{}</td></tr><tr><th>Posts</th><td>{}</td></tr>\
         <tr><th>Requests opened / resolved</th><td>{} / {} ({})</td></tr>\
         <tr><th>Median hours to first reply</th><td>{}</td></tr>\
         <tr><th>Entries (start → end)</th><td>{} → {} ({} promoted)</td></tr>\
         <tr><th>Replies linking entries</th><td>{} (to {} entries)</td></tr>\
         <tr><th>Events held / attendance</th><td>{} / {}</td></tr></table>",
        m.total,
        m.active,
        m.new,
        r.totals.posts,
        q.opened,
        q.resolved,
        pct(q.share_resolved),
        num(q.median_hours_to_first_reply),
        p.entries_at_start,
        p.entries_at_end,
        p.promoted_from_threads,
        p.replies_linking_entries,
        p.entries_reused,
        e.held,
        e.attendance
    );
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>{UPLOT_CSS}
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ padding: .25rem .75rem; border-bottom: 1px solid #ddd; text-align: left; }}
.chart {{ margin: 1.5rem 0; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{since} to {until} (UTC). Computed locally from the community's signed history.</p>
{tables}
<h2>Posts per week</h2><div class="chart" id="posts"></div>
<h2>Active members per week</h2><div class="chart" id="active"></div>
<h2>Attendance per week</h2><div class="chart" id="attendance"></div>
<h2>Participation levels</h2><div class="chart" id="levels"></div>
<script>{UPLOT_JS}</script>
<script>
const D = {data};
const W = Math.min(900, document.body.clientWidth || 900);
function chart(id, label, series, colors) {{
  const opts = {{ width: W, height: 260, series: [{{}}].concat(series.map((s, i) => ({{
    label: s, stroke: colors[i], fill: colors[i] + "33", width: 2 }}))),
    axes: [{{}}, {{ label: label }}], scales: {{ x: {{ time: true }} }} }};
  new uPlot(opts, [D.x].concat(series.map(s => D[s])), document.getElementById(id));
}}
chart("posts", "posts", ["threads", "replies"], ["#1f77b4", "#ff7f0e"]);
chart("active", "members", ["active"], ["#2ca02c"]);
chart("attendance", "attendances", ["attendance"], ["#9467bd"]);
new uPlot({{ width: W, height: 260, scales: {{ x: {{ time: false }} }},
  axes: [{{ values: (u, v) => v.map(i => D.levels[i] || "") }}, {{}}],
  series: [{{}}, {{ label: "at start", stroke: "#999", width: 2, paths: uPlot.paths.bars({{ size: [0.3] }}) }},
                 {{ label: "at end", stroke: "#d62728", width: 2, paths: uPlot.paths.bars({{ size: [0.3] }}) }}] }},
  [[0, 1, 2, 3], D.levels_start, D.levels_end], document.getElementById("levels"));
</script>
</body></html>
"##,
        since = date(r.since),
        until = date(Timestamp(r.until.0 - 1)),
    )
}
