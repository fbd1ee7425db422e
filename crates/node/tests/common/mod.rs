//! Fixtures the node's integration tests share: a loopback network configuration and a node
//! in a temporary profile.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;

use commonplace_node::{NetConfig, Node, Profile, RelayConfig};

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
