//! Limits at the edge: who the client is (behind trusted proxies only), and how often an address or an account may
//! try something. Tries are counted in the database, so that every instance sharing it counts together and a
//! restart does not lift a lock-out. Who tried is stored only as an HMAC under a salt the database makes each day and
//! deletes the day after (see [`varde_store::LimitSalts`]): not the address or account, and not a plain hash of it,
//! which anyone could reverse by hashing every IPv4 address.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use jiff::Timestamp;
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;
use varde_core::Application;
use varde_store::{Attempt, Counting, LimitSalts, StoreError};

/// How many tries one client or account may make in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the limit in the database; each limit counts on its own.
    pub name: &'static str,
    pub allowance: u32,
    pub window: Duration,
}

impl Limit {
    /// A limit; its window must be shorter than a day (salts last two, so a try is found under yesterday's).
    pub const fn new(name: &'static str, allowance: u32, window: Duration) -> Limit {
        assert!(window.as_secs() < 86_400, "a limit's window is shorter than a day");
        Limit { name, allowance, window }
    }
}

/// Counts tries at the [`Limit`]s in the store, hashing who tried with the day's salt (kept here until the day
/// changes).
#[derive(Default)]
pub struct Limits {
    salts: Mutex<Option<LimitSalts>>,
}

impl Limits {
    /// Counts a try by `who` if the allowance is not used up; false (and nothing counted) when it is.
    pub async fn allow(&self, store: &dyn Application, limit: Limit, who: &str) -> Result<bool, StoreError> {
        self.attempt(store, limit, who, Counting::Allow).await
    }

    /// Counts a try by `who` whatever the count (failed logins are counted, not allowed).
    pub async fn record(&self, store: &dyn Application, limit: Limit, who: &str) -> Result<(), StoreError> {
        self.attempt(store, limit, who, Counting::Record).await.map(|_| ())
    }

    /// Whether `who` has used the allowance.
    pub async fn exhausted(&self, store: &dyn Application, limit: Limit, who: &str) -> Result<bool, StoreError> {
        self.attempt(store, limit, who, Counting::Ask).await.map(|left| !left)
    }

    async fn attempt(
        &self,
        store: &dyn Application,
        limit: Limit,
        who: &str,
        counting: Counting,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        let salts = self.salts(store, now).await?;
        let attempt = Attempt {
            limit: limit.name,
            key: keyed(&salts.today, limit.name, who),
            earlier_key: keyed(&salts.yesterday, limit.name, who),
            allowance: limit.allowance,
            window: jiff::SignedDuration::try_from(limit.window).expect("a window shorter than a day"),
        };
        store.queries().attempt(attempt, counting, now).await
    }

    async fn salts(&self, store: &dyn Application, now: Timestamp) -> Result<LimitSalts, StoreError> {
        let today = varde_store::day_of(now);
        if let Some(salts) = self.salts.lock().expect("not poisoned").as_ref().filter(|s| s.day == today) {
            return Ok(salts.clone());
        }
        let salts = store.queries().limit_salts(now).await?;
        *self.salts.lock().expect("not poisoned") = Some(salts.clone());
        Ok(salts)
    }
}

/// Who tried, as the database keeps it: HMAC-SHA256 of the limit's name and `who` under `salt`.
fn keyed(salt: &[u8; 32], limit: &str, who: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt).expect("HMAC takes any key length");
    mac.update(limit.as_bytes());
    mac.update(&[0]);
    mac.update(who.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The client's address: the peer's, or when the peer is a trusted proxy (`--trusted-proxy CIDR`) the address that
/// proxy forwarded (`Forwarded: for=…`, else `X-Forwarded-For`), read from the right past every trusted hop. Forwarded
/// headers from anyone else are ignored: a client could write any address into them. None when the server runs
/// without connect info.
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// Who the client is for the limits: its IPv4 address, or its IPv6 address's /64 network (one subscriber line
    /// is given a whole /64, and could otherwise change address for every try).
    pub fn who(&self) -> String {
        self.0.map_or_else(|| "unknown".to_owned(), varde_domain::client::key)
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
    fn a_client_is_its_ipv4_address_or_its_ipv6_network() {
        let who = |s: &str| ClientAddress(Some(s.parse().unwrap())).who();
        assert_eq!(who("203.0.113.9"), "203.0.113.9");
        assert_eq!(who("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(who("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(who("2001:db8:1:2:bbbb::7"), who("2001:db8:1:2:aaaa::1"), "one /64, one client");
        assert_ne!(who("2001:db8:1:3::1"), who("2001:db8:1:2::1"));
        assert_eq!(ClientAddress(None).who(), "unknown");
    }

    #[test]
    fn who_tried_is_kept_as_a_keyed_hash_per_salt_and_limit() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let key = keyed(&a, "lookup", "203.0.113.9");
        assert_eq!(key, keyed(&a, "lookup", "203.0.113.9"));
        assert_ne!(key, keyed(&b, "lookup", "203.0.113.9"), "another day's salt, another key");
        assert_ne!(key, keyed(&a, "concern", "203.0.113.9"), "limits do not share keys");
        assert_ne!(key, keyed(&a, "lookup", "203.0.113.8"));
        // Not a plain hash of the address, which anyone could find by hashing every address.
        let plain: [u8; 32] = <Sha256 as sha2::Digest>::digest(b"203.0.113.9").into();
        assert_ne!(key, plain);
        // The name and who are separated: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(keyed(&a, "ab", "c"), keyed(&a, "a", "bc"));
    }
}
