//! A seeded multi-peer simulator: 3–7 real nodes (real redb stores in temporary profiles, the
//! real sans-IO sync sessions, the real ingest gate) exchanging frames in process. Each seed
//! writes a random mix on random nodes — threads, replies, repertoire entries and edits to
//! them, events, and admissions of new members (a coordinator adds a member's node, which
//! then syncs and writes) — runs sessions between random pairs — some cut off after a random
//! number of frames (a connection that drops), some refused by a partition, some run at the
//! same time as others and interleaved with them — and kills and reopens nodes (the store
//! surviving as redb leaves it). Then the partition heals, the last waiting members are
//! admitted, every pair syncs until nothing moves, and the checks run: every node holds the
//! same threads, entries, events and roster, every acknowledged write is there, no session is
//! stuck.
//!
//! Duplication and reordering are modelled at the level of whole sessions, not of frames:
//! a session runs over one QUIC stream, which delivers its frames once and in order, and the
//! protocol relies on that (an `Idle` counts the sync frames it answers). What the network
//! does reorder and duplicate is sessions: several at once between the same nodes (a live
//! pull during a full sync, both ends dialling each other), their frames interleaved in any
//! order across sessions, the same changes arriving twice by two of them.
//!
//! `SIM_SEEDS=N` runs seeds 0..N (default 1,000, about a minute); `SIM_SEED=S` replays one
//! seed (`SIM_LOG=1` prints its steps). A failing seed prints how to replay it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use commonplace_base::{CommunityId, DocId, MemberId, SecretKey};
use commonplace_model::{ActivityKind, EntryKind, EventKind, Role, TextEdit};
use commonplace_node::{
    EntryFilter, NewCommunity, NewEntry, NewEvent, NewThread, Node, Profile, ThreadFilter,
    read_key_backup,
};
use commonplace_sync::{Frame, Session};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Most frames one session may exchange before it counts as stuck.
const MAX_FRAMES: usize = 2_000;
/// Rounds of all-pairs syncs allowed for healing.
const MAX_HEAL_ROUNDS: usize = 8;

struct Sim {
    rng: StdRng,
    _root: tempfile::TempDir,
    dirs: Vec<PathBuf>,
    ids: Vec<MemberId>,
    /// `None` while the node is down.
    nodes: Vec<Option<Node>>,
    community: CommunityId,
    /// Which pairs cannot reach each other now.
    cut: BTreeSet<(usize, usize)>,
    /// Every write a node acknowledged: thread → its title and the reply bodies.
    acked: BTreeMap<DocId, (String, BTreeSet<String>)>,
    /// Acknowledged repertoire entries: entry → its title and the text each edit appended.
    entries: BTreeMap<DocId, (String, Vec<String>)>,
    /// Acknowledged events: event → its title.
    events: BTreeMap<DocId, String>,
    /// Nodes whose members have not been admitted yet.
    waiting: Vec<usize>,
    /// Members a coordinator admitted (the founding members included).
    admitted: BTreeSet<MemberId>,
    log: Vec<String>,
}

/// One session in flight: the two ends, their sessions, the frames on their way each way.
struct InFlight {
    i: usize,
    j: usize,
    sa: Session,
    sb: Session,
    to_a: Vec<Frame>,
    to_b: Vec<Frame>,
    frames: usize,
    cut_after: Option<usize>,
}

