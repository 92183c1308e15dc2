//! Who a client is, for the limits that protect the service (rate limits, connections per client, failed logins):
//! its IPv4 address, or the /64 network of its IPv6 address, since one subscriber line is given a whole /64 and could
//! otherwise take a new address for every try. One rule for every limit in Varde.

use std::net::{IpAddr, Ipv6Addr};

/// The network a client's tries count under: an IPv4 address (also when written as IPv4-mapped IPv6), or an IPv6
/// address with its last 64 bits cleared.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// [`network`] as text: "10.1.2.3", or "2001:db8:1:2::/64".
pub fn key(ip: IpAddr) -> String {
    match network(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_addresses_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(network(ip("2001:db8:1:2:aaaa::1")), network(ip("2001:db8:1:2:bbbb::7")));
        assert_eq!(key(ip("::ffff:10.1.2.3")), "10.1.2.3");
        assert_eq!(key(ip("192.0.2.7")), "192.0.2.7");
    }
}
