//! `commonplace-bench`: the benchmark suite of issue 6. Every figure is measured next to its
//! references in the same run, and printed in one table with the ratios.
//!
//! ```text
//! commonplace-bench [--quick] [--only W1,W2,...] [--posts N] [--threads N]
//!                   [--big-posts N] [--big-threads N] [--entries N] [--writes N]
//!                   [--live-nodes N,N] [--json FILE]
//! ```
//!
//! - W1 converge (`--posts`, `--threads`): two members write offline, reconnect on loopback;
//!   references: the *limit* (Automerge's own sync in one process) and automerge-repo.
//! - W2 live propagation to 5 and 20 nodes (`--live-nodes`); reference: automerge-repo's
//!   sync-server star.
//! - W3 cold open, W4 signed ingest, W5 local write on one big community (`--big-posts`
//!   posts over `--big-threads` threads, `--entries` repertoire entries): see `big.rs`.
//! - W6 reads during a sync: the thread list and a thread view timed while a W1-size sync
//!   (`--posts`, `--threads`) is applied in the same node, against the same reads idle; see
//!   `reads.rs`.
//! - W7 entry replace: a one-character edit and a total rewrite of a 20,000- and a
//!   1,000,000-character entry, sent as the whole text; see `replace.rs`.
//!
//! The automerge-repo references run `node bench/automerge-repo/bench.js` when Node and the
//! packages (`npm ci` there) are present, and are reported as skipped otherwise. Timings on a
//! shared machine vary; ratios within one run are what to compare.

mod amrepo;
mod big;
mod child;
mod reads;
mod replace;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::sync::{State, SyncDoc};
use automerge::{Automerge, Change};
use commonplace_base::{CommunityId, DocId};
use commonplace_model::bundle;
use commonplace_model::{ActivityKind, Role};
use commonplace_node::{
    NetConfig, NewCommunity, NewThread, Node, NodeEvent, Online, PeerTicket, Profile, RelayConfig,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

struct Args {
    quick: bool,
    only: Option<Vec<String>>,
    posts: usize,
    threads: usize,
    big: big::Sizes,
    /// W2: how many online nodes, one run each.
    live_nodes: Vec<usize>,
    json: Option<String>,
}

impl Args {
    fn runs(&self, id: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x.eq_ignore_ascii_case(id)))
    }
}

const USAGE: &str = "usage: commonplace-bench [--quick] [--only W1,W2,W3,W4,W5,W6,W7] [--posts N] [--threads N] \
[--big-posts N] [--big-threads N] [--entries N] [--writes N] [--live-nodes N,N] [--json FILE]";

