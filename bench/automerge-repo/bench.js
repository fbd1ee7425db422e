// The automerge-repo reference for commonplace-bench: the same workloads as W1 and W2, done
// by @automerge/automerge-repo with its WebSocket adapters, each peer in its own Node process.
//
//   node bench.js reconcile --threads T --base B --posts N   (W1)
//   node bench.js star --clients K --posts M                 (W2)
//
// Prints one JSON line of results on stdout; progress goes to stderr. The repos keep no
// storage (in memory only): a stricter reference than ours, which commits every change
// durably.

import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import {
  WebSocketClientAdapter,
  WebSocketServerAdapter,
} from "@automerge/automerge-repo-network-websocket";
import { ImmutableString } from "@automerge/automerge";

const now = () => performance.timeOrigin + performance.now();
const rssMb = () => process.resourceUsage().maxRSS / 1024;
const args = process.argv.slice(2);
const mode = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

// A small seeded generator, so both sides write the same kind of posts every run.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const WORDS = ["practice", "community", "case", "lesson", "method", "tool", "story",
  "request", "answer", "meeting", "region", "volunteer", "prevention", "learning"];
function text(r, len) {
  let s = "";
  while (s.length < len) s += WORDS[Math.floor(r() * WORDS.length)] + " ";
  return s.slice(0, len);
}
function post(handle, id, body) {
  handle.change((d) => {
    d.posts[id] = { body: new ImmutableString(body), created_at: Date.now() };
  });
}

// ---- child roles ---------------------------------------------------------------------

function listen() {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => resolve(wss));
  });
}

// W1 peer. The server side makes the shared threads and hands them over (saved) to the
// client side, so the two start identical without having been connected; both then write
// offline; the client connects, and both report a digest of every document's heads until
// the driver sees them equal.
async function reconcilePeer(role) {
  let repo;
  let wss;
  const sockets = [];
  const handles = [];
  if (role === "server") {
    wss = await listen();
    wss.on("connection", (_ws, req) => sockets.push(req.socket));
    repo = new Repo({ network: [new WebSocketServerAdapter(wss)], peerId: "server" });
  } else {
    repo = new Repo({ network: [], peerId: "client" });
  }
  let lastDigest = "";
  let polling = null;
  const digest = () => {
    const h = createHash("sha256");
    for (const handle of handles) h.update(JSON.stringify([...handle.heads()].sort()));
    return h.digest("hex");
  };
  const poll = () => {
    const d = digest();
    if (d !== lastDigest) {
      lastDigest = d;
      process.send({ digest: d, at: now() });
    }
  };
  process.on("message", async (m) => {
    if (m.cmd === "base") {
      const r = rng(1);
      const docs = [];
      for (let i = 0; i < m.threads; i++) {
        const handle = repo.create({
          title: `thread ${i}`,
          body: new ImmutableString(text(r, 300)),
          posts: {},
        });
        for (let j = 0; j < m.base; j++) post(handle, `b${i}-${j}`, `${j} ${text(r, 290)}`);
        handles.push(handle);
        docs.push({ id: handle.documentId, bin: Buffer.from(await repo.export(handle.documentId)).toString("base64") });
      }
      process.send({ docs, port: wss.address().port });
    } else if (m.cmd === "import") {
      for (const d of m.docs) {
        handles.push(repo.import(Buffer.from(d.bin, "base64"), { docId: d.id }));
      }
      process.send({ imported: handles.length });
    } else if (m.cmd === "write") {
      const r = rng(role === "server" ? 2 : 3);
      for (let i = 0; i < m.posts; i++) {
        const h = handles[Math.floor(r() * handles.length)];
        post(h, `${role}-${i}`, `${role}:${i} ${text(r, 290)}`);
      }
      lastDigest = digest();
      process.send({ written: m.posts, digest: lastDigest });
    } else if (m.cmd === "watch") {
      polling = setInterval(poll, 2);
      if (role === "client") {
        repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(`ws://127.0.0.1:${m.port}`));
      }
    } else if (m.cmd === "report") {
      clearInterval(polling);
      const bytes = sockets.reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0);
      process.send({ bytes, rss_mb: rssMb() });
    } else if (m.cmd === "exit") {
      process.exit(0);
    }
  });
  process.send({ ready: true });
}

