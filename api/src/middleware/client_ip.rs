//! The client's address: the TCP peer, or `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use poem::Request;

pub fn client_ip(req: &Request, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    Some(from_chain(peer, &hops, trusted_proxies))
}

/// Walks the chain from the nearest hop: the first address not trusted is the client. A hop
/// that is not an address ends the walk at the hop that reported it, never skipped in favour
/// of what lies beyond it (which the client wrote).
fn from_chain(peer: IpAddr, hops: &[&str], trusted_proxies: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    for hop in hops.iter().rev() {
        if !trusted_proxies.contains(&client) {
            break;
        }
        match parse(hop) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, or either with a port (`203.0.113.7:4711`, `[2001:db8::1]:80`).
fn parse(hop: &str) -> Option<IpAddr> {
    hop.parse()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        let peer = ip("10.0.0.1");
        // The client wrote 6.6.6.6 itself; 10.0.0.2 saw 203.0.113.7.
        let chain = ["6.6.6.6", "203.0.113.7", "10.0.0.2"];
        assert_eq!(from_chain(peer, &chain, &proxies), ip("203.0.113.7"));
        assert_eq!(
            from_chain(ip("198.51.100.1"), &chain, &proxies),
            ip("198.51.100.1")
        );
        assert_eq!(
            from_chain(peer, &["[2001:db8::1]:80"], &proxies),
            ip("2001:db8::1")
        );
        assert_eq!(from_chain(peer, &[], &proxies), peer);
    }

    #[test]
    fn an_unparseable_hop_is_not_skipped_in_the_clients_favour() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        let peer = ip("10.0.0.1");
        // Before: `unknown` was dropped and the walk went on to the client's own 6.6.6.6.
        let chain = ["6.6.6.6", "unknown", "10.0.0.2"];
        assert_eq!(from_chain(peer, &chain, &proxies), ip("10.0.0.2"));
        assert_eq!(from_chain(peer, &["6.6.6.6", "garbage"], &proxies), peer);
    }
}
