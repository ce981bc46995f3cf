//! The client's address behind reverse proxies (`REGISTRY_TRUSTED_PROXIES`).
//!
//! `X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
//! it was written by a proxy we trust: starting from the connection's peer, each address is
//! replaced by the entry before it while the current one is a trusted proxy. The first
//! untrusted address is the client. A client that sends its own `X-Forwarded-For` through
//! nginx (`proxy_add_x_forwarded_for` appends the real address) therefore cannot choose the
//! address the objection rate limit counts.

use std::net::IpAddr;

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks; empty trusts no proxy.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{item}` is not an IP address or CIDR network"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("`{item}`: the prefix length must be 0–{max}"))?,
            };
            nets.push((ip, prefix));
        }
        Ok(Self(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, prefix)| in_network(ip, canonical(*net), *prefix))
    }

    /// The client's address: the peer, or — while that is a trusted proxy — the address it
    /// forwarded for, read from the right of the `X-Forwarded-For` entries.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer;
        let entries = forwarded_for
            .iter()
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for entry in entries.into_iter().rev() {
            if !self.contains(client) {
                break;
            }
            match parse_entry(entry) {
                Some(ip) => client = ip,
                // A malformed entry ends what can be believed.
                None => break,
            }
        }
        client
    }
}

/// An entry of `X-Forwarded-For`: an address, possibly with a port (`1.2.3.4:5678`,
/// `[::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn lists_of_addresses_and_networks_parse() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8 ").unwrap();
        assert!(t.contains(ip("10.20.30.40")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("fd12::1")));
        assert!(t.contains(ip("::ffff:10.1.2.3")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.0/x", "::1/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let cases: &[(&str, &[&str], &str)] = &[
            // No proxy in between: the header is the client's own words.
            ("203.0.113.9", &["1.1.1.1"], "203.0.113.9"),
            // One proxy: the address it appended.
            ("10.0.0.2", &["198.51.100.7"], "198.51.100.7"),
            // A client claiming another address: nginx appends the real one.
            ("10.0.0.2", &["1.1.1.1, 198.51.100.7"], "198.51.100.7"),
            // Two proxies of ours.
            ("10.0.0.2", &["198.51.100.7, 10.0.0.3"], "198.51.100.7"),
            // Several headers count as one list, in order.
            ("10.0.0.2", &["1.1.1.1", "198.51.100.7"], "198.51.100.7"),
            // A port, an IPv6 entry.
            ("10.0.0.2", &["198.51.100.7:4711"], "198.51.100.7"),
            ("10.0.0.2", &["[2001:db8::1]:443"], "2001:db8::1"),
            // Nothing forwarded, or garbage: the proxy itself.
            ("10.0.0.2", &[], "10.0.0.2"),
            ("10.0.0.2", &["unknown"], "10.0.0.2"),
        ];
        for (peer, headers, expected) in cases {
            assert_eq!(
                t.client(ip(peer), headers),
                ip(expected),
                "{peer} {headers:?}"
            );
        }
        // Trusting no one: always the peer.
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.2"), &["1.1.1.1"]), ip("10.0.0.2"));
    }
}
