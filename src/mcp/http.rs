//! `sextant mcp --http ADDR`: the same server over MCP's streamable HTTP transport, for agents
//! that connect to a URL rather than spawn a process.
//!
//! Bound to 127.0.0.1 unless an address says otherwise. Beyond loopback a bearer token is
//! required (refused at start without one), because anyone who can reach the port would
//! otherwise read the cluster state through the tools; when a token is configured it is
//! required on loopback too. The token is compared in constant time and never logged. On
//! loopback the SDK's Host check (against DNS rebinding) stays on.

use super::SextantMcp;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

/// The path the MCP endpoint answers on.
pub const PATH: &str = "/mcp";

/// Where to listen: `8811` or `:8811` (loopback), `HOST:PORT`, `[::1]:8811`.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let with_host = if let Some(port) = s.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else if s.parse::<u16>().is_ok() {
        format!("127.0.0.1:{s}")
    } else {
        s.to_string()
    };
    use std::net::ToSocketAddrs;
    with_host
        .to_socket_addrs()
        .map_err(|e| format!("--http {s}: {e} (expected PORT or HOST:PORT)"))?
        .next()
        .ok_or_else(|| format!("--http {s}: resolves to no address"))
}

/// Connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's headers (slowloris).
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether the token is required for `addr`, and the reason to refuse when it is missing.
pub fn check_exposure(addr: &SocketAddr, token: Option<&str>) -> Result<(), String> {
    // A token of blanks is no token (an unset variable written as `"   "`).
    if addr.ip().is_loopback() || token.is_some_and(|t| !t.trim().is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "--http {addr}: beyond loopback a bearer token is required (set SEXTANT_MCP_TOKEN or --token-file)"
        ))
    }
}

/// Equal bytes, compared without an early exit (no timing hint about the token).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(headers: &http::HeaderMap, token: &str) -> bool {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim().as_bytes(), token.as_bytes()))
}

type Body = BoxBody<Bytes, Infallible>;

fn plain(status: http::StatusCode, text: &'static str) -> http::Response<Body> {
    let mut r = http::Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == http::StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

/// Serve until Ctrl-C. `on_ready` is told the bound address (port 0 picks a free one).
pub async fn serve(
    server: SextantMcp,
    addr: SocketAddr,
    token: Option<String>,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--http {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let mut config = StreamableHttpServerConfig::default();
    if !bound.ip().is_loopback() {
        // Reached by name from elsewhere: the token, not the Host header, guards it.
        config = config.disable_allowed_hosts();
    }
    let cancel = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let token: Option<Arc<str>> = token
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(Arc::from);
    // Bounded: at most this many connections at once, each must send its headers in time.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    on_ready(bound);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "mcp http: accept failed");
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "mcp http: connection refused, {MAX_CONNECTIONS} already open");
            drop(stream);
            continue;
        };
        let service = service.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let handler = hyper::service::service_fn(
                move |req: http::Request<hyper::body::Incoming>| {
                    let mut service = service.clone();
                    let token = token.clone();
                    async move {
                        if let Some(t) = &token
                            && !authorized(req.headers(), t)
                        {
                            tracing::info!(%peer, "mcp http: request without a valid bearer token refused");
                            return Ok::<_, Infallible>(plain(
                                http::StatusCode::UNAUTHORIZED,
                                "a bearer token is required\n",
                            ));
                        }
                        if req.uri().path() != PATH {
                            return Ok(plain(
                                http::StatusCode::NOT_FOUND,
                                "the MCP endpoint is /mcp\n",
                            ));
                        }
                        tower::Service::call(&mut service, req).await
                    }
                },
            );
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, handler)
                .await
            {
                tracing::debug!(%peer, error = %e, "mcp http: connection ended");
            }
        });
    }
    cancel.cancel();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(parse_addr("8811").ok(), "127.0.0.1:8811".parse().ok());
        assert_eq!(parse_addr(":8811").ok(), "127.0.0.1:8811".parse().ok());
        assert_eq!(parse_addr("0.0.0.0:9").ok(), "0.0.0.0:9".parse().ok());
        assert!(parse_addr("nope:x").is_err());
    }

    #[test]
    fn beyond_loopback_needs_a_token() {
        let lo: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:1".parse().expect("addr");
        assert!(check_exposure(&lo, None).is_ok());
        assert!(check_exposure(&any, None).is_err());
        assert!(check_exposure(&any, Some("")).is_err());
        assert!(check_exposure(&any, Some("   ")).is_err());
        assert!(check_exposure(&any, Some("t0k")).is_ok());
    }

    #[test]
    fn bearer_tokens_compare_exactly() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(authorized(&h, "s3cret"));
        assert!(!authorized(&h, "s3cre"));
        assert!(!authorized(&h, "s3cretX"));
        assert!(!authorized(&http::HeaderMap::new(), "s3cret"));
    }
}