fn parse_args() -> Result<Args> {
    let mut a = Args {
        quick: false,
        only: None,
        posts: 5_000,
        threads: 200,
        big: big::Sizes {
            posts: 100_000,
            threads: 1_000,
            entries: 1_000,
            writes: 200,
        },
        live_nodes: vec![5, 20],
        json: None,
    };
    let mut it = std::env::args().skip(1);
    let mut set = Vec::new();
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize> {
            set.push(name.to_owned());
            Ok(it.next().with_context(|| format!("{name} N"))?.parse()?)
        };
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--posts" => a.posts = num("--posts")?,
            "--threads" => a.threads = num("--threads")?,
            "--big-posts" => a.big.posts = num("--big-posts")?,
            "--big-threads" => a.big.threads = num("--big-threads")?,
            "--entries" => a.big.entries = num("--entries")?,
            "--writes" => a.big.writes = num("--writes")?,
            "--only" => {
                a.only = Some(
                    it.next()
                        .context("--only W1,W2,...")?
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .collect(),
                );
            }
            "--json" => a.json = Some(it.next().context("--json FILE")?),
            "--live-nodes" => {
                set.push("--live-nodes".into());
                a.live_nodes = it
                    .next()
                    .context("--live-nodes N,N")?
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()?;
            }
            // Child modes of W3 (see big.rs): one process per cold open.
            "--child-open" => {
                big::child_open(&it.next().context("--child-open DIR")?)?;
                std::process::exit(0);
            }
            // Child modes of W1: one process per node.
            "--child-serve" => {
                child_serve(&it.next().context("--child-serve DIR")?)?;
                std::process::exit(0);
            }
            "--child-sync" => {
                let dir = it.next().context("--child-sync DIR COMMUNITY ADDR")?;
                let c = it.next().context("--child-sync DIR COMMUNITY ADDR")?;
                let addr = it.next().context("--child-sync DIR COMMUNITY ADDR")?;
                child_sync(&dir, &c, &addr)?;
                std::process::exit(0);
            }
            "--child-load" => {
                big::child_load(&it.next().context("--child-load FILE")?)?;
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}; {USAGE}"),
        }
    }
    if a.quick {
        // Small enough for CI in the debug profile; sizes given explicitly still win.
        let keep = |name: &str| set.iter().any(|s| s == name);
        if !keep("--posts") {
            a.posts = 150;
        }
        if !keep("--threads") {
            a.threads = 15;
        }
        if !keep("--big-posts") {
            a.big.posts = 1_000;
        }
        if !keep("--big-threads") {
            a.big.threads = 10;
        }
        if !keep("--entries") {
            a.big.entries = 10;
        }
        if !keep("--writes") {
            a.big.writes = 10;
        }
        if !keep("--live-nodes") {
            a.live_nodes = vec![5];
        }
    }
    Ok(a)
}

/// One line of the table: a figure, and at most one reference with the ratio to it. A figure
/// with two references is two rows.
#[derive(Debug, Clone)]
pub struct Row {
    scenario: String,
    figure: String,
    value: Option<f64>,
    reference: Option<String>,
    reference_value: Option<f64>,
    target: Option<String>,
    note: Option<String>,
}

impl Row {
    pub fn new(scenario: &str, figure: &str, value: f64) -> Row {
        Row {
            scenario: scenario.to_owned(),
            figure: figure.to_owned(),
            value: Some(value),
            reference: None,
            reference_value: None,
            target: None,
            note: None,
        }
    }

    pub fn reference(mut self, name: &str, value: f64) -> Row {
        self.reference = Some(name.to_owned());
        self.reference_value = Some(value);
        self
    }

    /// A scenario that failed, and why.
    pub fn failed(scenario: &str, why: &str) -> Row {
        Row {
            scenario: scenario.to_owned(),
            figure: "failed".to_owned(),
            value: None,
            reference: None,
            reference_value: None,
            target: None,
            note: Some(why.lines().next().unwrap_or("").to_owned()),
        }
    }

    /// A reference that could not be measured in this run, and why.
    pub fn missing(mut self, name: &str, why: &str) -> Row {
        self.reference = Some(name.to_owned());
        self.note = Some(why.to_owned());
        self
    }

    pub fn target(mut self, t: &str) -> Row {
        self.target = Some(t.to_owned());
        self
    }

    fn ratio(&self) -> Option<f64> {
        match (self.value, self.reference_value) {
            (Some(v), Some(r)) if r != 0.0 => Some(v / r),
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario, "figure": self.figure, "value": self.value,
            "reference": self.reference, "reference_value": self.reference_value,
            "ratio": self.ratio(), "target": self.target, "note": self.note,
        })
    }
}

/// The value at quantile `q` (sorts `v`).
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn loopback() -> NetConfig {
    NetConfig {
        bind: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        relay: RelayConfig::Disabled,
        ..NetConfig::default()
    }
}

/// Peak resident memory of this process (Linux).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn node(root: &Path, name: &str) -> Result<Node> {
    Ok(Node::init(Profile::at(root.join(name)), name, None, None)?)
}

/// Every document of a profile's community, rebuilt from an export (for the limit).
fn documents(n: &Node, c: &CommunityId) -> Result<Vec<(DocId, Automerge)>> {
    let b = bundle::decode(&n.export(c)?)?;
    let mut out = Vec::new();
    for d in b.body.docs {
        let mut doc = Automerge::new();
        let changes: Vec<Change> = d
            .changes
            .into_iter()
            .map(|c| Change::from_bytes(c.bytes))
            .collect::<Result<_, _>>()?;
        doc.apply_changes(changes)?;
        out.push((d.id, doc));
    }
    Ok(out)
}

