//! W6 reads during a sync: the app's reads — the thread list and one thread view, through
//! the same `Node` calls the app makes — timed while a W1-size sync is applied in the same
//! node, against the same reads on that node when it is idle, in the same run.
//!
//! Two members share `threads` threads × `base` posts; one writes `posts` posts to every
//! thread but the one the other is viewing; the other then syncs them in (sessions in this
//! process, each side's frames handed over in batches as the network layer does, so the
//! gate takes whole batches) on one thread while another thread reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use commonplace_base::{CommunityId, DocId};
use commonplace_model::Role;
use commonplace_node::{NewCommunity, Node, ThreadFilter};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::{Row, node, percentile, thread};

/// The sizes: W1's.
pub struct Sizes {
    pub threads: usize,
    pub base: usize,
    pub posts: usize,
    /// Reads of each kind timed on the idle node.
    pub idle_reads: usize,
}

/// One session between `a` and `b`, every frame one side has to send handed to the other
/// in one batch.
fn sync(a: &Node, b: &Node, c: &CommunityId) -> Result<()> {
    let (mut sa, ha) = a
        .start_sync(c, &b.member_id())
        .map_err(|e| anyhow!("{e}"))?;
    let (mut sb, hb) = b
        .start_sync(c, &a.member_id())
        .map_err(|e| anyhow!("{e}"))?;
    let (mut to_a, mut to_b) = (vec![hb], vec![ha]);
    for _ in 0..100_000 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        if !to_b.is_empty() {
            let frames = std::mem::take(&mut to_b);
            to_a.extend(
                b.sync_receive_batch(&mut sb, frames)
                    .map_err(|e| anyhow!("{e}"))?,
            );
        }
        if !to_a.is_empty() {
            let frames = std::mem::take(&mut to_a);
            to_b.extend(
                a.sync_receive_batch(&mut sa, frames)
                    .map_err(|e| anyhow!("{e}"))?,
            );
        }
    }
    if !(sa.is_done() && sb.is_done()) {
        bail!(
            "the sessions did not finish: {:?} {:?}",
            sa.phase(),
            sb.phase()
        );
    }
    Ok(())
}

/// Nanoseconds this thread has spent waiting for a CPU while runnable (Linux schedstat; 0
/// where it cannot be read).
fn cpu_wait_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// One read's milliseconds: wall clock, and wall clock less the time spent waiting for a
/// CPU (what is left is running or blocked, on a lock for instance).
#[derive(Default)]
struct Times {
    wall: Vec<f64>,
    not_waiting_for_cpu: Vec<f64>,
}

impl Times {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let (t, w) = (Instant::now(), cpu_wait_ns());
        let out = f();
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let waited = cpu_wait_ns().saturating_sub(w) as f64 / 1e6;
        self.wall.push(wall);
        self.not_waiting_for_cpu.push((wall - waited).max(0.0));
        out
    }
}

/// The times of each read (thread list, thread view) while `busy` holds, at least once.
fn read_while(
    bea: &Node,
    c: &CommunityId,
    viewed: &DocId,
    mut busy: impl FnMut() -> bool,
) -> Result<(Times, Times)> {
    let (mut list, mut view) = (Times::default(), Times::default());
    loop {
        let threads = list.time(|| bea.threads(c, &ThreadFilter::default()))?;
        let opened = view.time(|| bea.thread(viewed))?;
        if threads.is_empty() || opened.id != *viewed {
            bail!("the reads did not answer what they should");
        }
        if !busy() {
            return Ok((list, view));
        }
    }
}

/// W6 at `sizes`.
pub fn run(sizes: &Sizes, rows: &mut Vec<Row>) -> Result<()> {
    let root = tempfile::tempdir()?;
    let ana = node(root.path(), "ana")?;
    let bea = node(root.path(), "bea")?;
    let c = ana.create_community(&NewCommunity {
        name: "Bench".into(),
        ..Default::default()
    })?;
    ana.add_member(&c, &bea.member_id(), "bea", Role::Member)?;
    let mut threads = Vec::new();
    for i in 0..sizes.threads.max(2) {
        let t = ana.create_thread(&c, &thread(format!("thread {i}")))?;
        for j in 0..sizes.base {
            ana.reply(&t, &format!("{j} {}", "y".repeat(290)), None)?;
        }
        threads.push(t);
    }
    sync(&ana, &bea, &c).context("the first sync")?;
    // Bea views the first thread; the sync brings posts to every other one.
    let viewed = threads[0];
    eprintln!("W6: writing {} posts to sync…", sizes.posts);
    let mut rng = StdRng::seed_from_u64(6);
    for i in 0..sizes.posts {
        let t = threads[rng.random_range(1..threads.len())];
        ana.reply(&t, &format!("0:{i} {}", "z".repeat(290)), None)?;
    }
    // Idle: the same reads, the thread read once before (the app's view is open).
    bea.thread(&viewed)?;
    let mut n = 0;
    let (mut idle_list, mut idle_view) = read_while(&bea, &c, &viewed, || {
        n += 1;
        n < sizes.idle_reads
    })?;
    // During the sync: reads until it is done.
    let done = Arc::new(AtomicBool::new(false));
    let syncing = {
        let (ana, bea, done) = (ana.clone(), bea.clone(), done.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = sync(&ana, &bea, &c);
            done.store(true, Ordering::Release);
            r.map(|()| started.elapsed())
        })
    };
    let (mut list, mut view) = read_while(&bea, &c, &viewed, || !done.load(Ordering::Acquire))?;
    let took = syncing
        .join()
        .map_err(|_| anyhow!("the syncing thread panicked"))??;
    let posts: usize = bea
        .threads(&c, &ThreadFilter::default())?
        .iter()
        .map(|t| t.replies as usize)
        .sum();
    if posts != sizes.threads.max(2) * sizes.base + sizes.posts {
        bail!("the sync did not bring every post ({posts})");
    }
    eprintln!(
        "W6: sync of {} posts took {:.3} s; {} read pairs during it, {} idle",
        sizes.posts,
        took.as_secs_f64(),
        list.wall.len(),
        idle_list.wall.len()
    );
    let name = format!(
        "W6 reads during a sync of {} posts ({} threads × {} posts held)",
        sizes.posts,
        sizes.threads.max(2),
        sizes.base
    );
    for (what, during, idle) in [
        ("thread list", &mut list, &mut idle_list),
        ("thread view", &mut view, &mut idle_view),
    ] {
        let (during_ex, idle_ex) = (
            &mut during.not_waiting_for_cpu,
            &mut idle.not_waiting_for_cpu,
        );
        let (during, idle) = (&mut during.wall, &mut idle.wall);
        rows.push(
            Row::new(
                &name,
                &format!("{what} during the sync, median (ms)"),
                percentile(during, 0.5),
            )
            .reference("idle node, median", percentile(idle, 0.5)),
        );
        rows.push(
            Row::new(
                &name,
                &format!("{what} during the sync, p99 (ms)"),
                percentile(during, 0.99),
            )
            .reference("idle node, p99", percentile(idle, 0.99))
            .target("≤ 2× idle and < 10 ms"),
        );
        // On a shared machine the tail is mostly waiting for a CPU; without it, what is left
        // is the read itself and any wait for a lock.
        rows.push(
            Row::new(
                &name,
                &format!("{what} during the sync less CPU waits, p99 (ms)"),
                percentile(during_ex, 0.99),
            )
            .reference("idle node, the same", percentile(idle_ex, 0.99)),
        );
    }
    Ok(())
}
