//! iCalendar (RFC 5545) export of events, so the community's rhythm lands in members' own
//! calendars.
//!
//! Start times are written in the organiser's zone with a `TZID` parameter
//! (`DTSTART;TZID=America/Toronto:20261203T150000`) and no `VTIMEZONE` block: calendar
//! programs know IANA zone names, and the recurrence then follows the zone's daylight-saving
//! rules exactly as [`crate::event::occurrences`] does. Lines end in CRLF and are folded at 75
//! octets without splitting a character; text values are escaped.

use chrono::{DateTime, Utc};
use commonplace_base::{MemberId, Timestamp};

use crate::EventSummary;
use crate::event::utc_to_local;

/// One event to export, with its organiser's display name.
#[derive(Debug, Clone, Copy)]
pub struct IcsEvent<'a> {
    /// The event.
    pub event: &'a EventSummary,
    /// The organiser's name as the roster has it.
    pub organiser_name: Option<&'a str>,
}

/// A whole `VCALENDAR` holding `events`, named after the community.
pub fn calendar(name: &str, events: &[IcsEvent<'_>]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Commonplace//Commonplace events//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        vevent(&mut out, e);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn vevent(out: &mut String, e: &IcsEvent<'_>) {
    let ev = e.event;
    let d = &ev.details;
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@commonplace", ev.id));
    line(out, &format!("DTSTAMP:{}", utc_stamp(ev.updated_at)));
    line(out, &format!("CREATED:{}", utc_stamp(ev.created_at)));
    line(out, &format!("LAST-MODIFIED:{}", utc_stamp(ev.updated_at)));
    if d.tz == "UTC" || d.tz == "Etc/UTC" {
        line(out, &format!("DTSTART:{}", utc_stamp(d.start)));
    } else {
        match utc_to_local(d.start, &d.tz) {
            Ok(local) => line(
                out,
                &format!("DTSTART;TZID={}:{}", d.tz, local.format("%Y%m%dT%H%M%S")),
            ),
            Err(_) => line(out, &format!("DTSTART:{}", utc_stamp(d.start))),
        }
    }
    line(out, &format!("DURATION:PT{}M", d.duration_min));
    if let Some(r) = &d.recur {
        line(out, &format!("RRULE:{r}"));
    }
    line(out, &format!("SUMMARY:{}", escape(&d.title)));
    if let Some(p) = &d.place {
        line(out, &format!("LOCATION:{}", escape(p)));
        if p.starts_with("https://") || p.starts_with("http://") {
            line(out, &format!("URL:{p}"));
        }
    }
    if !d.agenda.trim().is_empty() {
        line(out, &format!("DESCRIPTION:{}", escape(&d.agenda)));
    }
    line(
        out,
        &format!("CATEGORIES:{}", d.kind.as_str().to_ascii_uppercase()),
    );
    if let Some(o) = ev.organiser {
        line(out, &organiser(o, e.organiser_name));
    }
    line(
        out,
        if ev.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
    );
    line(out, "END:VEVENT");
}

fn organiser(id: MemberId, name: Option<&str>) -> String {
    match name {
        // A parameter value with ':', ';' or ',' must be quoted; quotes themselves cannot be.
        Some(n) => format!(
            "ORGANIZER;CN=\"{}\":urn:commonplace:member:{id}",
            n.replace('"', "'")
        ),
        None => format!("ORGANIZER:urn:commonplace:member:{id}"),
    }
}

fn utc_stamp(t: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (continuation lines start with a space,
/// which counts), ended by CRLF.
fn line(out: &mut String, content: &str) {
    let mut budget = 75;
    let mut used = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if used + n > budget {
            out.push_str("\r\n ");
            used = 1;
            budget = 75;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(100));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{long}\r\n"));
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("a;b,c\\d\ne\r\nf"), "a\\;b\\,c\\\\d\\ne\\nf");
    }
}
