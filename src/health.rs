//! `cartwheel health`: asks this host's API for `GET /health/live`, for a container's health
//! check (the runtime image has no curl). Plain HTTP/1.0 over a socket, cut off after a few
//! seconds; the answer must be 200.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

const TIMEOUT: Duration = Duration::from_secs(3);

/// Checks the API listening on `bind` (an unspecified address means this host).
pub fn check(bind: SocketAddr) -> anyhow::Result<()> {
    let mut target = bind;
    if target.ip().is_unspecified() {
        target.set_ip(match bind {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT)
        .with_context(|| format!("connecting to {target}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(b"GET /health/live HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .context("reading the answer")?;
    let status_line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => bail!(
            "GET http://{target}/health/live answered {:?}",
            status_line.trim()
        ),
    }
}
