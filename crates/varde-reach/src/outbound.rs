//! Where Varde may connect outward for a push or a webhook, and the HTTP client that holds to it.
//!
//! Anyone may subscribe to push warnings, so a push endpoint is an address an anonymous caller chose; an admin's
//! webhook URL is one a stolen admin token chose. Neither may make the server connect to itself, to the cloud's
//! metadata service or to the private network it runs in. The rules:
//! - push endpoints: `https` on port 443 only, optionally only at the known push services' hosts;
//! - every target: its host must be, or resolve to, public addresses only; an operator may allow named ranges
//!   (`--outbound-allow 10.20.0.0/16`) for a receiver inside the network;
//! - the address is checked when the target is registered *and* at every connection, after DNS resolution, by the
//!   client's own resolver (a name that resolved to a public address yesterday and to 127.0.0.1 now gets nothing);
//! - no redirect is followed: a redirect would take the signature headers, or a push, to a host nobody checked.
//!
//! The URL parser is the WHATWG one (`url`), which reads every spelling of an IPv4 address a browser would (`0x7f.1`,
//! `2130706433`, `0177.0.0.1`) as the address it is, so the checks see 127.0.0.1 however it was written.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// The push services of the browsers people use (Chrome and Edge via FCM, Firefox, Safari, Windows), for the
/// allow-list an operator can turn on with `--push-hosts default`. A host matches itself and its subdomains.
pub const KNOWN_PUSH_HOSTS: [&str; 5] = [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "notify.windows.com",
    "push.apple.com",
];

/// How long a registration waits for the resolver.
const RESOLVE_WITHIN: Duration = Duration::from_secs(3);

/// What a connection is for: push endpoints are held to more than webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Push,
    Webhook,
}

/// Why a target is refused, in words for the person who gave it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the address must start with https://")]
    Scheme,
    #[error("push endpoints are on port 443")]
    Port,
    #[error("the address has no host")]
    NoHost,
    #[error("{0} is not a public address")]
    NotPublic(IpAddr),
    #[error("{0} is not a known push service")]
    NotPushService(String),
    #[error("{0} cannot be resolved")]
    Unresolvable(String),
}

/// The operator's choices about outbound connections.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    /// Ranges allowed although not public (a receiver inside the operator's network; loopback in tests).
    pub allowed: Vec<IpNet>,
    /// When set, push endpoints only at these hosts (and their subdomains).
    pub push_hosts: Option<Vec<String>>,
    /// Accept `http://` push endpoints on any port (tests and benchmarks with a local push service).
    pub insecure_push: bool,
}

impl OutboundPolicy {
    /// Whether a connection to `ip` is allowed: a public address, or one in a range the operator allowed.
    pub fn address_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&canonical(ip)))
    }

    /// Checks what can be checked without the network: scheme, port, an address written as the host, and the push
    /// services' allow-list. Run before every request too, because a client does not resolve an address literal.
    pub fn check_url(&self, url: &Url, purpose: Purpose) -> Result<(), Refusal> {
        let insecure = purpose == Purpose::Push && self.insecure_push;
        match (purpose, url.scheme()) {
            (_, "https") => {}
            (Purpose::Webhook, "http") => {}
            (Purpose::Push, "http") if insecure => {}
            _ => return Err(Refusal::Scheme),
        }
        if purpose == Purpose::Push && !insecure && url.port_or_known_default() != Some(443) {
            return Err(Refusal::Port);
        }
        let host = url.host().ok_or(Refusal::NoHost)?;
        if let Some(ip) = literal(&host).filter(|ip| !self.address_allowed(*ip)) {
            return Err(Refusal::NotPublic(ip));
        }
        if purpose == Purpose::Push {
            if let (Some(hosts), Host::Domain(name)) = (&self.push_hosts, &host) {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let known = hosts.iter().any(|h| name == *h || name.ends_with(&format!(".{h}")));
                if !known {
                    return Err(Refusal::NotPushService(name));
                }
            }
            if self.push_hosts.is_some() && literal(&host).is_some() {
                return Err(Refusal::NotPushService(host.to_string()));
            }
        }
        Ok(())
    }

    /// [`check_url`](Self::check_url), then resolves the host and refuses it unless every address it has now is
    /// allowed: when a target is registered, so that the person who gave it hears at once.
    pub async fn check(&self, url: &Url, purpose: Purpose) -> Result<(), Refusal> {
        self.check_url(url, purpose)?;
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            // A resolver that does not answer must not hold the caller's request for long.
            let lookup = tokio::time::timeout(RESOLVE_WITHIN, tokio::net::lookup_host((name, port))).await;
            let addrs: Vec<SocketAddr> = match lookup {
                Ok(Ok(found)) => found.collect(),
                _ => return Err(Refusal::Unresolvable(name.to_owned())),
            };
            if addrs.is_empty() {
                return Err(Refusal::Unresolvable(name.to_owned()));
            }
            if let Some(bad) = addrs.iter().map(SocketAddr::ip).find(|ip| !self.address_allowed(*ip)) {
                return Err(Refusal::NotPublic(bad));
            }
        }
        Ok(())
    }

    /// An HTTP client that connects only where this policy allows: its resolver drops every address that is not
    /// allowed (so a name that resolves to a private address cannot be reached), and it follows no redirect.
    /// Callers still run [`check_url`](Self::check_url) before each request for address literals.
    pub fn client(&self, timeout: Duration, pool_per_host: usize) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(pool_per_host)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { policy: self.clone() }))
            .build()
            .expect("a plain HTTP client builds")
    }
}