// W2 peer: the sync server, or one client that posts on request and reports each post it
// sees.
async function starPeer(role, index) {
  if (role === "server") {
    const wss = await listen();
    new Repo({ network: [new WebSocketServerAdapter(wss)], peerId: "server" });
    process.send({ port: wss.address().port });
    process.on("message", (m) => m.cmd === "exit" && process.exit(0));
    return;
  }
  let handle;
  const seen = new Set();
  const r = rng(10 + index);
  const check = () => {
    for (const k of Object.keys(handle.doc().posts)) {
      if (!seen.has(k)) {
        seen.add(k);
        process.send({ seen: k, at: now() });
      }
    }
  };
  process.on("message", async (m) => {
    if (m.cmd === "connect") {
      const repo = new Repo({
        network: [new WebSocketClientAdapter(`ws://127.0.0.1:${m.port}`)],
        peerId: `client-${index}`,
      });
      if (m.url) {
        // The creator's first sync with the server may still be on its way: ask again.
        for (let attempt = 0; ; attempt++) {
          try {
            handle = await repo.find(m.url);
            break;
          } catch (e) {
            if (attempt >= 100) throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } else {
        handle = repo.create({ title: "live", posts: {} });
      }
      handle.on("change", check);
      process.send({ url: handle.url });
    } else if (m.cmd === "post") {
      const at = now();
      post(handle, m.id, `${m.id} ${text(r, 290)}`);
      process.send({ sent: m.id, at });
      check();
    } else if (m.cmd === "exit") {
      process.exit(0);
    }
  });
  process.send({ ready: true });
}

// ---- driver ------------------------------------------------------------------------------

function spawn(role, index = 0) {
  const child = fork(new URL(import.meta.url).pathname, ["child", mode, role, String(index)], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const queue = [];
  const waiters = [];
  child.on("message", (m) => {
    const w = waiters.findIndex((w) => w.pred(m));
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
    else queue.push(m);
    child.emit("any", m);
  });
  child.next = (pred = () => true) =>
    new Promise((resolve) => {
      const i = queue.findIndex(pred);
      if (i >= 0) resolve(queue.splice(i, 1)[0]);
      else waiters.push({ pred, resolve });
    });
  return child;
}

async function reconcile() {
  const threads = opt("threads", 200);
  const base = opt("base", 10);
  const posts = opt("posts", 5000);
  const server = spawn("server");
  const client = spawn("client");
  await server.next((m) => m.ready);
  await client.next((m) => m.ready);
  server.send({ cmd: "base", threads, base });
  const { docs, port } = await server.next((m) => m.docs);
  client.send({ cmd: "import", docs });
  await client.next((m) => m.imported !== undefined);
  server.send({ cmd: "write", posts });
  client.send({ cmd: "write", posts });
  const ws = await server.next((m) => m.written !== undefined);
  const wc = await client.next((m) => m.written !== undefined);
  if (ws.digest === wc.digest) throw new Error("the two sides did not diverge");
  console.error(`automerge-repo: ${posts} posts written on each side; reconnecting…`);
  const latest = { server: null, client: null };
  const converged = new Promise((resolve) => {
    const on = (who) => (m) => {
      if (!m.digest) return;
      latest[who] = m;
      if (latest.server && latest.client && latest.server.digest === latest.client.digest) {
        resolve(Math.max(latest.server.at, latest.client.at));
      }
    };
    server.on("any", on("server"));
    client.on("any", on("client"));
  });
  const started = now();
  server.send({ cmd: "watch" });
  client.send({ cmd: "watch", port });
  const timeout = setTimeout(() => {
    console.error("automerge-repo: no convergence within 600 s");
    process.exit(1);
  }, 600_000);
  const done = await converged;
  clearTimeout(timeout);
  server.send({ cmd: "report" });
  client.send({ cmd: "report" });
  const rs = await server.next((m) => m.rss_mb !== undefined);
  const rc = await client.next((m) => m.rss_mb !== undefined);
  server.send({ cmd: "exit" });
  client.send({ cmd: "exit" });
  console.log(JSON.stringify({
    scenario: "reconcile", threads, base, posts,
    time_s: (done - started) / 1000,
    bytes: rs.bytes,
    rss_server_mb: rs.rss_mb,
    rss_client_mb: rc.rss_mb,
  }));
}

async function star() {
  setTimeout(() => {
    console.error("automerge-repo: the star run did not finish within 900 s");
    process.exit(1);
  }, 900_000).unref();
  const k = opt("clients", 5);
  const posts = opt("posts", 100);
  const server = spawn("server");
  const { port } = await server.next((m) => m.port);
  const clients = [];
  for (let i = 0; i < k; i++) clients.push(spawn("client", i));
  for (const c of clients) await c.next((m) => m.ready);
  clients[0].send({ cmd: "connect", port });
  const { url } = await clients[0].next((m) => m.url);
  for (const c of clients.slice(1)) c.send({ cmd: "connect", port, url });
  for (const c of clients.slice(1)) await c.next((m) => m.url);
  // Let every client's sync with the server settle.
  await new Promise((r) => setTimeout(r, 500));
  const r = rng(2);
  const times = [];
  for (let p = 0; p < posts; p++) {
    const id = `p${p}`;
    const author = clients[Math.floor(r() * k)];
    const seen = clients.map((c) => c.next((m) => m.seen === id));
    author.send({ cmd: "post", id });
    const { at } = await author.next((m) => m.sent === id);
    const arrivals = await Promise.race([
      Promise.all(seen),
      new Promise((_, rej) => setTimeout(() => rej(new Error(`${id} not seen everywhere in 20 s`)), 20_000)),
    ]);
    times.push(Math.max(...arrivals.map((a) => a.at)) - at);
  }
  for (const c of [server, ...clients]) c.send({ cmd: "exit" });
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.round((times.length - 1) * q)];
  console.log(JSON.stringify({
    scenario: "star", clients: k, posts, median_ms: pick(0.5), p99_ms: pick(0.99),
  }));
}

if (mode === "child") {
  // A driver that went away leaves nothing behind.
  process.on("disconnect", () => process.exit(0));
  const [, which, role, index] = args;
  if (which === "reconcile") reconcilePeer(role);
  else starPeer(role, Number(index));
} else if (mode === "reconcile") {
  reconcile().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
} else if (mode === "star") {
  star().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
} else {
  console.error("usage: node bench.js reconcile|star [options]");
  process.exit(2);
}
