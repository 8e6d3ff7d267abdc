//! The web pages people use, served by the server itself: the customer chat
//! widget (with a demo shop page at `/`), the agent console at `/agent` and the
//! supervisor view at `/supervisor`.
//!
//! The files live in `web/` at the top of the workspace and are embedded in the
//! binary with `include_str!`: no CDN, no build step, nothing to deploy beside
//! the binary. They are plain HTML, CSS and JavaScript; the pages talk to the
//! server over the public WebSocket protocol (`docs/protocol.md`) like any
//! other client.
//!
//! Caching: every response carries a strong `ETag` (a hash of the embedded
//! bytes) and `Cache-Control: no-cache`, so browsers revalidate and get a
//! `304 Not Modified` until the binary changes. The assets are not versioned by
//! file name, so a longer `max-age` would keep stale code after an upgrade.

use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file.
#[derive(Clone, Copy, Debug)]
struct Asset {
    content_type: &'static str,
    body: &'static str,
    /// Pages get a Content-Security-Policy; scripts and styles instead get
    /// `Access-Control-Allow-Origin: *` (the widget runs inside other sites).
    page: bool,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Pages may only load what this server serves, and open WebSockets to it.
/// The widget itself is embeddable in any site (its script is loaded with a
/// plain `<script src>`), this policy only covers our own pages.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                           connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Every route and the file behind it.
const ASSETS: &[(&str, Asset)] = &[
    ("/", Asset { content_type: HTML, body: include_str!("../../web/index.html"), page: true }),
    ("/shop.css", Asset { content_type: CSS, body: include_str!("../../web/shop.css"), page: false }),
    ("/widget.js", Asset { content_type: JS, body: include_str!("../../web/widget.js"), page: false }),
    ("/widget.css", Asset { content_type: CSS, body: include_str!("../../web/widget.css"), page: false }),
    ("/agent", Asset { content_type: HTML, body: include_str!("../../web/agent.html"), page: true }),
    ("/supervisor", Asset { content_type: HTML, body: include_str!("../../web/supervisor.html"), page: true }),
    ("/console.css", Asset { content_type: CSS, body: include_str!("../../web/console.css"), page: false }),
    ("/console.js", Asset { content_type: JS, body: include_str!("../../web/console.js"), page: false }),
    ("/console-state.js", Asset { content_type: JS, body: include_str!("../../web/console-state.js"), page: false }),
    ("/console-view.js", Asset { content_type: JS, body: include_str!("../../web/console-view.js"), page: false }),
    (
        "/console-actions.js",
        Asset { content_type: JS, body: include_str!("../../web/console-actions.js"), page: false },
    ),
    (
        "/console-tickets.js",
        Asset { content_type: JS, body: include_str!("../../web/console-tickets.js"), page: false },
    ),
    ("/console-shifts.js", Asset { content_type: JS, body: include_str!("../../web/console-shifts.js"), page: false }),
    ("/console-canned.js", Asset { content_type: JS, body: include_str!("../../web/console-canned.js"), page: false }),
    ("/widget-tickets.js", Asset { content_type: JS, body: include_str!("../../web/widget-tickets.js"), page: false }),
    (
        "/widget-complaints.js",
        Asset { content_type: JS, body: include_str!("../../web/widget-complaints.js"), page: false },
    ),
    ("/supervisor.js", Asset { content_type: JS, body: include_str!("../../web/supervisor.js"), page: false }),
    (
        "/supervisor-view.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-view.js"), page: false },
    ),
    (
        "/supervisor-records.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-records.js"), page: false },
    ),
    (
        "/supervisor-breaches.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-breaches.js"), page: false },
    ),
    (
        "/supervisor-performance.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-performance.js"), page: false },
    ),
    (
        "/supervisor-shifts.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-shifts.js"), page: false },
    ),
    (
        "/supervisor-quality.js",
        Asset { content_type: JS, body: include_str!("../../web/supervisor-quality.js"), page: false },
    ),
    ("/signin.js", Asset { content_type: JS, body: include_str!("../../web/signin.js"), page: false }),
    ("/clock.js", Asset { content_type: JS, body: include_str!("../../web/clock.js"), page: false }),
    ("/texts.js", Asset { content_type: JS, body: include_str!("../../web/texts.js"), page: false }),
    ("/ui.js", Asset { content_type: JS, body: include_str!("../../web/ui.js"), page: false }),
    ("/wire.js", Asset { content_type: JS, body: include_str!("../../web/wire.js"), page: false }),
    ("/files.js", Asset { content_type: JS, body: include_str!("../../web/files.js"), page: false }),
];