/// Resolves with the system's resolver and keeps only the addresses the policy allows; none left is an error, so
/// the request fails before any connection is made.
struct GuardedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| policy.address_allowed(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no address Varde may connect to").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The address a host names, when it is written as one.
fn literal(host: &Host<&str>) -> Option<IpAddr> {
    match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
        Host::Domain(_) => None,
    }
}

/// An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) as that IPv4
/// address, so that the checks see what it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return IpAddr::V4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private, link-local (the cloud metadata
/// service), shared (carrier-grade NAT), unspecified, broadcast, multicast, documentation, benchmarking or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local, deprecated
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x2002 // 6to4: carries an IPv4 address that may be anything
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(url: &str) -> Result<(), Refusal> {
        OutboundPolicy::default().check_url(&Url::parse(url).unwrap(), Purpose::Push)
    }

    /// Every spelling of an internal address found by the probe is refused as a push endpoint.
    #[test]
    fn internal_addresses_in_every_spelling_are_refused() {
        for url in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://0.0.0.0/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
        ] {
            assert!(matches!(push(url), Err(Refusal::NotPublic(_))), "{url}: {:?}", push(url));
        }
        assert_eq!(push("https://127.0.0.1:5432/"), Err(Refusal::Port));
        assert_eq!(push("http://fcm.googleapis.com/fcm/send/x"), Err(Refusal::Scheme));
        assert_eq!(push("https://fcm.googleapis.com/fcm/send/x"), Ok(()));
        assert_eq!(push("https://93.184.216.34/"), Ok(()));
    }

    #[test]
    fn the_push_services_allow_list_takes_their_hosts_and_subdomains_only() {
        let policy = OutboundPolicy {
            push_hosts: Some(KNOWN_PUSH_HOSTS.iter().map(|h| h.to_string()).collect()),
            ..OutboundPolicy::default()
        };
        let check = |u: &str| policy.check_url(&Url::parse(u).unwrap(), Purpose::Push);
        assert_eq!(check("https://fcm.googleapis.com/fcm/send/abc"), Ok(()));
        assert_eq!(check("https://wns2-am3p.notify.windows.com/w/?token=x"), Ok(()));
        assert!(matches!(check("https://evil.example/fcm.googleapis.com"), Err(Refusal::NotPushService(_))));
        assert!(matches!(check("https://fcm.googleapis.com.evil.example/"), Err(Refusal::NotPushService(_))));
        assert!(matches!(check("https://93.184.216.34/"), Err(Refusal::NotPushService(_))));
    }

    #[test]
    fn webhooks_may_be_http_but_not_internal_unless_the_operator_allows_the_range() {
        let hook = |p: &OutboundPolicy, u: &str| p.check_url(&Url::parse(u).unwrap(), Purpose::Webhook);
        let strict = OutboundPolicy::default();
        assert_eq!(hook(&strict, "http://93.184.216.34:8080/hook"), Ok(()));
        assert!(hook(&strict, "http://10.20.1.5/hook").is_err());
        assert_eq!(hook(&strict, "ftp://93.184.216.34/"), Err(Refusal::Scheme));
        let inside = OutboundPolicy { allowed: vec!["10.20.0.0/16".parse().unwrap()], ..OutboundPolicy::default() };
        assert_eq!(hook(&inside, "http://10.20.1.5/hook"), Ok(()));
        assert!(hook(&inside, "http://10.21.1.5/hook").is_err(), "only the named range");
        assert!(hook(&inside, "http://127.0.0.1/hook").is_err());
    }

    /// A name is refused when it resolves to a refused address (checked at registration), and the client's resolver
    /// refuses it at connection time too.
    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_at_registration_and_at_connection() {
        let policy = OutboundPolicy::default();
        let url = Url::parse("https://localhost/push").unwrap();
        assert!(matches!(policy.check(&url, Purpose::Push).await, Err(Refusal::NotPublic(_))));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let err =
            policy.client(Duration::from_secs(2), 1).get(format!("http://localhost:{port}/")).send().await.unwrap_err();
        assert!(err.is_connect() || err.is_request(), "{err:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!accepted.is_finished(), "nothing connected to the loopback listener");
        accepted.abort();
    }
}
