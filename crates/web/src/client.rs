//! Who is asking, for the rate limits: the peer address of the connection, or, behind a reverse
//! proxy the operator trusts, the address that proxy writes in a header.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;

/// The client's address as a rate-limit key (`"unknown"` when the server records no peer, as in
/// tests that call the router directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

/// The address a trusted proxy put in `header`: the last entry of a comma-separated list, since
/// a proxy appends the address it saw to whatever the client sent (`X-Forwarded-For`).
fn from_header(headers: &HeaderMap, header: &axum::http::HeaderName) -> Option<IpAddr> {
    let value = headers.get_all(header).iter().next_back()?.to_str().ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

/// The client's address: the trusted header when configured and readable, else the peer.
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    if let Some(header) = state.client_ip_header()
        && let Some(ip) = from_header(&parts.headers, header)
    {
        return Some(ip);
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip())
}

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientKey(
            client_ip(parts, state).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn the_proxy_appended_address_wins_over_what_the_client_sent() {
        let name = HeaderName::from_static("x-forwarded-for");
        let mut h = HeaderMap::new();
        h.insert(&name, HeaderValue::from_static("6.6.6.6, 203.0.113.7"));
        assert_eq!(from_header(&h, &name), Some("203.0.113.7".parse().unwrap()));
        h.insert(&name, HeaderValue::from_static("not an address"));
        assert_eq!(from_header(&h, &name), None);
        assert_eq!(from_header(&HeaderMap::new(), &name), None);
    }
}
