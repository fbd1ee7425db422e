//! How results are printed: plain text for people, stable JSON for scripts (`--json`).
//! The JSON shapes are documented in docs/cli.md; change them only compatibly.
//!
//! Everything a command prints — human lines (`say!`), notes on standard error (`note!`),
//! JSON, reports and calendars printed instead of saved, `serve`'s address and QR code —
//! goes through one writer, [`Out`], never `print!`/`println!` (which panic on a closed
//! pipe, exit status 101): so the same command prints here or to a control-socket client.

use std::path::Path;

use anyhow::Result;
use commonplace_base::{MemberId, Timestamp};
use commonplace_model::{
    Community, Entry, EntrySummary, Post, RosterMember, Thread, ThreadSummary,
};
use commonplace_node::{CommunityOverview, Identity, ImportReport};
use serde_json::{Value, json};

/// Prints a line of human output to `out` through [`terminal_safe`] (what other members
/// wrote may hold escape sequences).
macro_rules! say {
    ($out:expr) => {
        $out.line("")
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(&$crate::output::terminal_safe(&format!($($arg)*)))
    };
}

/// Prints a note for people to `out`'s standard error, as written.
macro_rules! note {
    ($out:expr, $($arg:tt)*) => {
        $out.note(&format!($($arg)*))
    };
}

/// Text made safe for a terminal: control characters other than newline and tab (C0, DEL,
/// C1 — which start escape sequences, such as screen clears or OSC 52 clipboard writes) and
/// the bidirectional overrides (which make text display in another order than it reads) are
/// shown as `\u{..}` rather than sent to the terminal. Only for human output: `--json` is
/// exact, and JSON escapes control characters itself.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes `line` and a newline to standard output. A reader that went away (a closed pipe)
/// ends the program with success, as `cat` does, rather than a panic.
pub fn write_stdout(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: could not write the output: {e}");
        std::process::exit(1);
    }
}

/// Where a command's output goes: this process's standard output and error, or the
/// connection of a client of the control socket ([`crate::control`]). Every command writes
/// through it, so the same code serves both.
pub struct Out {
    /// Print JSON rather than text.
    pub json: bool,
    sink: Sink,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Out")
            .field("json", &self.json)
            .field("remote", &matches!(self.sink, Sink::Remote { .. }))
            .finish()
    }
}

enum Sink {
    Stdio,
    /// Frames for the client; a client that went away is not written to again.
    Remote {
        frames: tokio::sync::mpsc::UnboundedSender<crate::control::Frame>,
        gone: std::sync::atomic::AtomicBool,
    },
}

impl Out {
    /// Output to this process's standard output and error.
    pub fn stdio(json: bool) -> Out {
        Out {
            json,
            sink: Sink::Stdio,
        }
    }

    /// Output sent as frames to a control-socket client.
    pub(crate) fn remote(
        json: bool,
        frames: tokio::sync::mpsc::UnboundedSender<crate::control::Frame>,
    ) -> Out {
        Out {
            json,
            sink: Sink::Remote {
                frames,
                gone: std::sync::atomic::AtomicBool::new(false),
            },
        }
    }

    /// Writes `text` and a newline to standard output, as given.
    pub fn line(&self, text: &str) {
        match &self.sink {
            Sink::Stdio => write_stdout(text),
            Sink::Remote { .. } => self.send(crate::control::Frame::Stdout(format!("{text}\n"))),
        }
    }

    /// Writes `text` and a newline to standard error, as given.
    pub fn note(&self, text: &str) {
        match &self.sink {
            Sink::Stdio => eprintln!("{text}"),
            Sink::Remote { .. } => self.send(crate::control::Frame::Stderr(format!("{text}\n"))),
        }
    }

    fn send(&self, frame: crate::control::Frame) {
        use std::sync::atomic::Ordering;
        if let Sink::Remote { frames, gone } = &self.sink
            && !gone.load(Ordering::Relaxed)
            && frames.send(frame).is_err()
        {
            gone.store(true, Ordering::Relaxed);
        }
    }