/// The limit: Automerge's own sync between the two sides' documents, in memory.
fn limit_sync(a: Vec<(DocId, Automerge)>, b: Vec<(DocId, Automerge)>) -> Result<(Duration, u64)> {
    let mut bmap: std::collections::HashMap<DocId, Automerge> = b.into_iter().collect();
    let mut pairs = Vec::new();
    for (id, da) in a {
        let db = bmap.remove(&id).unwrap_or_default();
        pairs.push((da, db));
    }
    for (_, db) in bmap {
        pairs.push((Automerge::new(), db));
    }
    let started = Instant::now();
    let mut bytes = 0u64;
    for (da, db) in &mut pairs {
        let (mut sa, mut sb) = (State::new(), State::new());
        for _ in 0..1000 {
            let ma = da.generate_sync_message(&mut sa);
            let mb = db.generate_sync_message(&mut sb);
            if ma.is_none() && mb.is_none() {
                break;
            }
            if let Some(m) = ma {
                let enc = m.encode();
                bytes += enc.len() as u64;
                db.receive_sync_message(&mut sb, automerge::sync::Message::decode(&enc)?)?;
            }
            if let Some(m) = mb {
                let enc = m.encode();
                bytes += enc.len() as u64;
                da.receive_sync_message(&mut sa, automerge::sync::Message::decode(&enc)?)?;
            }
        }
        if da.get_heads() != db.get_heads() {
            bail!("the limit did not converge");
        }
    }
    Ok((started.elapsed(), bytes))
}

fn thread(title: String) -> NewThread {
    NewThread {
        activity: ActivityKind::Discussion,
        title,
        body: "x".repeat(300),
        tags: vec![],
    }
}

