//! Partitions: three always-on peers in network namespaces the test creates (a hub namespace
//! with a bridge, one veth pair per node). One node is cut off, both sides write, the link
//! heals, and every node converges. Needs root (CI runs as root); where namespaces cannot be
//! created the test says so and skips.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use commonplace_testkit::Member;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The namespaces and links of one test run, removed on drop.
struct Lab {
    tag: String,
    nodes: usize,
}

impl Lab {
    fn hub(&self) -> String {
        format!("{}h", self.tag)
    }
    fn ns(&self, i: usize) -> String {
        format!("{}n{i}", self.tag)
    }
    fn hub_end(&self, i: usize) -> String {
        format!("{}h{i}", self.tag)
    }
    fn addr(i: usize) -> String {
        format!("10.231.0.{}", 10 + i)
    }

    fn create(nodes: usize) -> Option<Lab> {
        let tag = format!("cp{}", std::process::id() % 100_000);
        let lab = Lab { tag, nodes };
        let hub = lab.hub();
        if !ip(&["netns", "add", &hub]) {
            return None;
        }
        let ok = ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])
            && ip(&["-n", &hub, "link", "set", "br0", "up"])
            && ip(&["-n", &hub, "link", "set", "lo", "up"]);
        if !ok {
            return None;
        }
        for i in 0..nodes {
            let ns = lab.ns(i);
            let hub_end = lab.hub_end(i);
            let node_end = format!("{}e{i}", lab.tag);
            let cidr = format!("{}/24", Lab::addr(i));
            let ok = ip(&["netns", "add", &ns])
                && ip(&[
                    "-n", &hub, "link", "add", &hub_end, "type", "veth", "peer", "name", &node_end,
                    "netns", &ns,
                ])
                && ip(&["-n", &hub, "link", "set", &hub_end, "master", "br0"])
                && ip(&["-n", &hub, "link", "set", &hub_end, "up"])
                && ip(&["-n", &ns, "addr", "add", &cidr, "dev", &node_end])
                && ip(&["-n", &ns, "link", "set", &node_end, "up"])
                && ip(&["-n", &ns, "link", "set", "lo", "up"]);
            if !ok {
                return None;
            }
        }
        Some(lab)
    }

    /// Cuts node `i` off the hub, or heals it.
    fn link(&self, i: usize, up: bool) {
        assert!(ip(&[
            "-n",
            &self.hub(),
            "link",
            "set",
            &self.hub_end(i),
            if up { "up" } else { "down" }
        ]));
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for i in 0..self.nodes {
            ip(&["netns", "del", &self.ns(i)]);
        }
        ip(&["netns", "del", &self.hub()]);
    }
}

/// `commonplace serve` inside a namespace.
struct Serve {
    child: Child,
    address: String,
}

impl Serve {
    fn start(lab: &Lab, i: usize, m: &Member) -> Serve {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(i)])
            .arg(bin())
            .arg("--profile")
            .arg(m.dir())
            .args([
                "serve",
                "--bind",
                &format!("{}:7400", Lab::addr(i)),
                "--relay",
                "none",
                "--no-mdns",
                "--interval",
                "1s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let address = commonplace_testkit::serve_address(&mut child);
        Serve { child, address }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sync_in(lab: &Lab, i: usize, m: &Member, peer: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &lab.ns(i)])
        .arg(bin())
        .arg("--profile")
        .arg(m.dir())
        .args([
            "sync",
            "--peer",
            peer,
            "--relay",
            "none",
            "--timeout",
            "20s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_cut_off_node_writes_heals_and_converges() {
    let Some(lab) = Lab::create(3) else {
        eprintln!("SKIPPED: network namespaces cannot be created here (needs root and iproute2)");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let members: Vec<Member> = (0..3)
        .map(|i| Member::init(bin(), root.path(), &format!("n{i}"), &format!("Node {i}")))
        .collect();
    // Node 0 founds the community, adds the others and hands them a bundle.
    members[0].ok(&["community", "create", "--name", "Field engineers"]);
    for m in &members[1..] {
        members[0].ok(&["member", "add", &m.id, "--name", "peer"]);
    }
    let bundle = root.path().join("c.bundle");
    members[0].ok(&["export", "--out", bundle.to_str().unwrap()]);
    for m in &members[1..] {
        m.ok(&["import", bundle.to_str().unwrap()]);
    }
    // Everyone online; nodes 1 and 2 learn node 0's address by syncing once.
    let s0 = Serve::start(&lab, 0, &members[0]);
    for i in 1..3 {
        assert!(
            sync_in(&lab, i, &members[i], &s0.address),
            "node {i} could not reach node 0"
        );
    }
    let mut serves: Vec<Option<Serve>> = vec![Some(s0)];
    for i in 1..3 {
        serves.push(Some(Serve::start(&lab, i, &members[i])));
    }

    // Cut node 2 off; both sides write (serve holds a profile, so stop it to write, then
    // start it again, still cut off).
    lab.link(2, false);
    for (i, title) in [
        (0usize, "Written by the majority"),
        (2, "Written while cut off"),
    ] {
        serves[i].take().unwrap().stop();
        members[i].ok(&[
            "thread", "new", "--kind", "story", "--title", title, "--body", "…",
        ]);
        serves[i] = Some(Serve::start(&lab, i, &members[i]));
    }
    // Stay apart long enough for syncs across the cut to fail (and back off).
    std::thread::sleep(Duration::from_secs(3));
    // Heal and wait (bounded) until all three hold the same community.
    lab.link(2, true);
    let started = Instant::now();
    let mut converged = false;
    while started.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_secs(4));
        for s in serves.iter_mut() {
            s.take().unwrap().stop();
        }
        let snaps: Vec<serde_json::Value> = members.iter().map(Member::snapshot).collect();
        let titles = snaps[0][0]["threads"].as_array().map_or(0, Vec::len);
        if titles == 2 && snaps.iter().all(|s| *s == snaps[0]) {
            converged = true;
            break;
        }
        for (i, s) in serves.iter_mut().enumerate() {
            *s = Some(Serve::start(&lab, i, &members[i]));
        }
    }
    assert!(
        converged,
        "the three nodes did not converge within 90 s after healing"
    );
}
