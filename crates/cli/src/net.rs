//! The networked commands: serve, sync, status, invite, join.
//!
//! Run on their own, they take the node online for as long as they need (`serve`: until
//! stopped) and offline again. Run inside `serve` or the app (through the control socket),
//! they use that process's network as it is, and leave it running.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use commonplace_base::{CommunityId, MemberId};
use commonplace_model::Role;
use commonplace_node::{
    NetConfig, NetPlan, Node, Online, PeerTicket, Presence, PresenceEvent, RelayConfig, RelayMode,
    Round,
};
use serde_json::json;
use tracing::{info, warn};

use crate::Ctx;
use crate::community::CommunityArg;
use crate::control::ControlServer;

/// Network options shared by the networked commands.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    /// Address to bind, e.g. 127.0.0.1:7400 (default: the one used last time, else any).
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Relays for NAT traversal: default (iroh's public relays), none, or a relay URL.
    #[arg(long)]
    pub relay: Option<String>,
    /// Do not look for members on the local network (multicast DNS).
    #[arg(long)]
    pub no_mdns: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InviteCmd {
    /// Create a single-use invitation code (coordinators only).
    Create {
        #[command(flatten)]
        community: CommunityArg,
        /// How long the code works.
        #[arg(long, default_value = "7d", value_parser = duration_up_to(MAX_EXPIRES))]
        expires: std::time::Duration,
        /// The newcomer's role.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Also draw the code as a QR code in the terminal, for a phone or a second laptop.
        #[arg(long)]
        qr: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// The invitations created on this node: short code, role, state, who used them.
    List {
        /// Only those to this community (id, id prefix or name).
        #[arg(long, short = 'c')]
        community: Option<String>,
    },
    /// Revoke an unused invitation: this node refuses it at once, every member's node once
    /// the record has synced to it.
    Revoke {
        /// Its short code.
        code: String,
    },
}

/// Longest `sync --timeout`: a day. Longer is a hang, not a wait.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// Longest `serve --interval`: a week.
pub const MAX_INTERVAL: Duration = Duration::from_secs(7 * 86_400);
/// Longest `invite create --expires`: a year.
pub const MAX_EXPIRES: Duration = Duration::from_secs(365 * 86_400);

/// Parses durations like `30s`, `10m`, `12h`, `7d`, from 1 second up to `max`, so that no
/// later arithmetic on them can overflow.
pub fn duration_up_to(
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |s| {
        let d = parse_duration(s)?;
        if d.is_zero() {
            return Err(format!("'{}' is too short: at least 1s", s.trim()));
        }
        if d > max {
            return Err(format!(
                "'{}' is too long: at most {}",
                s.trim(),
                describe(max)
            ));
        }
        Ok(d)
    }
}

/// `86400 s` → `1d`, for error messages.
fn describe(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// Parses durations like `30s`, `10m`, `7d` (no upper bound beyond what a `u64` of seconds
/// holds: callers bound it with [`duration_up_to`]).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("'{s}' is not a duration like 30s, 10m, 12h or 7d");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let scale: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is far too long"))
}

fn config(node: &Node, args: &NetArgs) -> Result<NetConfig> {
    Ok(node.net_config(
        args.bind,
        args.relay.as_deref().map(RelayMode::parse),
        !args.no_mdns,
    )?)
}

/// Network options for a one-shot command: any free port, and no local-network discovery (it
/// talks to the peer it was given, not to the room).
fn one_shot(args: &NetArgs) -> NetArgs {
    NetArgs {
        bind: args.bind.or(Some(SocketAddr::from(([0, 0, 0, 0], 0)))),
        relay: args.relay.clone(),
        no_mdns: true,
    }
}

/// Starts the endpoint and remembers where it is bound, so the next start (and invitations
/// made meanwhile) use the same address.
async fn go_online(node: &Node, args: &NetArgs, remember: bool) -> Result<Online> {
    let cfg = config(node, args)?;
    let relay_text = match &cfg.relay {
        RelayConfig::Default => "default".to_owned(),
        RelayConfig::Disabled => "none".to_owned(),
        RelayConfig::Custom(u) => u.clone(),
    };
    let online = Online::start(node.clone(), cfg).await?;
    if remember {
        if let Some(sock) = online.network().bound_sockets().first() {
            node.set_net_setting("bind", &sock.to_string())?;
        }
        node.set_net_setting("relay", &relay_text)?;
    }
    Ok(online)
}

/// The network a command uses: its own (taken offline when it is done) or the running
/// process's (left as it is).
enum Net {
    Own(Online),
    Live(Online),
}

impl Net {
    fn online(&self) -> &Online {
        match self {
            Net::Own(o) | Net::Live(o) => o,
        }
    }

    async fn end(&self) {
        if let Net::Own(o) = self {
            o.shutdown().await;
        }
    }
}

/// How long a command inside a running process waits for its network to come up (just
/// after it started, or while it retries).
const LIVE_WAIT: Duration = Duration::from_secs(10);

/// The network for a command: the running process's, else one started with `args`.
async fn network(cx: &Ctx<'_>, args: &NetArgs, remember: bool) -> Result<Net> {
    match cx.live {
        Some(live) => {
            let online = live
                .presence
                .online_within(LIVE_WAIT)
                .await
                .map_err(|e| anyhow::anyhow!("the running node is not online: {e}"))?;
            Ok(Net::Live(online))
        }
        None => Ok(Net::Own(go_online(cx.node, args, remember).await?)),
    }
}

/// `invite create|list|revoke`.
pub(crate) fn invite(cx: &Ctx, cmd: InviteCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    match cmd {
        InviteCmd::Create {
            community,
            expires,
            role,
            qr,
            net: n,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            cx.block_on(create_invite(cx, n, c, role, expires, qr))?
        }
        InviteCmd::List { community } => {
            let c = community
                .map(|c| node.find_community(Some(&c)))
                .transpose()?;
            out.invitations(&node.pending_invitations(c.as_ref())?)
        }
        InviteCmd::Revoke { code } => {
            let p = node.revoke_invite(&code)?;
            out.done(&format!(
                "revoked {} (to {}); it no longer admits anyone",
                p.short_code, p.community_name
            ))
        }
    }
}

/// `serve`: the always-on peer, with the control socket through which other commands on
/// this profile run meanwhile.
pub(crate) fn serve(cx: &Ctx, args: NetArgs, interval: Duration) -> Result<()> {
    if cx.live.is_some() {
        bail!("this profile is already online: `commonplace serve` or the app is running with it");
    }
    cx.block_on(serve_until_stopped(cx.node.clone(), args, interval, cx.out))?
}

async fn serve_until_stopped(
    node: Node,
    args: NetArgs,
    interval: Duration,
    out: &crate::Out,
) -> Result<()> {
    // Flags given to `serve` become the profile's settings: the next start runs the same way.
    if let Some(relay) = &args.relay {
        node.set_net_setting("relay", &RelayMode::parse(relay).as_setting())?;
    }
    let presence = Presence::start(
        node.clone(),
        NetPlan {
            bind: args.bind,
            relay: args.relay.as_deref().map(RelayMode::parse),
            mdns: !args.no_mdns,
            interval,
        },
    );
    let mut events = presence.subscribe();
    // Other commands on this profile run here meanwhile, through the control socket.
    let control = match ControlServer::start(node.clone(), presence.clone()) {
        Ok(c) => Some(c),
        Err(e) => {
            warn!("no control socket, other commands cannot use this profile meanwhile: {e}");
            None
        }
    };
    let online = match presence.settled().await {
        Ok(o) => o,
        Err(e) => {
            if let Some(c) = control {
                c.shutdown().await;
            }
            presence.shutdown().await;
            return Err(anyhow::Error::new(e).context("could not go online"));
        }
    };
    let me = node.identity()?;
    let ticket = online.ticket();
    if out.json {
        out.line(
            &json!({ "member_id": me.member.to_string(), "address": ticket.to_string() })
                .to_string(),
        );
    } else {
        say!(
            out,
            "Serving {} ({}). Others can sync with:",
            me.name,
            me.member.short()
        );
        say!(out, "{ticket}");
        say!(out, "Press Ctrl+C to stop.");
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    loop {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            ev = events.recv() => match ev {
                Ok(PresenceEvent::Round(round)) => log_round(&round),
                Ok(PresenceEvent::Online { address }) => info!(%address, "online"),
                Ok(PresenceEvent::Offline { reason, retry_in }) => {
                    warn!("offline: {reason}; trying again in {}s", retry_in.as_secs());
                }
                Ok(PresenceEvent::Stopped) | Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            },
        }
    }
    note!(out, "stopping");
    if let Some(c) = control {
        c.shutdown().await;
    }
    presence.shutdown().await;
    Ok(())
}

fn log_round(round: &Round) {
    match &round.results {
        Ok(results) => {
            for (peer, c, r) in results {
                match r {
                    Ok(rep) => {
                        info!(peer = %peer.short(), community = %c.short(), received = rep.stats.changes_received, sent = rep.stats.changes_sent, trigger = ?round.trigger, "synced")
                    }
                    Err(e) => {
                        warn!(peer = %peer.short(), community = %c.short(), "not reachable: {e}")
                    }
                }
            }
        }
        Err(e) => warn!("sync round failed: {e}"),
    }
}

/// `sync`: once with a peer (or every known one), then a summary.
pub(crate) fn sync(
    cx: &Ctx,
    community: &CommunityArg,
    peer: Option<String>,
    timeout: Duration,
    args: NetArgs,
) -> Result<()> {
    let c = community
        .community
        .as_deref()
        .map(|c| cx.node.find_community(Some(c)))
        .transpose()?;
    cx.block_on(sync_once(cx, args, c, peer, timeout))?
}

async fn sync_once(
    cx: &Ctx<'_>,
    args: NetArgs,
    community: Option<CommunityId>,
    peer: Option<String>,
    timeout: Duration,
) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    // Arguments first: a bad address is refused before anything goes online.
    let ticket: Option<PeerTicket> = peer.as_deref().map(str::parse).transpose()?;
    let net = network(cx, &one_shot(&args), false).await?;
    let online = net.online();
    let work = async {
        let mut results = Vec::new();
        match ticket {
            Some(ticket) => {
                // Communities of ours that their node holds and this one does not (a key
                // restored on a new computer) come back first.
                let mut recovered = Vec::new();
                if community.is_none() {
                    match online.recover_from(ticket.0.clone()).await {
                        Ok(got) => {
                            for (c, r) in got {
                                recovered.push(c);
                                results.push((ticket.0.id.as_bytes().to_owned(), c, r));
                            }
                        }
                        Err(e) if node.community_ids()?.is_empty() => return Err(e.into()),
                        Err(e) => tracing::info!("could not ask what the peer holds: {e}"),
                    }
                }
                let communities: Vec<CommunityId> = match community {
                    Some(c) => vec![c],
                    None => node.community_ids()?,
                }
                .into_iter()
                .filter(|c| !recovered.contains(c))
                .collect();
                if communities.is_empty() && recovered.is_empty() {
                    bail!("this profile holds no community yet: use `commonplace join CODE`");
                }
                for c in communities {
                    let r = online.sync_with(ticket.0.clone(), c).await;
                    results.push((ticket.0.id.as_bytes().to_owned(), c, r));
                }
            }
            None => {
                for (m, c, r) in online.sync_known_peers(community).await? {
                    results.push((*m.as_bytes(), c, r));
                }
            }
        }
        Ok::<_, anyhow::Error>(results)
    };
    let results = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r?,
        Err(_) => {
            net.end().await;
            bail!("sync did not finish within {} s", timeout.as_secs());
        }
    };
    net.end().await;
    if results.is_empty() {
        bail!(
            "no peers known yet: pass --peer ADDRESS (printed by `commonplace serve` on the other machine)"
        );
    }
    let mut ok = 0;
    let mut lines = Vec::new();
    for (peer, c, r) in &results {
        let peer = MemberId::from_bytes(*peer)
            .map(|m| m.to_string())
            .unwrap_or_default();
        let name = node
            .community(c)
            .map(|x| x.charter.name)
            .unwrap_or_else(|_| c.short());
        match r {
            Ok(rep) => {
                ok += 1;
                lines.push(
                    json!({ "peer": peer, "community": c.to_string(), "name": name, "ok": true,
                    "received": rep.stats.changes_received, "sent": rep.stats.changes_sent,
                    "refused": rep.refused.iter().map(|(d, why)| json!({ "doc": d.to_string(), "reason": why })).collect::<Vec<_>>() }),
                );
                if !out.json {
                    say!(
                        out,
                        "synced {name} with {}: {} changes received, {} sent",
                        &peer[..10.min(peer.len())],
                        rep.stats.changes_received,
                        rep.stats.changes_sent
                    );
                    for (doc, why) in &rep.refused {
                        say!(out, "  left out {}: {why}", doc.short());
                    }
                }
            }
            Err(e) => {
                // The code is for scripts to decide on; the sentence is for people.
                lines.push(json!({ "peer": peer, "community": c.to_string(), "name": name, "ok": false, "code": e.code(), "error": e.to_string() }));
                if !out.json {
                    say!(
                        out,
                        "could not sync {name} with {}: {e}",
                        &peer[..10.min(peer.len())]
                    );
                }
            }
        }
    }
    if out.json {
        out.line(&serde_json::to_string_pretty(&lines)?);
    }
    if ok == 0 {
        bail!("no sync succeeded");
    }
    Ok(())
}

