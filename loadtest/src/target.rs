//! The server under load: an `http://host[:port][/prefix]` URL, resolved once at start.

use crate::Error;
use std::net::{SocketAddr, ToSocketAddrs};

/// Where requests go. The address is resolved once so that reconnecting under load never
/// waits on DNS.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub addr: SocketAddr,
    /// The `Host` header: the URL's `host[:port]` as written.
    pub authority: String,
    /// A path prefix without a trailing slash (`""` for none), put before every route.
    pub prefix: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, Error> {
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => {
                return Err(Error::new(format!(
                    "--url {url}: only http:// is spoken (no TLS, {scheme}:// given); run the generator beside the server"
                )));
            }
            None => url,
        };
        let (authority, prefix) = match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(Error::new(format!("--url {url}: no host")));
        }
        let with_port = if has_port(authority) {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|e| Error::new(format!("--url {url}: cannot resolve {authority}: {e}")))?
            .next()
            .ok_or_else(|| Error::new(format!("--url {url}: {authority} has no address")))?;
        Ok(Self {
            url: url.to_owned(),
            addr,
            authority: authority.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// A target for a listening socket, as tests have one.
    pub fn from_addr(addr: SocketAddr) -> Self {
        Self {
            url: format!("http://{addr}"),
            addr,
            authority: addr.to_string(),
            prefix: String::new(),
        }
    }

    /// The request path of a route such as `/v1/quotes`.
    pub fn path(&self, route: &str) -> String {
        format!("{}{route}", self.prefix)
    }
}

/// Whether `host[:port]` names a port; an IPv6 literal is bracketed (`[::1]:8080`).
fn has_port(authority: &str) -> bool {
    match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn parses_urls() {
        let cases = [
            (
                "http://127.0.0.1:8080",
                "127.0.0.1:8080",
                "127.0.0.1:8080",
                "",
            ),
            (
                "http://127.0.0.1:9000/api/",
                "127.0.0.1:9000",
                "127.0.0.1:9000",
                "/api",
            ),
            ("127.0.0.1", "127.0.0.1:80", "127.0.0.1", ""),
            ("http://[::1]:81", "[::1]:81", "[::1]:81", ""),
        ];
        for (url, addr, authority, prefix) in cases {
            let target = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (
                    target.addr.to_string().as_str(),
                    target.authority.as_str(),
                    target.prefix.as_str()
                ),
                (addr, authority, prefix)
            );
        }
        assert_eq!(
            Target::parse("http://127.0.0.1:9000/api")
                .map(|t| t.path("/v1/quotes"))
                .ok()
                .as_deref(),
            Some("/api/v1/quotes")
        );
        for bad in ["https://example.com", "http://", "http:///x"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
