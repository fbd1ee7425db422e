//! The node API the desktop app calls for events and health: calendar occurrences across a
//! daylight-saving change, answers, the organiser's rights, the report over the index.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use commonplace_base::Timestamp;
use commonplace_insight::GapOptions;
use commonplace_model::{ActivityKind, EventKind, LevelThresholds, RsvpStatus, TextEdit};
use commonplace_node::{NewCommunity, NewEvent, NewThread, Node, NodeEvent, Profile};

fn call() -> NewEvent {
    NewEvent {
        kind: EventKind::Call,
        title: "Practice call".into(),
        start_local: "2026-10-22T15:00".into(),
        tz: "America/Toronto".into(),
        duration_min: 60,
        place: None,
        agenda: String::new(),
        recur: Some("weekly".into()),
    }
}

#[test]
fn events_calendar_answers_and_health_through_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::init(Profile::at(dir.path()), "Ana Silva", None, None).unwrap();
    let c = node
        .create_community(&NewCommunity {
            name: "CPN".into(),
            ..Default::default()
        })
        .unwrap();
    let mut events = node.subscribe();
    let ev = node.create_event(&c, &call()).unwrap();
    assert_eq!(
        events.try_recv().unwrap(),
        NodeEvent::EventChanged {
            community: c,
            event: ev
        }
    );
    // November 2026 (Toronto leaves daylight time on 1 November): five Thursdays, all at
    // 15:00 local, at 20:00 UTC.
    let nov1 = Timestamp(1_793_491_200_000); // 2026-11-01T00:00:00Z
    let dec1 = Timestamp(nov1.0 + 30 * 86_400_000);
    let cal = node.calendar(&c, nov1, dec1).unwrap();
    let locals: Vec<&str> = cal.iter().map(|o| o.start_local.as_str()).collect();
    assert_eq!(
        locals,
        [
            "2026-11-05T15:00",
            "2026-11-12T15:00",
            "2026-11-19T15:00",
            "2026-11-26T15:00"
        ]
    );
    assert!(cal.iter().all(|o| (o.start.0 / 3_600_000) % 24 == 20));
    assert!(cal.iter().all(|o| o.end.0 - o.start.0 == 3_600_000));

    // Answers: the first occurrence has started (in the past), so "attended" is allowed there.
    let first = node.event(&ev).unwrap().details.start;
    node.rsvp(&ev, Some(first), RsvpStatus::Attended).unwrap();
    let next = node.rsvp(&ev, None, RsvpStatus::Going).unwrap();
    assert!(next > Timestamp::now() || next.0 + 3_600_000 > Timestamp::now().0);
    let far = Timestamp(next.0 + 52 * 7 * 86_400_000);
    // A year ahead is still a Thursday occurrence, but nobody attends the future.
    let far_occ = node
        .calendar(&c, far, Timestamp(far.0 + 7 * 86_400_000))
        .unwrap()[0]
        .start;
    assert!(node.rsvp(&ev, Some(far_occ), RsvpStatus::Attended).is_err());
    // Not an occurrence.
    assert!(
        node.rsvp(&ev, Some(Timestamp(first.0 + 1)), RsvpStatus::Going)
            .is_err()
    );
    node.edit_event_notes(&ev, &TextEdit::Append("Minutes.".into()))
        .unwrap();
    let read = node.event(&ev).unwrap();
    assert_eq!(read.notes, "Minutes.");
    assert_eq!(read.rsvps.len(), 2);

    // Health over the index: one thread, the attendance, the levels.
    node.create_thread(
        &c,
        &NewThread {
            activity: ActivityKind::Request,
            title: "Lighting audits".into(),
            body: "Anyone?".into(),
            tags: vec!["lighting".into()],
        },
    )
    .unwrap();
    let now = Timestamp::now();
    let report = node
        .health_report(&c, Timestamp(first.0 - 1), Timestamp(now.0 + 1))
        .unwrap();
    assert_eq!(report.totals.threads, 1);
    assert_eq!(report.totals.attendance, 1);
    assert_eq!(report.requests.unanswered_at_end, 1);
    let p = node.participation(&c, Timestamp(now.0 + 1)).unwrap();
    assert_eq!(p.members.len(), 1);
    // A thread and an attended call: two contributions, peripheral under the defaults.
    assert_eq!(p.members[0].contributions, 2);
    node.set_level_thresholds(
        &c,
        &LevelThresholds {
            window_days: 365,
            core: 2,
            active: 1,
            peripheral: 1,
        },
    )
    .unwrap();
    let p = node.participation(&c, Timestamp(now.0 + 1)).unwrap();
    assert_eq!(p.counts.core, 1);
    let gaps = node
        .gaps(
            &c,
            &GapOptions {
                unanswered_days: 0,
                stale_days: 365,
            },
            Timestamp(now.0 + 1),
        )
        .unwrap();
    assert_eq!(gaps.topics_without_repertoire[0].topic, "lighting");
    assert_eq!(node.knowledge_map(&c).unwrap()[0].requests, 1);

    // The organiser reschedules; the summary in the index follows. (Answers are per
    // occurrence: those given for the old times stay with those times.)
    let mut later = call();
    later.start_local = "2026-10-22T16:30".into();
    node.update_event(&ev, &later).unwrap();
    let listed = node.events(&c).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].details.start.0 - first.0, 90 * 60_000);
    let ics = node.export_ics(&c).unwrap();
    assert!(ics.contains(&format!("UID:{ev}@commonplace")));
    assert!(ics.contains("DTSTART;TZID=America/Toronto:20261022T163000"));
}