    /// Prints `v` as pretty JSON (exact: JSON escapes control characters itself).
    pub(crate) fn print_json(&self, v: &Value) -> Result<()> {
        self.line(&serde_json::to_string_pretty(v)?);
        Ok(())
    }
}

pub(crate) fn time(t: Timestamp) -> Value {
    chrono::DateTime::from_timestamp_millis(t.0)
        .map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map(time).unwrap_or(Value::Null)
}

/// "3 days ago", for people.
fn ago(t: Timestamp) -> String {
    let secs = (Timestamp::now().0 - t.0).max(0) / 1000;
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => plural(secs / 60, "minute"),
        3600..=86_399 => plural(secs / 3600, "hour"),
        86_400..=2_591_999 => plural(secs / 86_400, "day"),
        2_592_000..=31_535_999 => plural(secs / 2_592_000, "month"),
        _ => plural(secs / 31_536_000, "year"),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

fn who(c: &Community, m: Option<MemberId>) -> String {
    m.map(|m| c.roster.name_of(&m))
        .unwrap_or_else(|| "unknown".into())
}

fn member_json(c: &Community, m: Option<MemberId>) -> Value {
    match m {
        Some(m) => json!({ "id": m.to_string(), "name": c.roster.name_of(&m) }),
        None => Value::Null,
    }
}

impl Out {
    pub fn identity(&self, id: &Identity, created: bool) -> Result<()> {
        if self.json {
            return self.print_json(&json!({
                "member_id": id.member.to_string(),
                "name": id.name,
                "region": id.region,
                "organisation": id.organisation,
                "profile": id.profile,
                "backed_up_at": opt_time(id.backed_up_at),
            }));
        }
        if created {
            say!(self, "{}", id.member);
            note!(
                self,
                "Created the identity of {} in {}. Share your member id above with a coordinator to be added to a community.",
                id.name,
                id.profile
            );
        } else {
            say!(self, "{}  {}", id.member, id.name);
            if let Some(r) = &id.region {
                say!(self, "region: {r}");
            }
            if let Some(o) = &id.organisation {
                say!(self, "organisation: {o}");
            }
            say!(self, "profile: {}", id.profile);
            match id
                .backed_up_at
                .and_then(|t| chrono::DateTime::from_timestamp_millis(t.0))
            {
                Some(t) => say!(self, "key backed up: {}", t.format("%Y-%m-%d %H:%M UTC")),
                None => say!(
                    self,
                    "key backed up: never (run `commonplace backup --out FILE`; without a backup a lost device is a lost membership)"
                ),
            }
        }
        Ok(())
    }

    pub fn created(&self, what: &str, id: &str) -> Result<()> {
        if self.json {
            self.print_json(&json!({ "kind": what, "id": id }))
        } else {
            say!(self, "{id}");
            Ok(())
        }
    }

    /// A thread promoted before: the entry's id, as `created` prints one, with a note for
    /// people on standard error.
    pub fn already_promoted(&self, entry: &str) -> Result<()> {
        if self.json {
            self.print_json(&json!({ "kind": "entry", "id": entry, "existing": true }))
        } else {
            note!(
                self,
                "this thread is already in the repertoire; not added again:"
            );
            say!(self, "{entry}");
            Ok(())
        }
    }

    pub fn done(&self, message: &str) -> Result<()> {
        if self.json {
            self.print_json(&json!({ "ok": true, "message": message }))
        } else {
            say!(self, "{message}");
            Ok(())
        }
    }

    pub fn communities(&self, list: &[CommunityOverview]) -> Result<()> {
        if self.json {
            return self.print_json(&Value::Array(list.iter().map(overview_json).collect()));
        }
        if list.is_empty() {
            say!(
                self,
                "No communities yet. Create one with `commonplace community create --name NAME`, or import a bundle."
            );
        }
        for c in list {
            say!(
                self,
                "{}  {}  ({}, {}, {}, {}{})",
                c.id.short(),
                c.name,
                count(c.members, "member", "members"),
                count(c.threads, "thread", "threads"),
                count(c.open_requests, "open request", "open requests"),
                count(c.entries, "entry", "entries"),
                c.my_role
                    .map(|r| format!("; you are a {}", r.as_str()))
                    .unwrap_or_else(|| "; you are not a member".into())
            );
        }
        Ok(())
    }

    pub fn community(&self, c: &Community, o: &CommunityOverview) -> Result<()> {
        if self.json {
            let mut v = overview_json(o);
            v["issues"] = json!(c.charter.issues);
            v["values"] = json!(c.charter.values);
            v["topics"] = json!(c.charter.topics);
            v["founder"] = member_json(c, Some(c.genesis.founder));
            v["created_at"] = time(c.created_at);
            return self.print_json(&v);
        }
        say!(self, "{}", c.charter.name);
        say!(self, "id: {}", c.id);
        if !c.charter.domain.is_empty() {
            say!(self, "domain: {}", c.charter.domain);
        }
        for (label, items) in [
            ("key issues", &c.charter.issues),
            ("values", &c.charter.values),
            ("topics", &c.charter.topics),
        ] {
            if !items.is_empty() {
                say!(self, "{label}:");
                for i in items {
                    say!(self, "  - {i}");
                }
            }
        }
        say!(
            self,
            "{}, {} ({}), {}",
            count(o.members, "member", "members"),
            count(o.threads, "thread", "threads"),
            count(o.open_requests, "open request", "open requests"),
            count(o.entries, "repertoire entry", "repertoire entries"),
        );
        say!(
            self,
            "founded by {} {}",
            who(c, Some(c.genesis.founder)),
            ago(c.created_at)
        );
        Ok(())
    }

    pub fn threads(&self, c: &Community, list: &[ThreadSummary]) -> Result<()> {
        if self.json {
            return self.print_json(&Value::Array(
                list.iter().map(|t| thread_summary_json(c, t)).collect(),
            ));
        }
        if list.is_empty() {
            say!(
                self,
                "No threads match. Start one with `commonplace thread new --kind request --title ... --body ...`."
            );
        }
        for t in list {
            say!(
                self,
                "{}  {:<12} {:<8} {}  ({}, opened by {}, active {})",
                t.id.short(),
                t.activity.as_str(),
                if t.resolved { "resolved" } else { "open" },
                t.title,
                count(t.replies as usize, "reply", "replies"),
                who(c, t.author),
                ago(t.last_activity),
            );
        }
        Ok(())
    }

    pub fn thread(&self, c: &Community, t: &Thread) -> Result<()> {
        if self.json {
            let post = |p: &Post| {
                json!({
                    "id": p.id.to_string(),
                    "author": member_json(c, p.author),
                    "body": p.body,
                    "created_at": time(p.created_at),
                    "reply_to": p.reply_to.map(|r| r.to_string()),
                    "helped_by": p.helped_by.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                })
            };
            let mut v = thread_summary_json(c, &t.summary());
            v["body"] = json!(t.opening.body);
            v["opening"] = post(&t.opening);
            v["posts"] = Value::Array(t.replies.iter().map(post).collect());
            v["resolved_by"] = member_json(c, t.resolved_by);
            return self.print_json(&v);
        }
        say!(self, "{}  [{}]", t.title, t.activity.label());
        say!(
            self,
            "id {} · opened by {} {}{}",
            t.id,
            who(c, t.opening.author),
            ago(t.opening.created_at),
            if t.tags.is_empty() {
                String::new()
            } else {
                format!(" · #{}", t.tags.join(" #"))
            }
        );
        if t.resolved {
            say!(
                self,
                "resolved by {}{}",
                who(c, t.resolved_by),
                t.answer
                    .map(|a| format!(", answer {}", a.short()))
                    .unwrap_or_default()
            );
        }
        say!(self);
        say!(self, "{}", t.opening.body.trim_end());
        if !t.opening.helped_by.is_empty() {
            say!(self, "  ♥ helped {}", t.opening.helped_by.len());
        }
        for r in &t.replies {
            say!(self);
            say!(
                self,
                "— {} · {} · {}{}",
                who(c, r.author),
                ago(r.created_at),
                r.id.short(),
                if t.answer == Some(r.id) {
                    " · ✓ answer"
                } else {
                    ""
                }
            );
            say!(self, "{}", r.body.trim_end());
            if !r.helped_by.is_empty() {
                say!(self, "  ♥ helped {}", r.helped_by.len());
            }
        }
        Ok(())
    }

    pub fn entries(&self, c: &Community, list: &[EntrySummary]) -> Result<()> {
        if self.json {
            return self.print_json(&Value::Array(
                list.iter().map(|e| entry_summary_json(c, e)).collect(),
            ));
        }
        if list.is_empty() {
            say!(
                self,
                "The repertoire is empty. It holds the stories, cases, tools, methods and lessons the community wants to keep: add one with `commonplace entry new`, or promote a resolved thread with `--from-thread`."
            );
        }
        for e in list {
            say!(
                self,
                "{}  {:<9} {}  (by {}, updated {})",
                e.id.short(),
                e.kind.as_str(),
                e.title,
                who(c, e.author),
                ago(e.updated_at)
            );
        }
        Ok(())
    }

    pub fn entry(&self, c: &Community, e: &Entry) -> Result<()> {
        if self.json {
            let mut v = entry_summary_json(c, &e.summary());
            v["body"] = json!(e.body);
            v["source"] = match &e.source {
                Some(s) => json!({
                    "thread": s.thread.to_string(),
                    "heads": s.heads,
                    "posts": s.posts.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                    "contributors": s.contributors.iter().map(|m| member_json(c, Some(*m))).collect::<Vec<_>>(),
                }),
                None => Value::Null,
            };
            return self.print_json(&v);
        }
        say!(self, "{}  [{}]", e.title, e.kind.label());
        say!(
            self,
            "id {} · by {} · updated {}",
            e.id,
            who(c, e.author),
            ago(e.updated_at)
        );
        if let Some(s) = &e.source {
            let names: Vec<String> = s.contributors.iter().map(|m| who(c, Some(*m))).collect();
            say!(
                self,
                "from thread {} with contributions by {}",
                s.thread.short(),
                names.join(", ")
            );
        }
        if e.editors.len() > 1 {
            let names: Vec<String> = e.editors.iter().map(|m| who(c, Some(*m))).collect();
            say!(self, "edited by {}", names.join(", "));
        }
        say!(self);
        say!(self, "{}", e.body.trim_end());
        Ok(())
    }

    pub fn members(&self, list: &[RosterMember]) -> Result<()> {
        if self.json {
            return self.print_json(&Value::Array(
                list.iter()
                    .map(|m| {
                        json!({
                            "id": m.id.to_string(),
                            "name": m.name,
                            "role": m.role.as_str(),
                            "region": m.region,
                            "organisation": m.organisation,
                            "added_at": time(m.added_at),
                            "added_by": m.added_by.map(|a| a.to_string()),
                            "removed_at": opt_time(m.removed_at),
                        })
                    })
                    .collect(),
            ));
        }
        for m in list {
            say!(
                self,
                "{}  {:<12} {}{}",
                m.id.short(),
                m.role.as_str(),
                m.name,
                if m.removed_at.is_some() {
                    " (removed)"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }

    pub fn invitations(&self, list: &[commonplace_node::PendingInvitation]) -> Result<()> {
        let state = |s: commonplace_node::InvitationState| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        if self.json {
            return self.print_json(&Value::Array(
                list.iter()
                    .map(|p| {
                        json!({
                            "short_code": p.short_code,
                            "community": p.community.to_string(),
                            "community_name": p.community_name,
                            "role": p.role.as_str(),
                            "state": state(p.state),
                            "created_at": time(p.created_at),
                            "expires_at": time(p.expires_at),
                            "used_by": p.used_by.map(|m| m.to_string()),
                            "used_by_name": p.used_by_name,
                            "used_at": opt_time(p.used_at),
                            "revoked_at": opt_time(p.revoked_at),
                        })
                    })
                    .collect(),
            ));
        }
        if list.is_empty() {
            say!(self, "no invitations were created on this node");
        }
        for p in list {
            let detail = match (p.state, &p.used_by_name) {
                (commonplace_node::InvitationState::Used, Some(name)) => {
                    format!("used by {name}")
                }
                (commonplace_node::InvitationState::Revoked, _) => "revoked".into(),
                (commonplace_node::InvitationState::Expired, _) => "expired".into(),
                (commonplace_node::InvitationState::Pending, _) => {
                    let until = chrono::DateTime::from_timestamp_millis(p.expires_at.0)
                        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default();
                    format!("pending until {until}")
                }
                _ => state(p.state),
            };
            say!(
                self,
                "{}  {:<11} {:<20} created {}  {}",
                p.short_code,
                p.role.as_str(),
                terminal_safe(&p.community_name),
                ago(p.created_at),
                detail
            );
        }
        Ok(())
    }

    pub fn exported(&self, path: &Path, bytes: usize) -> Result<()> {
        if self.json {
            self.print_json(&json!({ "path": path.display().to_string(), "bytes": bytes }))
        } else {
            say!(self, "wrote {} ({bytes} bytes)", path.display());
            Ok(())
        }
    }

    pub fn imported(&self, r: &ImportReport) -> Result<()> {
        if self.json {
            return self.print_json(&json!({
                "community": r.community.to_string(),
                "name": r.name,
                "exporter": r.exporter.to_string(),
                "new_changes": r.new_changes,
                "known_changes": r.known_changes,
                "documents_changed": r.documents_changed,
            }));
        }
        say!(
            self,
            "imported {}: {} new changes in {} documents ({} already here)",
            r.name,
            r.new_changes,
            r.documents_changed,
            r.known_changes
        );
        Ok(())
    }
}

fn overview_json(c: &CommunityOverview) -> Value {
    json!({
        "id": c.id.to_string(),
        "name": c.name,
        "domain": c.domain,
        "my_role": c.my_role.map(|r| r.as_str()),
        "members": c.members,
        "threads": c.threads,
        "open_requests": c.open_requests,
        "entries": c.entries,
    })
}

fn thread_summary_json(c: &Community, t: &ThreadSummary) -> Value {
    json!({
        "id": t.id.to_string(),
        "community": t.community.to_string(),
        "kind": t.activity.as_str(),
        "title": t.title,
        "author": member_json(c, t.author),
        "tags": t.tags,
        "created_at": time(t.created_at),
        "last_activity": time(t.last_activity),
        "replies": t.replies,
        "resolved": t.resolved,
        "answer": t.answer.map(|a| a.to_string()),
        "resolved_at": opt_time(t.resolved_at),
        "helped": t.helped,
    })
}

fn entry_summary_json(c: &Community, e: &EntrySummary) -> Value {
    json!({
        "id": e.id.to_string(),
        "community": e.community.to_string(),
        "kind": e.kind.as_str(),
        "title": e.title,
        "author": member_json(c, e.author),
        "editors": e.editors.iter().map(|m| member_json(c, Some(*m))).collect::<Vec<_>>(),
        "tags": e.tags,
        "created_at": time(e.created_at),
        "updated_at": time(e.updated_at),
        "source_thread": e.source_thread.map(|t| t.to_string()),
    })
}
