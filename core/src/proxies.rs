//! Trusted proxies: the addresses of load balancers and reverse proxies in front of chargegrid.
//! Behind them the peer of a connection is the proxy, so the client's own address comes from
//! what the proxy says (an `X-Forwarded-For` header, a PROXY protocol header); from anyone else
//! such a claim is ignored, since any client could make it.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::DomainError;

/// The proxies whose word on the client's address is taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From addresses or networks (`10.0.0.0/8`, `192.168.1.7`, `::1`).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, DomainError> {
        items
            .iter()
            .map(|item| {
                let text = item.as_ref().trim();
                IpNet::from_str(text)
                    .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
                    .map_err(|_| {
                        DomainError::InvalidAddress(format!(
                            "{text:?} is not an IP address or network (e.g. 10.0.0.0/8)"
                        ))
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether none is configured (the peer is always the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` carrying `forwarded_for` (the `X-Forwarded-For`
    /// values, in header order): from a trusted peer, the right-most address that is not itself
    /// a trusted proxy (each proxy appends the address it received from; the ones left of the
    /// first untrusted hop could be made up by the client). From anyone else, the peer.
    pub fn client_of<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .map_while(|hop| IpAddr::from_str(hop.trim()).ok())
            .collect();
        hops.iter()
            .rev()
            .copied()
            .find(|hop| !self.contains(*hop))
            .or_else(|| hops.first().copied())
            .unwrap_or(peer)
    }
}

/// An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_and_only_behind_a_trusted_peer() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "192.168.1.7"]).unwrap();
        assert!(proxies.contains(ip("10.1.2.3")));
        assert!(proxies.contains(ip("::ffff:10.1.2.3")));
        assert!(!proxies.contains(ip("192.168.1.8")));
        // Behind one trusted proxy.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["203.0.113.9"]),
            ip("203.0.113.9")
        );
        // A client's made-up hop left of the real one is not taken.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["1.1.1.1, 203.0.113.9", "10.0.0.6"]),
            ip("203.0.113.9")
        );
        // From an untrusted peer the header is ignored.
        assert_eq!(
            proxies.client_of(ip("198.51.100.1"), ["203.0.113.9"]),
            ip("198.51.100.1")
        );
        // A trusted peer without a usable header: the peer.
        assert_eq!(proxies.client_of(ip("10.0.0.5"), ["junk"]), ip("10.0.0.5"));
        assert_eq!(proxies.client_of(ip("10.0.0.5"), []), ip("10.0.0.5"));
        assert!(TrustedProxies::parse(&["not an address"]).is_err());
        assert!(TrustedProxies::default().is_empty());
    }
}