fn with_key(dir: &Path, seed: u64, name: &str) -> Node {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(b"simulate");
    let key_file = dir.with_extension("key.txt");
    std::fs::write(&key_file, SecretKey::from_seed(bytes).to_key_file()).unwrap();
    let backup = read_key_backup(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    Node::restore(Profile::at(dir), &backup, "", name, None, None).unwrap()
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.random_range(3..=7);
        let root = tempfile::tempdir().unwrap();
        let mut dirs = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..n {
            let dir = root.path().join(format!("n{i}"));
            nodes.push(Some(with_key(
                &dir,
                seed * 16 + i as u64,
                &format!("node {i}"),
            )));
            dirs.push(dir);
        }
        let ids: Vec<MemberId> = nodes.iter().flatten().map(Node::member_id).collect();
        let founder = nodes[0].as_ref().unwrap();
        let community = founder
            .create_community(&NewCommunity {
                name: "Simulated".into(),
                ..Default::default()
            })
            .unwrap();
        // Node 1 is a second coordinator; up to two of the last nodes wait to be admitted.
        let waiting_from = n - rng.random_range(0..=2usize.min(n - 3));
        let mut admitted: BTreeSet<MemberId> = [ids[0]].into();
        for (i, id) in ids.iter().enumerate().take(waiting_from).skip(1) {
            let role = if i == 1 {
                Role::Coordinator
            } else {
                Role::Member
            };
            founder
                .add_member(&community, id, &format!("node {i}"), role)
                .unwrap();
            admitted.insert(*id);
        }
        Sim {
            rng,
            _root: root,
            dirs,
            ids,
            nodes,
            community,
            cut: BTreeSet::new(),
            acked: BTreeMap::new(),
            entries: BTreeMap::new(),
            events: BTreeMap::new(),
            waiting: (waiting_from..n).collect(),
            admitted,
            log: vec![format!("{n} nodes, {} waiting", n - waiting_from)],
        }
    }

    fn holds(&self, i: usize) -> bool {
        self.nodes[i]
            .as_ref()
            .is_some_and(|n| n.community_ids().unwrap().contains(&self.community))
    }

    /// One random step.
    fn step(&mut self) {
        let n = self.nodes.len();
        let i = self.rng.random_range(0..n);
        match self.rng.random_range(0..100) {
            0..40 => self.write(i),
            40..68 => {
                let j = (i + self.rng.random_range(1..n)) % n;
                let cut_after = self.maybe_cut();
                self.sync(i, j, cut_after);
            }
            68..76 => self.overlapping(),
            76..84 => {
                // Kill (no clean shutdown) or bring back.
                match self.nodes[i].take() {
                    Some(node) => {
                        drop(node);
                        self.log.push(format!("kill {i}"));
                    }
                    None => self.restart(i),
                }
            }
            84..91 => {
                let j = (i + self.rng.random_range(1..n)) % n;
                let pair = (i.min(j), i.max(j));
                if !self.cut.remove(&pair) {
                    self.cut.insert(pair);
                }
                self.log.push(format!("toggle partition {pair:?}"));
            }
            91..96 => self.admit(i % 2),
            _ => self.restart(i),
        }
    }

    /// A cut after a random number of frames, for one session in four.
    fn maybe_cut(&mut self) -> Option<usize> {
        if self.rng.random_range(0..4) == 0 {
            Some(self.rng.random_range(1..12))
        } else {
            None
        }
    }

    /// Coordinator `c` (node 0, the founder, or node 1) admits the next waiting member, if it
    /// is up and holds the community.
    fn admit(&mut self, c: usize) {
        if self.waiting.is_empty() || !self.holds(c) {
            return;
        }
        let w = self.waiting.remove(0);
        let node = self.nodes[c].as_ref().unwrap();
        node.add_member(
            &self.community,
            &self.ids[w],
            &format!("node {w}"),
            Role::Member,
        )
        .unwrap();
        self.admitted.insert(self.ids[w]);
        self.log.push(format!("{c} admits {w}"));
    }

    fn restart(&mut self, i: usize) {
        if self.nodes[i].is_none() {
            self.nodes[i] = Some(Node::open(Profile::at(&self.dirs[i])).unwrap());
            self.log.push(format!("restart {i}"));
        }
    }

    fn write(&mut self, i: usize) {
        // A node that holds nothing yet writes nothing; the founder writes instead.
        let i = if self.holds(i) { i } else { 0 };
        if !self.holds(i) {
            return;
        }
        match self.rng.random_range(0..10) {
            0..6 => self.write_thread(i),
            6..9 => self.write_entry(i),
            _ => self.write_event(i),
        }
    }

    fn write_thread(&mut self, i: usize) {
        let node = self.nodes[i].as_ref().unwrap();
        let threads = node
            .threads(&self.community, &ThreadFilter::default())
            .unwrap();
        let k = self.acked.len();
        if threads.is_empty() || self.rng.random_range(0..3) == 0 {
            let title = format!("thread {k} by {i}");
            let id = node
                .create_thread(
                    &self.community,
                    &NewThread {
                        activity: ActivityKind::Discussion,
                        title: title.clone(),
                        body: "opening".into(),
                        tags: Vec::new(),
                    },
                )
                .unwrap();
            self.acked.insert(id, (title, BTreeSet::new()));
            self.log.push(format!("{i} opens {id}"));
        } else {
            let t = threads[self.rng.random_range(0..threads.len())].id;
            let body = format!("reply {} by {i}", self.rng.random_range(0..1_000_000u32));
            node.reply(&t, &body, None).unwrap();
            self.acked.entry(t).or_default().1.insert(body);
            self.log.push(format!("{i} replies to {t}"));
        }
    }

    /// A new repertoire entry, or an edit of one this node holds (edits on different nodes
    /// meet in the same text: each appended piece must survive the merge).
    fn write_entry(&mut self, i: usize) {
        let node = self.nodes[i].as_ref().unwrap();
        let held = node
            .entries(&self.community, &EntryFilter::default())
            .unwrap();
        if held.is_empty() || self.rng.random_range(0..3) == 0 {
            let title = format!("entry {} by {i}", self.entries.len());
            let id = node
                .create_entry(
                    &self.community,
                    &NewEntry {
                        kind: EntryKind::Method,
                        title: Some(title.clone()),
                        body: Some("How we do it.".into()),
                        tags: Vec::new(),
                        from_thread: None,
                    },
                )
                .unwrap();
            self.entries.insert(id, (title, Vec::new()));
            self.log.push(format!("{i} writes entry {id}"));
        } else {
            let e = held[self.rng.random_range(0..held.len())].id;
            let piece = format!(" [edit {} by {i}]", self.rng.random_range(0..1_000_000u32));
            node.edit_entry(&e, &TextEdit::Append(piece.clone()))
                .unwrap();
            self.entries.entry(e).or_default().1.push(piece);
            self.log.push(format!("{i} edits entry {e}"));
        }
    }

    fn write_event(&mut self, i: usize) {
        let node = self.nodes[i].as_ref().unwrap();
        let title = format!("event {} by {i}", self.events.len());
        let id = node
            .create_event(
                &self.community,
                &NewEvent {
                    kind: EventKind::Meeting,
                    title: title.clone(),
                    start_local: format!("2026-12-{:02}T15:00", self.rng.random_range(1..29)),
                    tz: "Europe/Amsterdam".into(),
                    duration_min: 60,
                    place: None,
                    agenda: "Cases".into(),
                    recur: None,
                },
            )
            .unwrap();
        self.events.insert(id, title);
        self.log.push(format!("{i} plans event {id}"));
    }

    /// Starts a session between `i` and `j`, unless they cannot reach each other, are down,
    /// hold nothing between them, or one refuses the other (not a member there yet).
    fn start(&mut self, i: usize, j: usize, cut_after: Option<usize>) -> Option<InFlight> {
        let pair = (i.min(j), i.max(j));
        if self.cut.contains(&pair) || !(self.holds(i) || self.holds(j)) {
            return None;
        }
        let (Some(a), Some(b)) = (self.nodes[i].as_ref(), self.nodes[j].as_ref()) else {
            return None;
        };
        let c = self.community;
        let (Ok((sa, ha)), Ok((sb, hb))) = (
            a.start_sync(&c, &self.ids[j]),
            b.start_sync(&c, &self.ids[i]),
        ) else {
            self.log.push(format!("sync {i}-{j} refused"));
            return None;
        };
        self.log.push(format!("sync {i}-{j} cut {cut_after:?}"));
        Some(InFlight {
            i,
            j,
            sa,
            sb,
            to_a: vec![hb],
            to_b: vec![ha],
            frames: 0,
            cut_after,
        })
    }

    /// Delivers what is on its way in one direction of `s` (both, if `both`): `Some(moved)`
    /// when the session is over (the changes that moved; 0 when it was cut), `None` while it
    /// runs.
    fn deliver(&self, s: &mut InFlight, to_b: bool, both: bool) -> Option<u64> {
        if s.to_a.is_empty() && s.to_b.is_empty() {
            let (i, j) = (s.i, s.j);
            assert!(
                s.sa.is_done() && s.sb.is_done(),
                "session {i}-{j} ended unfinished"
            );
            return Some(s.sa.stats().changes_received + s.sb.stats().changes_received);
        }
        if s.cut_after.is_some_and(|k| s.frames >= k) {
            // The connection drops: both sides simply stop.
            return Some(0);
        }
        assert!(s.frames < MAX_FRAMES, "session {}-{} stuck", s.i, s.j);
        let (a, b) = (
            self.nodes[s.i].as_ref().unwrap(),
            self.nodes[s.j].as_ref().unwrap(),
        );
        let mut next_a = Vec::new();
        if to_b || both {
            for f in std::mem::take(&mut s.to_b) {
                s.frames += 1;
                next_a.extend(b.sync_receive(&mut s.sb, f).unwrap());
            }
        }
        if !to_b || both {
            for f in std::mem::take(&mut s.to_a) {
                s.frames += 1;
                s.to_b.extend(a.sync_receive(&mut s.sa, f).unwrap());
            }
        }
        s.to_a.extend(next_a);
        None
    }

    /// A session between `i` and `j`, cut off after `cut_after` frames if given. Returns the
    /// changes that moved.
    fn sync(&mut self, i: usize, j: usize, cut_after: Option<usize>) -> u64 {
        let Some(mut s) = self.start(i, j, cut_after) else {
            return 0;
        };
        loop {
            if let Some(moved) = self.deliver(&mut s, true, true) {
                return moved;
            }
        }
    }

    /// Two or three sessions at once, some between the same two nodes, their frames
    /// interleaved in a random order across sessions (each session's own frames stay in
    /// order, as on its stream).
    fn overlapping(&mut self) {
        let n = self.nodes.len();
        let k = self.rng.random_range(2..=3);
        let mut running = Vec::new();
        let (mut i, mut j) = (0, 0);
        for x in 0..k {
            // After the first, one in three runs between the same two nodes again.
            if x == 0 || self.rng.random_range(0..3) != 0 {
                i = self.rng.random_range(0..n);
                j = (i + self.rng.random_range(1..n)) % n;
            }
            let cut_after = self.maybe_cut();
            if let Some(s) = self.start(i, j, cut_after) {
                running.push(s);
            }
        }
        self.log.push(format!("{} sessions at once", running.len()));
        while !running.is_empty() {
            let at = self.rng.random_range(0..running.len());
            let to_b = self.rng.random_range(0..2) == 0;
            if self.deliver(&mut running[at], to_b, false).is_some() {
                running.swap_remove(at);
            }
        }
    }

    /// Everyone back, no partition, all pairs sync until nothing moves.
    fn heal(&mut self) {
        for i in 0..self.nodes.len() {
            self.restart(i);
        }
        self.cut.clear();
        while !self.waiting.is_empty() {
            self.admit(0);
        }
        for _ in 0..MAX_HEAL_ROUNDS {
            let mut moved = 0;
            for i in 0..self.nodes.len() {
                for j in i + 1..self.nodes.len() {
                    moved += self.sync(i, j, None);
                }
            }
            if moved == 0 {
                return;
            }
        }
        panic!("still moving after {MAX_HEAL_ROUNDS} rounds of all-pairs syncs");
    }

    fn check(&self) {
        let mut first: Option<BTreeMap<DocId, (String, BTreeSet<String>)>> = None;
        for (i, node) in self.nodes.iter().enumerate() {
            let node = node.as_ref().unwrap();
            let mut seen = BTreeMap::new();
            for t in node
                .threads(&self.community, &ThreadFilter::default())
                .unwrap()
            {
                let thread = node.thread(&t.id).unwrap();
                let replies: BTreeSet<String> =
                    thread.replies.iter().map(|p| p.body.clone()).collect();
                seen.insert(t.id, (t.title, replies));
            }
            for (id, (title, replies)) in &self.acked {
                let got = seen
                    .get(id)
                    .unwrap_or_else(|| panic!("node {i} lacks acknowledged thread {title}"));
                assert_eq!(&got.0, title);
                assert!(
                    replies.is_subset(&got.1),
                    "node {i} lacks acknowledged replies in {title}"
                );
            }
            match &first {
                None => first = Some(seen),
                Some(f) => assert_eq!(f, &seen, "node {i} differs from node 0"),
            }
        }
        let mut first: Option<Others> = None;
        for (i, node) in self.nodes.iter().enumerate() {
            let seen = self.others(i, node.as_ref().unwrap());
            match &first {
                None => first = Some(seen),
                Some(f) => assert_eq!(f, &seen, "node {i} differs from node 0"),
            }
        }
    }

    /// What node `i` holds besides threads: entries (title, text), events (title) and the
    /// roster (member, role), checked against what was acknowledged.
    fn others(&self, i: usize, node: &Node) -> Others {
        let mut entries = BTreeMap::new();
        for e in node
            .entries(&self.community, &EntryFilter::default())
            .unwrap()
        {
            let entry = node.entry(&e.id).unwrap();
            entries.insert(e.id, (entry.title, entry.body));
        }
        for (id, (title, pieces)) in &self.entries {
            let (got_title, body) = entries
                .get(id)
                .unwrap_or_else(|| panic!("node {i} lacks acknowledged entry {title}"));
            assert_eq!(got_title, title);
            for p in pieces {
                assert!(
                    body.contains(p.as_str()),
                    "node {i} lost the edit{p} of {title}: {body:?}"
                );
            }
        }
        let events: BTreeMap<DocId, String> = node
            .events(&self.community)
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.details.title))
            .collect();
        for (id, title) in &self.events {
            assert_eq!(
                events.get(id),
                Some(title),
                "node {i} lacks acknowledged event {title}"
            );
        }
        let roster: BTreeMap<MemberId, Role> = node
            .members(&self.community)
            .unwrap()
            .into_iter()
            .filter(|m| m.removed_at.is_none())
            .map(|m| (m.id, m.role))
            .collect();
        for m in &self.admitted {
            assert!(
                roster.contains_key(m),
                "node {i} lacks the admission of {}",
                m.short()
            );
        }
        (entries, events, roster)
    }
}

