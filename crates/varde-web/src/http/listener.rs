//! Serving connections with bounds, so that no client can hold the server: a request's headers must arrive within
//! a time (a half-sent request is cut), its body too, and one client address holds at most so many connections at
//! once (an IPv6 client counts by its /64: `varde_domain::client`, as for the rate limits), with a cap on all
//! connections below the file
//! limit. A probe held 20,000 half-sent requests from one address and `/healthz` stopped answering; with these
//! bounds the others are served meanwhile.
//!
//! Reverse proxies named with `--trusted-proxy` are exempt from the per-client cap: every client behind them arrives
//! from their address.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Service;

/// How long and how many: see `crate::config::connections` for the values `serve` uses and why.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's headers must have arrived this long after it began (and a kept-alive connection's next request).
    pub header_read: Duration,
    /// A request's body must have arrived within this.
    pub body_read: Duration,
    /// Connections one client address (an IPv6 /64) may hold at once.
    pub per_client: usize,
    /// Connections the server holds at once, all clients together.
    pub total: usize,
    /// Addresses not held to `per_client` (the trusted reverse proxies).
    pub exempt: Vec<IpNet>,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        use crate::config::connections::*;
        ConnectionLimits {
            header_read: HEADER_READ,
            body_read: BODY_READ,
            per_client: PER_CLIENT,
            total: TOTAL,
            exempt: Vec::new(),
        }
    }
}

/// The open connections per client; a [`Slot`] gives its place back when the connection ends.
#[derive(Default, Clone)]
struct OpenConnections(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    open: OpenConnections,
    key: IpAddr,
}

impl OpenConnections {
    fn take(&self, key: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot { open: self.clone(), key })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then lets the open requests finish (at most
/// ten seconds: event streams do not end by themselves). Handlers see the peer as `ConnectInfo<SocketAddr>`, as with
/// `axum::serve` and `into_make_service_with_connect_info`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_read));
    let open = OpenConnections::default();
    let total = Arc::new(tokio::sync::Semaphore::new(limits.total));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was accepted: wait a moment rather
                    // than spin, and go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over a bound the connection is closed at once (dropped), before a byte is read.
        let Ok(permit) = total.clone().try_acquire_owned() else { continue };
        let slot = if limits.exempt.iter().any(|net| net.contains(&peer.ip())) {
            None
        } else {
            match open.take(varde_domain::client::network(peer.ip()), limits.per_client) {
                Some(slot) => Some(slot),
                None => continue,
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            // A Router is always ready: calling it without poll_ready is what axum::serve does too.
            async move { app.call(request).await }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_slots_are_given_back() {
        use varde_domain::client::network as client_key;
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let open = OpenConnections::default();
        let first = open.take(client_key(a), 2).unwrap();
        let _second = open.take(client_key(b), 2).unwrap();
        assert!(open.take(client_key(a), 2).is_none(), "the /64 holds two");
        drop(first);
        assert!(open.take(client_key(a), 2).is_some(), "a closed connection gives its place back");
    }
}