async fn create_invite(
    cx: &Ctx<'_>,
    args: NetArgs,
    community: CommunityId,
    role: Role,
    expires: Duration,
    qr: bool,
) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    // Learn (and pin) our address: the invited member dials it while `serve` runs.
    let net = network(cx, &args, true).await?;
    let ticket = net.online().ticket();
    net.end().await;
    let new = node.create_invite(
        &community,
        role,
        i64::try_from(expires.as_millis()).unwrap_or(i64::MAX),
        ticket.to_bytes(),
    )?;
    let inv = &new.signed;
    let code = inv.to_code()?;
    let short = new.short.to_string();
    if out.json {
        out.line(
            &json!({ "code": code, "short_code": short, "community": community.to_string(),
            "role": role.as_str(), "expires_at": inv.invitation.expires_at.0 })
            .to_string(),
        );
    } else {
        // The long code alone on stdout, as before (scripts read it); the short one for
        // people on stderr.
        say!(out, "{code}");
        note!(out, "Short code (read it out or type it): {short}");
        if qr {
            match commonplace_node::qr::terminal(&code) {
                Some(picture) => say!(out, "\n{picture}"),
                None => note!(out, "(the code is too long to draw as a QR code)"),
            }
        }
        note!(
            out,
            "Send one of the codes to the person you invite. It works once, until it expires, while `commonplace serve` runs here (the short code: `commonplace join {short} --via ADDR` with this node's address from `status`, or on the same local network with no address at all)."
        );
    }
    Ok(())
}

