//! Events and the health report through the real `commonplace` binary with temporary profiles:
//! the exported `.ics` parses with an iCalendar parser, the CSV's totals match what was
//! written, members only answer for themselves and only the organiser reschedules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use commonplace_testkit::Member;
use serde_json::Value;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

/// Ana founds a community and adds Bea; both hold it (Bea through a bundle).
fn two_members(root: &Path) -> (Member, Member, String) {
    let ana = Member::init(bin(), root, "ana", "Ana Silva");
    let bea = Member::init(bin(), root, "bea", "Bea Santos");
    let c = ana
        .ok(&["community", "create", "--name", "Crime Prevention Network"])
        .trim()
        .to_owned();
    ana.ok(&["member", "add", &bea.id, "--name", "Bea Santos"]);
    sync(&ana, &bea, root);
    (ana, bea, c)
}

fn sync(from: &Member, to: &Member, root: &Path) {
    let file = root.join("x.bundle");
    from.ok(&["export", "--out", file.to_str().unwrap()]);
    to.ok(&["import", file.to_str().unwrap()]);
}

fn prop<'a>(c: &'a icalendar::parser::Component<'a>, name: &str) -> Option<&'a str> {
    c.properties
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.val.as_str())
}

#[test]
fn events_are_created_answered_and_exported_to_icalendar() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, _c) = two_members(root.path());
    let long_title = "Monthly practice call on lighting, youth work; and everything else \
                      members bring — with a title long enough to be folded";
    let ev = ana
        .ok(&[
            "event",
            "new",
            "--kind",
            "call",
            "--title",
            long_title,
            "--start",
            "2026-10-22T15:00",
            "--tz",
            "America/Toronto",
            "--duration",
            "90m",
            "--where",
            "https://meet.example/cpn",
            "--agenda",
            "1. News\n2. One case, discussed",
            "--recur",
            "weekly",
        ])
        .trim()
        .to_owned();
    let shown = ana.json(&["event", "show", &ev]);
    assert_eq!(shown["title"], long_title);
    assert_eq!(shown["start"], "2026-10-22T19:00:00.000Z");
    assert_eq!(shown["start_local"], "2026-10-22T15:00");
    assert_eq!(shown["recur"], "FREQ=WEEKLY");
    assert_eq!(shown["duration_min"], 90);
    assert_eq!(shown["organiser"]["name"], "Ana Silva");
    // Every upcoming occurrence is at 15:00 in Toronto, whatever the UTC offset.
    for o in shown["upcoming"].as_array().unwrap() {
        assert!(
            o["start_local"].as_str().unwrap().ends_with("T15:00"),
            "{o}"
        );
    }

    // Bea answers for herself and adds to the notes; Ana sees it after a sync.
    sync(&ana, &bea, root.path());
    bea.ok(&["event", "rsvp", &ev, "going", "--on", "2026-12-03T15:00"]);
    bea.ok(&["event", "rsvp", &ev, "attended", "--on", "2026-10-29T15:00"]);
    bea.ok(&[
        "event",
        "notes",
        &ev,
        "--append",
        "Bea: bring the audit form.",
    ]);
    // A time that is not an occurrence is refused.
    bea.fails(&["event", "rsvp", &ev, "going", "--on", "2026-12-04T15:00"]);
    // Only the organiser reschedules.
    let err = bea.fails(&["event", "edit", &ev, "--start", "2026-10-22T16:00"]);
    assert!(err.contains("only the organiser"), "{err}");
    sync(&bea, &ana, root.path());
    let shown = ana.json(&["event", "show", &ev]);
    assert_eq!(shown["notes"], "Bea: bring the audit form.");
    let rsvps = shown["rsvps"].as_array().unwrap();
    assert_eq!(rsvps.len(), 2);
    assert!(rsvps.iter().all(|r| r["member"]["name"] == "Bea Santos"));
    assert!(
        rsvps
            .iter()
            .any(|r| r["status"] == "going" && r["occurrence"] == "2026-12-03T20:00:00.000Z")
    );
    assert!(
        rsvps
            .iter()
            .any(|r| r["status"] == "attended" && r["occurrence"] == "2026-10-29T19:00:00.000Z")
    );
    let list = ana.json(&["event", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);

    // iCalendar export: parses, folds at 75 octets, keeps the zone and the rule.
    let file = root.path().join("cpn.ics");
    ana.ok(&["event", "export-ics", "--out", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "bare LF in {text}"
    );
    let unfolded = icalendar::parser::unfold(&text);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    assert_eq!(cal.components.len(), 1);
    let v = &cal.components[0];
    assert_eq!(v.name, "VEVENT");
    assert_eq!(prop(v, "UID"), Some(format!("{ev}@commonplace").as_str()));
    assert_eq!(prop(v, "SUMMARY"), Some(long_title));
    assert_eq!(prop(v, "RRULE"), Some("FREQ=WEEKLY"));
    assert_eq!(prop(v, "DURATION"), Some("PT90M"));
    assert_eq!(prop(v, "DTSTART"), Some("20261022T150000"));
    let dtstart = v.properties.iter().find(|p| p.name == "DTSTART").unwrap();
    assert!(
        dtstart
            .params
            .iter()
            .any(|p| p.key == "TZID"
                && p.val.as_ref().map(|v| v.as_str()) == Some("America/Toronto"))
    );
    assert!(prop(v, "DTSTAMP").unwrap().ends_with('Z'));
    // Escaped in the file, and the parser reads the agenda back as it was typed.
    assert!(text.contains("DESCRIPTION:1. News\\n2. One case\\, discussed\r\n"));
    assert_eq!(
        prop(v, "DESCRIPTION"),
        Some("1. News\n2. One case, discussed")
    );
}

#[test]
fn health_report_totals_match_what_was_written() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, _c) = two_members(root.path());
    // Three threads, four replies, one entry promoted from a thread, another linked from a reply.
    let mut threads = Vec::new();
    for (i, kind) in ["request", "request", "story"].iter().enumerate() {
        let t = ana
            .ok(&[
                "thread",
                "new",
                "--kind",
                kind,
                "--title",
                &format!("Thread {i}"),
                "--body",
                "What worked for you?",
                "--tag",
                "lighting",
            ])
            .trim()
            .to_owned();
        threads.push(t);
    }
    sync(&ana, &bea, root.path());
    let answer = bea
        .ok(&["reply", &threads[0], "--body", "We ran an audit at night."])
        .trim()
        .to_owned();
    bea.ok(&["reply", &threads[1], "--body", "Not yet."]);
    sync(&bea, &ana, root.path());
    ana.ok(&["thread", "resolve", &threads[0], "--answer", &answer]);
    ana.ok(&["thread", "helped", &threads[0], &answer]);
    let entry = ana
        .ok(&[
            "entry",
            "new",
            "--kind",
            "lesson",
            "--from-thread",
            &threads[0],
        ])
        .trim()
        .to_owned();
    ana.ok(&[
        "reply",
        &threads[1],
        "--body",
        &format!("See the lesson {entry}."),
    ]);
    ana.ok(&["reply", &threads[2], "--body", "Thanks."]);

    // CSV: the total row matches the documents.
    let csv = ana.ok(&["health", "--since", "7d", "--format", "csv"]);
    let total: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    assert_eq!(total[0], "total");
    let col = |name: &str| {
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        total[header.iter().position(|h| *h == name).unwrap()]
            .parse::<u64>()
            .unwrap()
    };
    let threads_json = ana.json(&["thread", "list"]);
    let thread_rows = threads_json.as_array().unwrap();
    let replies: u64 = thread_rows
        .iter()
        .map(|t| t["replies"].as_u64().unwrap())
        .sum();
    assert_eq!(col("threads"), thread_rows.len() as u64);
    assert_eq!(col("replies"), replies);
    assert_eq!(replies, 4);
    assert_eq!(col("posts"), 7);
    assert_eq!(col("active_members"), 2);
    assert_eq!(col("new_members"), 2);
    assert_eq!(col("entries_created"), 1);

    // JSON: the same figures, and requests and reuse.
    let report = ana.json(&["health", "--since", "7d"]);
    assert_eq!(report["totals"]["posts"], 7);
    assert_eq!(report["requests"]["opened"], 2);
    assert_eq!(report["requests"]["replied"], 2);
    assert_eq!(report["requests"]["resolved"], 1);
    assert_eq!(report["repertoire"]["promoted_from_threads"], 1);
    assert_eq!(report["repertoire"]["replies_linking_entries"], 1);
    assert!(report["since"].as_str().unwrap().ends_with('Z'));

    // Markdown and HTML to files.
    let html = root.path().join("health.html");
    ana.ok(&[
        "health",
        "--format",
        "html",
        "--out",
        html.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("new uPlot(") && page.contains("Crime Prevention Network"));
    let md = ana.ok(&["health"]);
    assert!(
        md.starts_with("# Health of Crime Prevention Network"),
        "{md}"
    );

    // Levels, experts, gaps.
    let levels = ana.json(&["members", "--levels"]);
    let members = levels["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(levels["thresholds"]["window_days"], 90);
    let ana_row = members
        .iter()
        .find(|m| m["member"]["name"] == "Ana Silva")
        .unwrap();
    // Three threads, two replies, one entry.
    assert_eq!(ana_row["contributions"], 6);
    assert_eq!(ana_row["level"], "active");
    assert_eq!(
        ana.json(&["member", "list", "--levels"])["counts"],
        levels["counts"]
    );
    // Coordinators adjust the thresholds; members may not.
    ana.ok(&["member", "thresholds", "--core", "6", "--active", "3"]);
    let levels = ana.json(&["members", "--levels"]);
    let ana_row = &levels["members"].as_array().unwrap()[0];
    assert_eq!(ana_row["member"]["name"], "Ana Silva");
    assert_eq!(ana_row["level"], "core");
    sync(&ana, &bea, root.path());
    assert_eq!(bea.json(&["member", "thresholds"])["core"], 6);
    bea.fails(&["member", "thresholds", "--core", "1"]);

    let experts = ana.json(&["experts", "--topic", "lighting"]);
    let top = &experts.as_array().unwrap()[0];
    assert_eq!(top["member"]["name"], "Bea Santos");
    assert_eq!(top["answers"], 1);
    assert_eq!(top["helped"], 1);
    let gaps: Value = ana.json(&["gaps", "--days", "0"]);
    assert_eq!(gaps["topics"][0]["topic"], "lighting");
    assert_eq!(gaps["topics"][0]["threads"], 3);
    assert!(
        gaps["topics_without_repertoire"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
