//! Limits at the edge: who the client is (behind trusted proxies only), and how often an address or an account may
//! try something. The limiter's memory is bounded: old attempts are pruned, and past [`MAX_KEYS`](crate::config::limits::MAX_KEYS) the least recently
//! seen keys are forgotten, so a flood of made-up addresses or usernames cannot grow it without end.

use crate::config::limits::{MAX_KEYS, WINDOW};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts per key in a sliding window, at most `allowance` remembered per key.
pub struct RateLimiter {
    allowance: usize,
    window: Duration,
    max_keys: usize,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(allowance: usize) -> RateLimiter {
        RateLimiter::with_capacity(allowance, WINDOW, MAX_KEYS)
    }

    pub fn with_capacity(allowance: usize, window: Duration, max_keys: usize) -> RateLimiter {
        RateLimiter { allowance, window, max_keys, seen: Mutex::new(HashMap::new()) }
    }

    /// How many attempts `key` made in the window (at most the allowance).
    pub fn count(&self, key: &str) -> usize {
        let now = Instant::now();
        let seen = self.seen.lock().expect("not poisoned");
        seen.get(key).map_or(0, |v| v.iter().filter(|t| now.duration_since(**t) < self.window).count())
    }

    /// Whether `key` has used its allowance.
    pub fn exhausted(&self, key: &str) -> bool {
        self.count(key) >= self.allowance
    }

    /// Records an attempt from `key` whatever its count (failed logins are counted, not allowed).
    pub fn record(&self, key: &str) {
        self.attempt(key, true);
    }

    /// Records an attempt from `key`; false (and nothing recorded) when the key has used its allowance.
    pub fn allow(&self, key: &str) -> bool {
        self.attempt(key, false)
    }

    /// How many keys are remembered (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.seen.lock().expect("not poisoned").len()
    }

    fn attempt(&self, key: &str, always: bool) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("not poisoned");
        if !seen.contains_key(key) && seen.len() >= self.max_keys {
            self.prune(&mut seen, now);
        }
        let times = seen.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        let allowed = times.len() < self.allowance;
        if allowed || always {
            if times.len() >= self.allowance {
                times.pop_front();
            }
            times.push_back(now);
        }
        allowed
    }

    /// Forgets keys with no attempt in the window, then, if still full, the tenth of keys seen least recently.
    fn prune(&self, seen: &mut HashMap<String, VecDeque<Instant>>, now: Instant) {
        seen.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < self.window));
        if seen.len() >= self.max_keys {
            let mut last: Vec<(Instant, String)> =
                seen.iter().map(|(k, v)| (*v.back().expect("kept keys have attempts"), k.clone())).collect();
            last.sort_unstable();
            for (_, k) in last.into_iter().take((self.max_keys / 10).max(1)) {
                seen.remove(&k);
            }
        }
    }
}

/// The client's address: the peer's, or when the peer is a trusted proxy (`--trusted-proxy CIDR`) the address that
/// proxy forwarded (`Forwarded: for=…`, else `X-Forwarded-For`), read from the right past every trusted hop. Forwarded
/// headers from anyone else are ignored: a client could write any address into them. None when the server runs
/// without connect info.
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// A key for the limiters.
    pub fn key(&self, prefix: &str) -> String {
        format!("{prefix}:{}", self.0.map_or_else(|| "unknown".to_owned(), |a| a.to_string()))
    }
}

impl FromRequestParts<crate::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &crate::AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddress(peer.map(|p| client_address(p, &parts.headers, &state.trusted_proxies))))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client behind `peer`, given the forwarding headers and the trusted proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let chain = forwarded_for(headers);
    // Rightmost first: the nearest hop was added by our proxy; anything left of the first untrusted hop is the
    // client's own claim.
    let mut client = peer;
    for hop in chain.iter().rev() {
        client = *hop;
        if !trusted(*hop, proxies) {
            break;
        }
    }
    client
}

/// The addresses in `Forwarded` (RFC 7239) or, without it, `X-Forwarded-For`, leftmost first. Unparseable hops
/// (obfuscated identifiers, "unknown") end the chain there.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = values("forwarded");
    let hops: Vec<String> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .map_or_else(String::new, |(_, v)| v.trim().trim_matches('"').to_owned())
            })
            .collect()
    } else {
        values("x-forwarded-for").iter().flat_map(|v| v.split(',')).map(|h| h.trim().to_owned()).collect()
    };
    let mut out = Vec::new();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => out.push(ip),
            None => break,
        }
    }
    out.reverse();
    out
}

/// "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]", "[2001:db8::1]:4711", "2001:db8::1".
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// Parses `--trusted-proxy` values: CIDR ranges or single addresses.
pub fn parse_proxies(values: &[String]) -> Result<Vec<IpNet>, String> {
    values
        .iter()
        .map(|v| {
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("--trusted-proxy {v}: not an address or a CIDR range such as 10.0.0.0/8"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxies = parse_proxies(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.7")]);
        assert_eq!(client_address(ip("10.0.0.1"), &xff, &proxies), ip("203.0.113.9"));
        // An untrusted peer's headers are its own claim.
        assert_eq!(client_address(ip("198.51.100.4"), &xff, &proxies), ip("198.51.100.4"));
        // A client that writes its own X-Forwarded-For gets the hop our proxy saw, not its claim.
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(client_address(ip("10.0.0.1"), &spoofed, &proxies), ip("203.0.113.9"));
        let fwd = headers(&[("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.7")]);
        assert_eq!(client_address(ip("::1"), &fwd, &proxies), ip("2001:db8:cafe::17"));
        let none = headers(&[]);
        assert_eq!(client_address(ip("10.0.0.1"), &none, &proxies), ip("10.0.0.1"));
        assert!(parse_proxies(&["nonsense".into()]).is_err());
    }

    #[test]
    fn the_limiter_allows_its_allowance_and_forgets_old_keys() {
        let l = RateLimiter::with_capacity(3, Duration::from_secs(600), 100);
        assert!((0..3).all(|_| l.allow("a")));
        assert!(!l.allow("a"));
        for i in 0..1000 {
            l.record(&format!("user{i}"));
        }
        assert!(l.keys() <= 100, "{} keys remembered", l.keys());
        let short = RateLimiter::with_capacity(1, Duration::from_millis(1), 10);
        assert!(short.allow("b"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.allow("b"), "an attempt older than the window no longer counts");
        for _ in 0..50 {
            short.record("c");
        }
        assert_eq!(short.seen.lock().unwrap()["c"].len(), 1, "at most the allowance is remembered per key");
    }
}