/// Two members, a synced community of `threads` threads × 10 posts; both write `posts` posts
/// while offline; they reconnect on loopback and sync until identical.
async fn converge(args: &Args, rows: &mut Vec<Row>) -> Result<()> {
    let root = tempfile::tempdir()?;
    let ana = node(root.path(), "ana")?;
    let bea = node(root.path(), "bea")?;
    let c = ana.create_community(&NewCommunity {
        name: "Bench".into(),
        ..Default::default()
    })?;
    ana.add_member(&c, &bea.member_id(), "bea", Role::Member)?;
    let mut rng = StdRng::seed_from_u64(1);
    let mut threads = Vec::new();
    let base = if args.quick { 2 } else { 10 };
    for i in 0..args.threads {
        let t = ana.create_thread(&c, &thread(format!("thread {i}")))?;
        for j in 0..base {
            ana.reply(&t, &format!("{j} {}", "y".repeat(290)), None)?;
        }
        threads.push(t);
    }
    {
        let a = Online::start(ana.clone(), loopback()).await?;
        let b = Online::start(bea.clone(), loopback()).await?;
        b.sync_with(a.addr(), c).await?;
        a.shutdown().await;
        b.shutdown().await;
    }
    eprintln!("writing {} posts on each side…", args.posts);
    for (who, n) in [(0, &ana), (1, &bea)] {
        for i in 0..args.posts {
            let t = threads[rng.random_range(0..threads.len())];
            n.reply(&t, &format!("{who}:{i} {}", "z".repeat(290)), None)?;
        }
    }
    // Three runs of each, the median reported: on a shared virtual machine one run can be a
    // third slower than the next for reasons outside it.
    let repeats = if args.quick { 1 } else { 3 };
    let (ana_docs, bea_docs) = (documents(&ana, &c)?, documents(&bea, &c)?);
    let mut limits = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        limits.push(limit_sync(ana_docs.clone(), bea_docs.clone())?);
    }
    drop((ana_docs, bea_docs));
    limits.sort_by_key(|l| l.0);
    let limit = limits[limits.len() / 2];
    // Each node in its own process, as two members' machines: the peak RSS is per node. Each
    // run starts from copies of the two profiles as they were after writing.
    drop((ana, bea));
    let mut runs = Vec::with_capacity(repeats);
    for k in 0..repeats {
        let (a, b) = (
            root.path().join(format!("ana-{k}")),
            root.path().join(format!("bea-{k}")),
        );
        copy_dir(&root.path().join("ana"), &a)?;
        copy_dir(&root.path().join("bea"), &b)?;
        let (report, served) = reconcile(&a, &b, &c)?;
        let ana = Node::open(Profile::at(&a))?;
        let bea = Node::open(Profile::at(&b))?;
        if ana.threads(&c, &Default::default())? != bea.threads(&c, &Default::default())? {
            bail!("the two members did not converge");
        }
        runs.push((report, served));
    }
    let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    let times: Vec<f64> = runs.iter().map(|(r, _)| num(r, "secs")).collect();
    eprintln!("W1: runs converged in {times:.3?} s");
    runs.sort_by(|x, y| num(&x.0, "secs").total_cmp(&num(&y.0, "secs")));
    let (report, served) = &runs[runs.len() / 2];
    let took = Duration::from_secs_f64(num(report, "secs"));
    let rss = (num(report, "rss_mb"), num(served, "rss_mb"));
    eprintln!(
        "W1: median run {:.3} s; CPU seconds: dialling node {:.3}, responding node {:.3}",
        took.as_secs_f64(),
        num(report, "cpu_s"),
        num(served, "cpu_s")
    );
    let wire = num(report, "bytes_sent") + num(report, "bytes_received");
    let name = format!(
        "W1 converge {}+{} posts, {} threads × {base} posts",
        args.posts, args.posts, args.threads
    );
    let secs = took.as_secs_f64();
    let am = amrepo::reconcile(args, base);
    let t = "time to converge (s)";
    rows.push(
        Row::new(&name, t, secs)
            .reference("limit", limit.0.as_secs_f64())
            .target("≤ 1.3× the limit"),
    );
    rows.push(
        am_row(Row::new(&name, t, secs), &am, |r| r["time_s"].as_f64())
            .target("≤ 0.2× automerge-repo"),
    );
    let b = "bytes on the wire";
    rows.push(
        Row::new(&name, b, wire)
            .reference("limit", limit.1 as f64)
            .target("≤ 1.1× the limit"),
    );
    rows.push(am_row(Row::new(&name, b, wire), &am, |r| {
        r["bytes"].as_f64()
    }));
    for (who, mb) in [("dialling node", rss.0), ("responding node", rss.1)] {
        rows.push(
            am_row(
                Row::new(&name, &format!("peak RSS, {who} (MB)"), mb),
                &am,
                |r| {
                    Some(
                        r["rss_server_mb"]
                            .as_f64()?
                            .max(r["rss_client_mb"].as_f64()?),
                    )
                },
            )
            .target("< 100 MB per node"),
        );
    }
    am_failed(rows, &name, &am);
    Ok(())
}

/// The longest a W1 node process may take to start, sync or report (a run takes seconds).
const W1_CHILD_LIMIT: Duration = Duration::from_secs(120);

