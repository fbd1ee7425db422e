//! Fixtures the node's integration tests share: a loopback network configuration and a node
//! in a temporary profile.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;

use commonplace_base::CommunityId;
use commonplace_node::{NetConfig, Node, Profile, RelayConfig};
use commonplace_sync::Frame;

/// Loopback only, relays disabled, any free port.
pub fn loopback() -> NetConfig {
    NetConfig {
        bind: Some("127.0.0.1:0".parse::<SocketAddr>().unwrap()),
        relay: RelayConfig::Disabled,
        ..NetConfig::default()
    }
}

/// A new node named `name` in the profile directory `root/name`.
pub fn node(root: &std::path::Path, name: &str) -> Node {
    Node::init(Profile::at(root.join(name)), name, None, None).unwrap()
}

/// Runs one session between `a` and `b` about the community, frames passed in order.
pub fn sync(a: &Node, b: &Node, c: &CommunityId) -> Result<(), String> {
    let (mut sa, ha) = a.start_sync(c, &b.member_id()).map_err(|e| e.to_string())?;
    let (mut sb, hb) = b.start_sync(c, &a.member_id()).map_err(|e| e.to_string())?;
    let (mut to_a, mut to_b): (Vec<Frame>, Vec<Frame>) = (vec![hb], vec![ha]);
    for _ in 0..100_000 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        if !to_b.is_empty() {
            let f = to_b.remove(0);
            to_a.extend(b.sync_receive(&mut sb, f).map_err(|e| e.to_string())?);
        }
        if !to_a.is_empty() {
            let f = to_a.remove(0);
            to_b.extend(a.sync_receive(&mut sa, f).map_err(|e| e.to_string())?);
        }
    }
    if !(sa.is_done() && sb.is_done()) {
        return Err(format!("sessions stuck: {:?} {:?}", sa.phase(), sb.phase()));
    }
    Ok(())
}