/// The routes of the web pages, to merge into the public router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for &(path, asset) in ASSETS {
        // The bytes are embedded: hash them once, not on every request.
        let etag = etag_of(asset.body);
        router = router.route(path, get(move |headers: HeaderMap| async move { serve(asset, &etag, &headers) }));
    }
    router
}

/// A strong validator for the embedded bytes (FNV-1a, 64 bits).
fn etag_of(body: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

fn serve(asset: Asset, etag: &str, request_headers: &HeaderMap) -> Response {
    let not_modified = request_headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, value);
    }
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    if asset.page {
        headers.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(PAGE_POLICY));
        headers.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    } else {
        // The widget is embedded in other sites: its script loads `wire.js` as a
        // module, which the browser fetches with CORS.
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (StatusCode::OK, headers, asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves the routes on a real socket and returns the raw response head.
    async fn get_path(path: &str, if_none_match: Option<&str>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, routes::<()>()).await });
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let extra = if_none_match.map(|tag| format!("If-None-Match: {tag}\r\n")).unwrap_or_default();
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        server.abort();
        response
    }

    fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
        let head = response.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    #[tokio::test]
    async fn every_asset_is_served_with_its_content_type() {
        for (path, asset) in ASSETS {
            let response = get_path(path, None).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{path}: {response:.80}");
            assert_eq!(header(&response, "content-type"), Some(asset.content_type), "{path}");
            assert_eq!(header(&response, "cache-control"), Some("no-cache"), "{path}");
            assert_eq!(header(&response, "content-security-policy").is_some(), asset.page, "{path}");
            // Scripts and styles load from other sites that embed the widget.
            let cors = if asset.page { None } else { Some("*") };
            assert_eq!(header(&response, "access-control-allow-origin"), cors, "{path}");
            assert!(response.ends_with(asset.body), "{path}: the body is the embedded file");
        }
    }

    #[tokio::test]
    async fn a_matching_etag_gets_not_modified() {
        let first = get_path("/widget.js", None).await;
        let tag = header(&first, "etag").unwrap().to_owned();
        let second = get_path("/widget.js", Some(&tag)).await;
        assert!(second.starts_with("HTTP/1.1 304"), "{second:.80}");
        let other = get_path("/widget.js", Some("\"0000\"")).await;
        assert!(other.starts_with("HTTP/1.1 200"), "{other:.80}");
    }

    /// The route a served file is known by: `/` for the demo page, else `/` and its file name.
    fn route_of(file: &str) -> String {
        match file {
            "index.html" => "/".to_owned(),
            "agent.html" => "/agent".to_owned(),
            "supervisor.html" => "/supervisor".to_owned(),
            other => format!("/{other}"),
        }
    }

    /// Every page, script and style in `web/` is served (a module split into a
    /// new file must be added to `ASSETS`), and nothing else is.
    #[test]
    fn every_file_in_web_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| [".js", ".css", ".html"].iter().any(|ext| name.ends_with(ext)))
            .map(|name| route_of(&name))
            .collect();
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|(path, _)| (*path).to_owned()).collect();
        served.sort();
        assert_eq!(files, served);
    }

    /// Every module a script imports (`from '/x.js'`, `import('/x.js')`) and
    /// every script and style a page names is served: a missing one would
    /// stop the page in the browser, which CSP allows only from this server.
    #[test]
    fn every_script_and_style_named_by_a_file_is_served() {
        let routes: Vec<&str> = ASSETS.iter().map(|(path, _)| *path).collect();
        for (path, asset) in ASSETS {
            for named in named_paths(asset.body) {
                assert!(routes.contains(&named.as_str()), "{path} names {named}, which is not served");
            }
        }
    }

    /// The absolute `/name.js` and `/name.css` paths a file names in quotes.
    fn named_paths(body: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (at, quote) in body.match_indices(['\'', '"']) {
            let rest = &body[at + quote.len()..];
            let Some(end) = rest.find(quote) else { continue };
            let piece = &rest[..end];
            let asset = piece.ends_with(".js") || piece.ends_with(".css");
            if piece.starts_with('/') && asset && !piece.contains(char::is_whitespace) {
                found.push(piece.to_owned());
            }
        }
        found
    }

    #[test]
    fn the_demo_page_embeds_the_widget_with_one_script_tag() {
        let page = ASSETS.iter().find(|(path, _)| *path == "/").unwrap().1.body;
        assert!(page.contains("<script src=\"/widget.js\" data-group="));
    }
}