/// One W1 reconcile: the responding node serves the profile at `ana`, the dialling node syncs
/// the profile at `bea` with it; each reports on one JSON line. A node that dies or stalls
/// fails the run within [`W1_CHILD_LIMIT`].
fn reconcile(ana: &Path, bea: &Path, c: &CommunityId) -> Result<(Value, Value)> {
    let me = std::env::current_exe()?;
    let limit = child::limit(W1_CHILD_LIMIT);
    let mut responder = child::Bounded::spawn(
        Command::new(&me)
            .arg("--child-serve")
            .arg(ana)
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit()),
        limit,
    )
    .context("the responding node")?;
    let input = responder.stdin();
    let addr = responder
        .next_line()
        .context("the responding node did not start")?;
    if addr.trim().is_empty() {
        bail!("the responding node did not start");
    }
    let dialer = child::output(
        Command::new(&me)
            .arg("--child-sync")
            .arg(bea)
            .arg(c.to_string())
            .arg(addr.trim())
            .stderr(Stdio::inherit()),
        limit,
    )
    .context("the dialling node failed")?;
    // Closing its input tells the responder to stop and report.
    drop(input);
    let line = responder
        .next_line()
        .context("the responding node's report")?;
    responder.finish().context("the responding node")?;
    let report: Value = serde_json::from_str(
        dialer
            .iter()
            .rev()
            .find(|l| l.starts_with('{'))
            .context("the dialling node's report")?,
    )?;
    let served: Value = serde_json::from_str(&line).context("the responding node's report")?;
    Ok((report, served))
}

/// Copies a profile directory (files only, one level deep, as a profile is laid out).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// CPU seconds this process has used so far (user + system, all threads).
fn cpu_secs() -> f64 {
    // /proc/self/stat: fields 14 and 15 (after the command name in parentheses) in ticks.
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// With `COMMONPLACE_BENCH_PERF=DIR`, a W1 child records itself with `perf` into DIR.
fn perf_self(role: &str) -> Option<std::process::Child> {
    let dir = std::env::var_os("COMMONPLACE_BENCH_PERF")?;
    let out = PathBuf::from(dir).join(format!("{role}.perf"));
    let child = Command::new("perf")
        .args([
            "record",
            "-F",
            "999",
            "-g",
            "--call-graph",
            "dwarf,16384",
            "-o",
        ])
        .arg(out)
        .arg("-p")
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(2));
    Some(child)
}

