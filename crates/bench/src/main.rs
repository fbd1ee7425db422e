//! `commonplace-bench`: measures sync convergence and live propagation on loopback, each
//! figure next to a reference measured in the same run, and prints one table.
//!
//! ```text
//! commonplace-bench [--quick] [--posts N] [--threads N] [--json FILE]
//! ```
//!
//! References: the *limit* — the same documents synced in one process with Automerge's own
//! sync protocol, no network, no signatures, no storage. Timings on a shared machine vary;
//! ratios within one run are what to compare.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::sync::{State, SyncDoc};
use automerge::{Automerge, Change};
use commonplace_base::{CommunityId, DocId};
use commonplace_model::bundle;
use commonplace_model::{ActivityKind, Role};
use commonplace_node::{NetConfig, NewCommunity, NewThread, Node, Online, Profile, RelayConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

struct Args {
    quick: bool,
    posts: usize,
    threads: usize,
    json: Option<String>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        quick: false,
        posts: 5_000,
        threads: 200,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--posts" => a.posts = it.next().context("--posts N")?.parse()?,
            "--threads" => a.threads = it.next().context("--threads N")?.parse()?,
            "--json" => a.json = Some(it.next().context("--json FILE")?),
            other => bail!(
                "unknown argument {other}; usage: commonplace-bench [--quick] [--posts N] [--threads N] [--json FILE]"
            ),
        }
    }
    if a.quick {
        a.posts = a.posts.min(150);
        a.threads = a.threads.min(15);
    }
    Ok(a)
}

fn loopback() -> NetConfig {
    NetConfig {
        bind: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        relay: RelayConfig::Disabled,
        ..NetConfig::default()
    }
}

/// Peak resident memory of this process, and a way to reset it (Linux).
fn peak_rss_mb() -> f64 {
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

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
async fn converge(args: &Args, rows: &mut Vec<Value>) -> Result<()> {
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
    for i in 0..args.threads {
        let t = ana.create_thread(&c, &thread(format!("thread {i}")))?;
        for j in 0..(if args.quick { 2 } else { 10 }) {
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
    let limit = limit_sync(documents(&ana, &c)?, documents(&bea, &c)?)?;
    let a = Online::start(ana.clone(), loopback()).await?;
    let b = Online::start(bea.clone(), loopback()).await?;
    reset_peak_rss();
    let started = Instant::now();
    let report = b.sync_with(a.addr(), c).await?;
    let took = started.elapsed();
    let rss = peak_rss_mb();
    a.shutdown().await;
    b.shutdown().await;
    let same = ana.threads(&c, &Default::default())? == bea.threads(&c, &Default::default())?;
    if !same {
        bail!("the two members did not converge");
    }
    let wire = report.bytes_sent + report.bytes_received;
    let name = format!(
        "converge {}+{} posts, {} threads",
        args.posts, args.posts, args.threads
    );
    rows.push(json!({ "scenario": name, "figure": "time to converge (s)", "value": took.as_secs_f64(),
        "reference": "limit", "reference_value": limit.0.as_secs_f64(), "ratio": took.as_secs_f64() / limit.0.as_secs_f64().max(1e-9) }));
    rows.push(json!({ "scenario": name, "figure": "bytes on the wire", "value": wire,
        "reference": "limit", "reference_value": limit.1, "ratio": wire as f64 / (limit.1 as f64).max(1.0) }));
    rows.push(json!({ "scenario": name, "figure": "peak RSS, both nodes in one process (MB)", "value": rss,
        "reference": null, "reference_value": null, "ratio": null }));
    Ok(())
}

/// `n` online members; one posts; time until every node shows the post.
async fn propagate(n: usize, posts: usize, rows: &mut Vec<Value>) -> Result<()> {
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
    for k in 0..posts {
        let author = rng.random_range(0..n);
        let started = Instant::now();
        nodes[author].reply(&t, &format!("post {k}"), None)?;
        let want = k + 1;
        let deadline = started + Duration::from_secs(20);
        loop {
            let all = nodes.iter().all(|m| {
                m.thread(&t)
                    .map(|t| t.replies.len() >= want)
                    .unwrap_or(false)
            });
            if all {
                break;
            }
            if Instant::now() > deadline {
                bail!("post {k} did not reach all {n} nodes within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    for o in &online {
        o.shutdown().await;
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    let name = format!("live propagation to {n} peers ({posts} posts)");
    rows.push(
        json!({ "scenario": name, "figure": "median (ms)", "value": pick(0.5),
        "reference": null, "reference_value": null, "ratio": null }),
    );
    rows.push(
        json!({ "scenario": name, "figure": "p99 (ms)", "value": pick(0.99),
        "reference": null, "reference_value": null, "ratio": null }),
    );
    Ok(())
}

fn print_table(rows: &[Value]) {
    println!(
        "{:<44} {:<42} {:>12} {:>14} {:>8}",
        "scenario", "figure", "value", "limit", "ratio"
    );
    for r in rows {
        let num = |v: &Value| match v.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() > 100.0 => format!("{x:.0}"),
            Some(x) => format!("{x:.3}"),
            None => "-".into(),
        };
        println!(
            "{:<44} {:<42} {:>12} {:>14} {:>8}",
            r["scenario"].as_str().unwrap_or(""),
            r["figure"].as_str().unwrap_or(""),
            num(&r["value"]),
            num(&r["reference_value"]),
            r["ratio"]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.2}x")),
        );
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    rt.block_on(async {
        converge(&args, &mut rows).await?;
        let posts = if args.quick { 5 } else { 100 };
        propagate(5, posts, &mut rows).await?;
        if !args.quick {
            propagate(20, posts, &mut rows).await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    print_table(&rows);
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&json!({ "rows": rows }))?,
        )?;
    }
    Ok(())
}
