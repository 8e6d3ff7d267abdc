//! Which browser origins may open a WebSocket (`gateway.allowed_origins`).
//!
//! Browsers send an `Origin` header with every WebSocket handshake, and a
//! page cannot forge it: checking it is what stops another site's page from
//! opening chats (or an agent's console session) in its visitors' browsers
//! (cross-site WebSocket hijacking).
//!
//! Matching is exact on (scheme, host, port), the triple that *is* an origin
//! (RFC 6454):
//! - the default port is filled in, so `https://shop.example` and
//!   `https://shop.example:443` are one origin, and `:8443` is another;
//! - scheme and host are compared case-insensitively, because they are
//!   case-insensitive (RFC 3986 §3.2.2, §3.1) and browsers send them in lower
//!   case anyway: `https://SHOP.example` *is* `https://shop.example`;
//! - no suffix, prefix or pattern matching: `https://evil-shop.example` and
//!   `https://shop.example.evil.com` are other hosts;
//! - `null` (sandboxed frames, `file:` pages) has no host and never matches;
//! - a request **without** `Origin` is allowed: browsers always send one on a
//!   WebSocket handshake, so its absence means a non-browser client (an agent
//!   program, the load harness), and such a client could send any `Origin` it
//!   likes, so refusing it would protect nothing.

use axum::http::{header, HeaderMap, Uri};

use crate::config::GatewayConfig;

/// A parsed origin: lower-case scheme and host, and the port (the default
/// port of the scheme when none was written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses a serialized origin (`scheme://host[:port]`). A trailing `/` is
    /// tolerated (people copy origins from the address bar); a path, query,
    /// user name or a scheme other than `http`/`https` is not.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let trimmed = text.strip_suffix('/').unwrap_or(text);
        let uri: Uri = trimmed.parse().map_err(|_| format!("`{text}` is not an origin like https://shop.example"))?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase).ok_or_else(|| {
            format!("`{text}` has no scheme: write it as the browser sends it, e.g. https://shop.example")
        })?;
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(format!("`{text}`: the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| format!("`{text}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!("`{text}`: an origin has no user name"));
        }
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty()) {
            return Err(format!("`{text}`: an origin has no path or query (only scheme://host:port)"));
        }
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(format!("`{text}` has no host"));
        }
        Ok(Origin { scheme, host, port: authority.port_u16().unwrap_or(default_port) })
    }
}

/// The verdict on one handshake's `Origin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Refused,
}

/// The allowed origins, parsed once at start-up.
#[derive(Clone, Debug)]
pub enum AllowedOrigins {
    /// `gateway.allow_any_origin = true`.
    Any,
    List(Vec<Origin>),
}

impl AllowedOrigins {
    /// From a validated config (entries that do not parse were refused by
    /// `Config::validate`; any left would match nothing).
    pub fn from_config(g: &GatewayConfig) -> AllowedOrigins {
        if g.allow_any_origin {
            return AllowedOrigins::Any;
        }
        AllowedOrigins::List(g.allowed_origins.iter().filter_map(|o| Origin::parse(o).ok()).collect())
    }

    /// Checks a handshake's headers (see the module docs for the rules).
    pub fn check(&self, headers: &HeaderMap) -> Verdict {
        let mut origins = headers.get_all(header::ORIGIN).iter();
        let Some(first) = origins.next() else { return Verdict::Allowed };
        // Two Origin headers: no browser sends that; refuse rather than pick one.
        if origins.next().is_some() {
            return Verdict::Refused;
        }
        match self {
            AllowedOrigins::Any => Verdict::Allowed,
            AllowedOrigins::List(list) => {
                let parsed = first.to_str().ok().and_then(|o| Origin::parse(o).ok());
                match parsed {
                    Some(origin) if list.contains(&origin) => Verdict::Allowed,
                    _ => Verdict::Refused,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str]) -> AllowedOrigins {
        AllowedOrigins::List(list.iter().map(|o| Origin::parse(o).unwrap()).collect())
    }

    fn verdict(list: &AllowedOrigins, origin: &str) -> Verdict {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        list.check(&headers)
    }

    #[test]
    fn exact_origins_match_and_look_alikes_do_not() {
        let list = allowed(&["https://shop.example", "http://localhost:8080"]);
        let cases = [
            ("https://shop.example", Verdict::Allowed),
            ("https://shop.example:443", Verdict::Allowed),
            ("https://SHOP.Example", Verdict::Allowed),
            ("HTTPS://shop.example", Verdict::Allowed),
            ("http://localhost:8080", Verdict::Allowed),
            ("http://shop.example", Verdict::Refused),
            ("https://shop.example:8443", Verdict::Refused),
            ("https://evil-shop.example", Verdict::Refused),
            ("https://shop.example.evil.com", Verdict::Refused),
            ("https://www.shop.example", Verdict::Refused),
            ("https://shop.example@evil.com", Verdict::Refused),
            ("https://shop.example/path", Verdict::Refused),
            ("http://localhost", Verdict::Refused),
            ("http://localhost:80", Verdict::Refused),
            ("null", Verdict::Refused),
            ("shop.example", Verdict::Refused),
            ("", Verdict::Refused),
        ];
        for (origin, expected) in cases {
            assert_eq!(verdict(&list, origin), expected, "{origin}");
        }
    }

    #[test]
    fn a_missing_origin_is_allowed_and_a_doubled_one_refused() {
        let list = allowed(&["https://shop.example"]);
        assert_eq!(list.check(&HeaderMap::new()), Verdict::Allowed);
        let mut headers = HeaderMap::new();
        headers.append(header::ORIGIN, "https://shop.example".parse().unwrap());
        headers.append(header::ORIGIN, "https://shop.example".parse().unwrap());
        assert_eq!(list.check(&headers), Verdict::Refused);
        assert_eq!(verdict(&AllowedOrigins::Any, "null"), Verdict::Allowed);
    }

    #[test]
    fn config_entries_that_are_not_origins_are_explained() {
        for bad in ["shop.example", "ftp://shop.example", "https://shop.example/chat", "https://u@shop.example", "null"]
        {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Origin::parse("https://shop.example/").unwrap(), Origin::parse("https://shop.example:443").unwrap());
    }
}