fn stop_perf(p: Option<std::process::Child>) {
    if let Some(mut p) = p {
        let _ = Command::new("kill")
            .args(["-INT", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// `--child-serve DIR`: W1's responding node. Goes online, prints its address, serves until
/// its input closes, then prints its peak RSS.
fn child_serve(dir: &str) -> Result<()> {
    let node = Node::open(Profile::at(PathBuf::from(dir)))?;
    runtime()?.block_on(async {
        let online = Online::start(node, loopback()).await?;
        let perf = perf_self("serve");
        let cpu = cpu_secs();
        println!("{}", PeerTicket(online.addr()));
        // Wait for the parent to close our input (blocking read, off the async threads).
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        })
        .await?;
        let cpu = cpu_secs() - cpu;
        stop_perf(perf);
        online.shutdown().await;
        println!("{}", json!({ "rss_mb": peak_rss_mb(), "cpu_s": cpu }));
        Ok(())
    })
}

/// `--child-sync DIR COMMUNITY ADDR`: W1's dialling node. Syncs the community with the node
/// at ADDR and prints the time, the frame bytes and its peak RSS.
fn child_sync(dir: &str, community: &str, addr: &str) -> Result<()> {
    let node = Node::open(Profile::at(PathBuf::from(dir)))?;
    let c: CommunityId = community.parse().context("community id")?;
    let addr: PeerTicket = addr.parse().context("peer address")?;
    runtime()?.block_on(async {
        let online = Online::start(node, loopback()).await?;
        let perf = perf_self("sync");
        let cpu = cpu_secs();
        let started = Instant::now();
        let report = online.sync_with(addr.0, c).await?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu;
        stop_perf(perf);
        online.shutdown().await;
        println!(
            "{}",
            json!({ "secs": secs, "bytes_sent": report.bytes_sent,
                    "bytes_received": report.bytes_received, "rss_mb": peak_rss_mb(),
                    "cpu_s": cpu })
        );
        Ok(())
    })
}

/// A row whose reference is an automerge-repo figure, or says why there is none.
fn am_row(
    row: Row,
    am: &Result<Value, amrepo::Unavailable>,
    pick: impl Fn(&Value) -> Option<f64>,
) -> Row {
    match am {
        Ok(v) => match pick(v) {
            Some(x) => row.reference("automerge-repo", x),
            None => row.missing("automerge-repo", "no such figure in its output"),
        },
        Err(why) => row.missing("automerge-repo", &why.to_string()),
    }
}

/// A `failed` row when the automerge-repo reference of `scenario` was run and gave nothing.
fn am_failed(rows: &mut Vec<Row>, scenario: &str, am: &Result<Value, amrepo::Unavailable>) {
    if let Err(amrepo::Unavailable::Failed(why)) = am {
        eprintln!("{scenario}: the automerge-repo reference failed: {why}");
        rows.push(Row::failed(
            &format!("{scenario}, automerge-repo reference"),
            why,
        ));
    }
}

/// `n` online members; one posts; time until every node shows the post.
async fn propagate(n: usize, posts: usize, rows: &mut Vec<Row>) -> Result<()> {
    let root = tempfile::tempdir()?;
    let nodes: Vec<Node> = (0..n)
        .map(|i| node(root.path(), &format!("n{i}")))
        .collect::<Result<_>>()?;
    let c = nodes[0].create_community(&NewCommunity {
        name: "Bench".into(),
        ..Default::default()
    })?;
    for (i, m) in nodes.iter().enumerate().skip(1) {
        nodes[0].add_member(&c, &m.member_id(), &format!("n{i}"), Role::Member)?;
    }
    let t = nodes[0].create_thread(&c, &thread("live".into()))?;
    let mut online = Vec::new();
    for m in &nodes {
        online.push(Online::start(m.clone(), loopback()).await?);
    }
    for o in &online[1..] {
        o.sync_with(online[0].addr(), c).await?;
    }
    // Let the gossip swarm form.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut rng = StdRng::seed_from_u64(2);
    let mut times = Vec::new();
    // When each node emitted its first change event of the thread since the post: the event
    // the app's screens redraw on, sent once the change is stored. One task per node stamps
    // it as it arrives, so the stamp never waits for the measuring loop, and the loop reads
    // no thread while the nodes work on the two cores they share.
    let seen: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
    let mut stampers = tokio::task::JoinSet::new();
    for (i, m) in nodes.iter().enumerate() {
        let mut rx = m.subscribe();
        let seen = seen.clone();
        stampers.spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(NodeEvent::ThreadChanged { thread, .. }) if thread == t => {
                        let now = Instant::now();
                        if let Ok(mut s) = seen.lock() {
                            s[i].get_or_insert(now);
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                }
            }
        });
    }
    // Mean arrival time of the first, second, … node to show a post (ms).
    let mut spread = vec![0.0; n];
    for k in 0..posts {
        let author = rng.random_range(0..n);
        if let Ok(mut s) = seen.lock() {
            s.fill(None);
        }
        let started = Instant::now();
        nodes[author].reply(&t, &format!("post {k}"), None)?;
        let deadline = started + Duration::from_secs(20);
        let arrivals = loop {
            let all: Option<Vec<Instant>> =
                seen.lock().ok().and_then(|s| s.iter().copied().collect());
            if let Some(all) = all {
                // Make sure each event was this post (outside the timing): a node whose
                // event was about something else waits for its next one.
                let mut stale = false;
                for (i, m) in nodes.iter().enumerate() {
                    if !m.thread(&t).is_ok_and(|t| t.replies.len() > k) {
                        stale = true;
                        if let Ok(mut s) = seen.lock() {
                            s[i] = None;
                        }
                    }
                }
                if !stale {
                    break all;
                }
            }
            if Instant::now() > deadline {
                bail!("post {k} did not reach all {n} nodes within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let mut ms: Vec<f64> = arrivals
            .iter()
            .map(|a| a.saturating_duration_since(started).as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        for (s, x) in spread.iter_mut().zip(&ms) {
            *s += x / posts as f64;
        }
        times.push(ms.last().copied().unwrap_or_default());
    }
    stampers.shutdown().await;
    eprintln!(
        "W2 {n} nodes: mean time for the 1st, 2nd, … node to show a post (ms): {}",
        spread
            .iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for o in &online {
        o.shutdown().await;
    }
    let name = format!("W2 live propagation to {n} nodes ({posts} posts)");
    let am = amrepo::star(n, posts);
    let mut t = times;
    for (label, q, key) in [("median", 0.5, "median_ms"), ("p99", 0.99, "p99_ms")] {
        rows.push(
            am_row(
                Row::new(
                    &name,
                    &format!("time to reach every node, {label} (ms)"),
                    percentile(&mut t, q),
                ),
                &am,
                |r| r[key].as_f64(),
            )
            .target("≤ the star's"),
        );
    }
    am_failed(rows, &name, &am);
    Ok(())
}

fn print_table(rows: &[Row]) {
    let num = |v: Option<f64>| match v {
        Some(x) if x.abs() >= 1000.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.3}"),
        None => "-".into(),
    };
    println!(
        "{:<58} {:<46} {:>12}  {:<40} {:>12} {:>8}  target",
        "scenario", "figure", "value", "reference", "ref. value", "ratio"
    );
    let mut last = String::new();
    for r in rows {
        let scenario = if r.scenario == last {
            ""
        } else {
            r.scenario.as_str()
        };
        last.clone_from(&r.scenario);
        let reference = match (&r.reference, &r.note) {
            (Some(name), Some(note)) => format!("{name} ({note})"),
            (Some(name), None) => name.clone(),
            (None, Some(note)) => note.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "{:<58} {:<46} {:>12}  {:<40} {:>12} {:>8}  {}",
            scenario,
            r.figure,
            num(r.value),
            reference,
            num(r.reference_value),
            r.ratio().map_or("-".into(), |x| format!("{x:.2}×")),
            r.target.as_deref().unwrap_or(""),
        );
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    // A scenario that fails is a row saying so; the others still run.
    let failed = |rows: &mut Vec<Row>, name: &str, r: Result<()>| {
        if let Err(e) = r {
            eprintln!("{name} failed: {e:#}");
            rows.push(Row::failed(name, &format!("{e:#}")));
        }
    };
    rt.block_on(async {
        if args.runs("W1") {
            let r = converge(&args, &mut rows).await;
            failed(&mut rows, "W1 converge", r);
        }
        if args.runs("W2") {
            let posts = if args.quick { 5 } else { 100 };
            for &n in &args.live_nodes {
                let r = propagate(n, posts, &mut rows).await;
                failed(&mut rows, &format!("W2 live propagation to {n} nodes"), r);
            }
        }
    });
    drop(rt);
    if args.runs("W3") || args.runs("W4") || args.runs("W5") {
        let r = big::run(args.big, &mut rows);
        failed(&mut rows, "W3–W5 big community", r);
    }
    if args.runs("W6") {
        let sizes = reads::Sizes {
            threads: args.threads,
            base: if args.quick { 2 } else { 10 },
            posts: args.posts,
            idle_reads: if args.quick { 50 } else { 500 },
        };
        let r = reads::run(&sizes, &mut rows);
        failed(&mut rows, "W6 reads during a sync", r);
    }
    if args.runs("W7") {
        let sizes: &[usize] = if args.quick {
            &[20_000, 100_000]
        } else {
            &[20_000, 1_000_000]
        };
        let r = replace::run(sizes, &mut rows);
        failed(&mut rows, "W7 entry replace", r);
    }
    let any_failed = rows.iter().any(|r| r.value.is_none());
    print_table(&rows);
    eprintln!("whole run: {:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = &args.json {
        let machine = json!({
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "cpu": cpu_model(),
            "os": std::env::consts::OS,
            "debug_build": cfg!(debug_assertions),
        });
        let sizes = json!({
            "quick": args.quick, "posts": args.posts, "threads": args.threads,
            "big_posts": args.big.posts, "big_threads": args.big.threads,
            "entries": args.big.entries, "writes": args.big.writes,
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&json!({
                "sizes": sizes,
                "machine": machine,
                "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            }))?,
        )?;
    }
    if any_failed {
        bail!("a scenario failed (see the table)");
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default()
}