/// `join`: with an invitation code, or the QR image of one.
pub(crate) fn join(
    cx: &Ctx,
    code: Option<String>,
    qr: Option<std::path::PathBuf>,
    via: &[String],
    args: NetArgs,
) -> Result<()> {
    let code = match (code, qr) {
        (Some(c), _) => c,
        (None, Some(path)) => crate::qr_image::read_code(&path)?,
        (None, None) => anyhow::bail!("give the invitation code, or --qr FILE.png"),
    };
    cx.block_on(join_with(cx, args, &code, via))?
}

async fn join_with(cx: &Ctx<'_>, args: NetArgs, code: &str, via: &[String]) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let via = via
        .iter()
        .map(|a| a.trim().parse::<PeerTicket>())
        .collect::<Result<Vec<_>, _>>()
        .context("--via takes a member's address, as `commonplace status` prints it")?;
    let mut net = one_shot(&args);
    // A short code with no address to ask is found on the local network.
    if via.is_empty() && !commonplace_model::invite::SignedInvitation::is_long_code(code) {
        net.no_mdns = args.no_mdns;
    }
    let net = network(cx, &net, false).await?;
    let result = net.online().join_via(code, &via).await;
    net.end().await;
    let (c, report) = result.context("joining failed")?;
    let name = node.community(&c)?.charter.name;
    if out.json {
        out.line(
            &json!({ "community": c.to_string(), "name": name, "received": report.stats.changes_received }).to_string()
        );
    } else {
        say!(
            out,
            "joined {name} ({} changes received)",
            report.stats.changes_received
        );
    }
    Ok(())
}

