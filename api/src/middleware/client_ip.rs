//! The client's address: the TCP peer, or `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::IpAddr;

use poem::Request;

pub fn client_ip(req: &Request, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    // Walk the chain from the nearest hop; the first address we do not trust is the client.
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .iter()
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer),
    )
}
