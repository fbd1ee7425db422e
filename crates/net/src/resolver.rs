//! Resolver endpoints: how a joiner finds the inviting node from a short code alone.
//!
//! For every short code that can still be used, the inviting node runs a small extra iroh
//! endpoint whose key is derived from the code (`ShortCode::resolver_seed`). A joiner derives
//! the same endpoint id, dials it by id alone (found through the same discovery the member
//! endpoint uses: local-network mDNS, or an address it remembers), and sends the code's proof;
//! the endpoint answers with the signed invitation ([`crate::RESOLVE_ALPN`]).
//!
//! A resolver endpoint only answers that one request, and only with what the service says:
//! it never syncs, gossips or admits. Anyone who knows a code can run its resolver too, but
//! can only hand out invitations a coordinator signed for that code (the joiner checks).

use std::collections::HashMap;
use std::sync::Arc;

use iroh::endpoint::presets;
use iroh::protocol::Router;
use iroh::{Endpoint, EndpointId, RelayMode, SecretKey};
use tracing::{info, warn};

use crate::endpoint::{Ask, JoinProtocol, NetConfig, SyncServiceDebug};
use crate::{MAX_RESOLVERS, NetError, RESOLVE_ALPN};

/// One running resolver endpoint.
#[derive(Debug)]
struct Running {
    router: Router,
    _mdns: Option<iroh_mdns_address_lookup::MdnsAddressLookup>,
}

/// The resolver endpoints of one network; owned by the [`crate::Network`].
#[derive(Debug, Clone)]
pub(crate) struct Resolvers {
    bind: Option<std::net::SocketAddr>,
    relay: RelayMode,
    mdns: bool,
    idle: std::time::Duration,
    running: Arc<tokio::sync::Mutex<HashMap<EndpointId, Running>>>,
}

impl Resolvers {
    pub(crate) fn new(config: &NetConfig, relay: RelayMode) -> Resolvers {
        Resolvers {
            // The member endpoint holds the port; resolvers take any port on the same address.
            bind: config.bind.map(|a| std::net::SocketAddr::new(a.ip(), 0)),
            relay,
            mdns: config.mdns,
            idle: config.idle_timeout,
            running: Arc::default(),
        }
    }

    pub(crate) async fn addrs(&self) -> Vec<iroh::EndpointAddr> {
        self.running
            .lock()
            .await
            .values()
            .map(|r| r.router.endpoint().addr())
            .collect()
    }

    /// Runs exactly the resolvers for `seeds` (the first [`MAX_RESOLVERS`]).
    pub(crate) async fn serve(
        &self,
        seeds: &[[u8; 32]],
        service: Arc<dyn SyncServiceDebug>,
    ) -> Result<(), NetError> {
        let wanted: HashMap<EndpointId, SecretKey> = seeds
            .iter()
            .take(MAX_RESOLVERS)
            .map(|s| {
                let key = SecretKey::from_bytes(s);
                (key.public(), key)
            })
            .collect();
        let mut running = self.running.lock().await;
        let gone: Vec<EndpointId> = running
            .keys()
            .filter(|id| !wanted.contains_key(*id))
            .copied()
            .collect();
        for id in gone {
            if let Some(r) = running.remove(&id) {
                let _ = r.router.shutdown().await;
            }
        }
        for (id, key) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            match self.start(key, service.clone()).await {
                Ok(r) => {
                    running.insert(id, r);
                }
                // A code that cannot be resolved by id alone still works through a member's
                // address (`join CODE --via ADDR`) and as a long code.
                Err(e) => warn!("short-code resolver not started: {e}"),
            }
        }
        Ok(())
    }

    async fn start(
        &self,
        key: SecretKey,
        service: Arc<dyn SyncServiceDebug>,
    ) -> Result<Running, NetError> {
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(key)
            .alpns(vec![RESOLVE_ALPN.to_vec()])
            .relay_mode(self.relay.clone());
        if let Some(addr) = self.bind {
            builder = builder
                .clear_ip_transports()
                .bind_addr(addr)
                .map_err(crate::BindError::Address)?;
        }
        let endpoint = builder.bind().await.map_err(crate::BindError::Endpoint)?;
        let mdns = if self.mdns {
            Some(crate::endpoint::local_discovery(&endpoint)?)
        } else {
            None
        };
        let router = Router::builder(endpoint.clone())
            .accept(
                RESOLVE_ALPN,
                JoinProtocol {
                    service,
                    idle: self.idle,
                    ask: Ask::Resolve,
                },
            )
            .spawn();
        info!(id = %endpoint.id().fmt_short(), "short-code resolver started");
        Ok(Running {
            router,
            _mdns: mdns,
        })
    }

    pub(crate) async fn shutdown(&self) {
        let mut running = self.running.lock().await;
        for (_, r) in running.drain() {
            let _ = r.router.shutdown().await;
        }
    }
}