/// `status`: own address, known peers, the last sync with each; inside a running process,
/// its live network too (online, who is connected now).
pub(crate) fn status(cx: &Ctx) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let me = node.identity()?;
    let online = cx.live.and_then(|l| l.presence.online());
    let connected: Vec<MemberId> = online
        .as_ref()
        .map(Online::connected_peers)
        .unwrap_or_default();
    let address = match &online {
        Some(o) => Some(o.ticket().to_string()),
        None => node
            .own_address()?
            .and_then(|b| PeerTicket::from_bytes(&b).ok())
            .map(|t| t.to_string()),
    };
    let peers = node.known_peers()?;
    let history = node.sync_history()?;
    let communities = node.communities()?;
    let name_of = |m: &MemberId| -> String {
        for c in &communities {
            if let Ok(full) = node.community(&c.id)
                && full.roster.members.contains_key(m)
            {
                return full.roster.name_of(m);
            }
        }
        m.short()
    };
    if out.json {
        out.line(&serde_json::to_string_pretty(&json!({
            "member_id": me.member.to_string(),
            "name": me.name,
            "address": address,
            "online": online.is_some(),
            "unshared": communities.iter().map(|c| json!({
                "community": c.id.to_string(),
                "name": c.name,
                "changes": node.unshared(&c.id).unwrap_or(0),
            })).collect::<Vec<_>>(),
            "peers": peers.iter().map(|(m, _)| json!({
                "member_id": m.to_string(),
                "name": name_of(m),
                "connected": connected.contains(m),
            })).collect::<Vec<_>>(),
            "syncs": history.iter().map(|r| json!({
                "peer": r.peer.to_string(),
                "community": r.community.to_string(),
                "at": r.at.0,
                "ok": r.ok,
                "received": r.changes_received,
                "sent": r.changes_sent,
                "error": r.error,
            })).collect::<Vec<_>>(),
        }))?);
        return Ok(());
    }
    say!(out, "{} ({})", me.name, me.member);
    say!(
        out,
        "address: {}",
        address
            .as_deref()
            .unwrap_or("(not online yet: run `commonplace serve`)")
    );
    match (cx.live, &online) {
        (None, _) => say!(
            out,
            "this command is offline; `commonplace serve` keeps syncing in the background"
        ),
        (Some(_), Some(_)) => say!(
            out,
            "online (the running `commonplace serve` or app): {} connected now",
            match connected.len() {
                1 => "1 member".to_owned(),
                n => format!("{n} members"),
            }
        ),
        (Some(_), None) => say!(
            out,
            "the running `commonplace serve` or app is not online at the moment; it keeps trying"
        ),
    }
    for c in &communities {
        match node.unshared(&c.id)? {
            0 => say!(
                out,
                "{}: everything you wrote has reached at least one member",
                c.name
            ),
            n => say!(
                out,
                "{}: {n} of your changes have not reached anyone yet (sync with a member or run `commonplace serve`)",
                c.name
            ),
        }
    }
    if peers.is_empty() {
        say!(out, "no known peers yet");
    }
    for (m, _) in &peers {
        say!(
            out,
            "peer {} ({}){}",
            name_of(m),
            m.short(),
            if connected.contains(m) {
                " · connected"
            } else {
                ""
            }
        );
        for r in history.iter().filter(|r| r.peer == *m) {
            let c = communities
                .iter()
                .find(|c| c.id == r.community)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| r.community.short());
            let when = chrono::DateTime::from_timestamp_millis(r.at.0)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            match &r.error {
                None => say!(
                    out,
                    "  {c}: last synced {when} ({} received, {} sent)",
                    r.changes_received,
                    r.changes_sent
                ),
                Some(e) => say!(out, "  {c}: last attempt {when} failed: {e}"),
            }
        }
    }
    Ok(())
}