/// Entries, events and roster, as [`Sim::others`] reads them.
type Others = (
    BTreeMap<DocId, (String, String)>,
    BTreeMap<DocId, String>,
    BTreeMap<MemberId, Role>,
);

fn run(seed: u64) -> usize {
    let result = std::panic::catch_unwind(|| {
        let mut sim = Sim::new(seed);
        let steps = sim.rng.random_range(20..60);
        for _ in 0..steps {
            sim.step();
        }
        sim.heal();
        sim.check();
        if std::env::var_os("SIM_LOG").is_some() {
            eprintln!(
                "seed {seed}: {} threads, {} entries, {} events acknowledged; {}",
                sim.acked.len(),
                sim.entries.len(),
                sim.events.len(),
                sim.log.join("; ")
            );
        }
        sim.acked.len() + sim.entries.len() + sim.events.len()
    });
    match result {
        Ok(writes) => writes,
        Err(e) => {
            eprintln!(
                "simulator seed {seed} failed; replay: SIM_SEED={seed} cargo test -p commonplace-tests --test simulator"
            );
            std::panic::resume_unwind(e)
        }
    }
}

/// Runs this quarter (`part` of 4) of seeds 0..SIM_SEEDS, or just SIM_SEED (in part 0).
fn seeds(part: u64) {
    if let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        if part == 0 {
            run(seed);
        }
        return;
    }
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let (from, to) = (seeds * part / 4, seeds * (part + 1) / 4);
    let mut writes = 0;
    for seed in from..to {
        writes += run(seed);
    }
    // The seeds do write (a simulator that wrote nothing would prove nothing).
    assert!(
        writes as u64 >= to - from,
        "only {writes} writes in seeds {from}..{to}"
    );
}

// Four quarters, so the test runner spreads them over the cores.
#[test]
fn seeded_peers_end_identical_seeds_q1() {
    seeds(0);
}
#[test]
fn seeded_peers_end_identical_seeds_q2() {
    seeds(1);
}
#[test]
fn seeded_peers_end_identical_seeds_q3() {
    seeds(2);
}
#[test]
fn seeded_peers_end_identical_seeds_q4() {
    seeds(3);
}
