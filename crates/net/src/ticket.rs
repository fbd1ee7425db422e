//! Peer addresses as text: what `serve` prints and `sync --peer` takes.

use std::fmt;
use std::str::FromStr;

use iroh::EndpointAddr;

use crate::NetError;

const PREFIX: &str = "cppeer1";

/// How to reach a peer: its id and addresses (direct and relay), as a copyable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerTicket(pub EndpointAddr);

impl PeerTicket {
    /// The address as bytes (for invitations and the peer book).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(&self.0).unwrap_or_default()
    }

    /// An address from bytes written by [`PeerTicket::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NetError> {
        postcard::from_bytes(bytes)
            .map(PeerTicket)
            .map_err(|e| crate::ConfigError::DamagedPeerAddress(e).into())
    }
}

impl fmt::Display for PeerTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = data_encoding::BASE32_NOPAD
            .encode(&self.to_bytes())
            .to_ascii_lowercase();
        write!(f, "{PREFIX}{body}")
    }
}

impl FromStr for PeerTicket {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Self, NetError> {
        let bad = || {
            NetError::from(crate::ConfigError::NotAPeerAddress {
                text: s.to_owned(),
                prefix: PREFIX,
            })
        };
        let body = s.trim().strip_prefix(PREFIX).ok_or_else(bad)?;
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.to_ascii_uppercase().as_bytes())
            .map_err(|_| bad())?;
        PeerTicket::from_bytes(&bytes).map_err(|_| bad())
    }
}
