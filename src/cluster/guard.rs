//! The read-only guard: a tower layer at the outside of the kube client's service stack, so
//! every request any code builds passes through it before a byte is sent.
//!
//! Allowed: GET (and HEAD) of anything but Secrets — lists, single objects, watches, logs,
//! `/version`, discovery — and the POST of a SelfSubjectAccessReview or
//! SelfSubjectRulesReview (which ask the server what *we* may do, and change nothing).
//! Everything else is refused with [`Refused`], a typed error, without calling the inner
//! service.

use http::{Method, Request};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{BoxError, Layer, Service};

/// The POST paths that are reads in disguise: questions about our own permissions.
const SELF_REVIEWS: [&str; 2] = [
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
];

/// A request the guard would not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("read-only: refused to send {method} {path} (Sextant only reads: {why})")]
pub struct Refused {
    pub method: String,
    pub path: String,
    pub why: &'static str,
}

/// Whether a request may leave. `path` is the URI path (no query).
pub fn check(method: &Method, path: &str) -> Result<(), Refused> {
    let refuse = |why| {
        Err(Refused {
            method: method.to_string(),
            path: path.to_string(),
            why,
        })
    };
    if *method == Method::GET || *method == Method::HEAD {
        return match classify(path) {
            Target::Secrets => refuse("Secrets are never read"),
            Target::Subresource => refuse(
                "of subresources only log, status and scale are read (no exec, attach, port-forward or proxy)",
            ),
            Target::Read => Ok(()),
        };
    }
    if *method == Method::POST && SELF_REVIEWS.contains(&path.trim_end_matches('/')) {
        return Ok(());
    }
    refuse("only GET/LIST/WATCH and self access reviews are allowed")
}

/// Subresources a GET may read. Everything else — `exec`, `attach`, `portforward` (websocket
/// upgrades are GETs), `proxy` — is refused even though nothing in Sextant calls it: the
/// guard exists for the day something does.
const READABLE_SUBRESOURCES: [&str; 3] = ["log", "status", "scale"];

enum Target {
    Read,
    Secrets,
    Subresource,
}

/// What a GET path addresses, wherever the API root sits (a server URL may carry a path
/// prefix, e.g. a Rancher proxy's `/k8s/clusters/c-1/api/v1/…`) and in any case.
fn classify(path: &str) -> Target {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let Some(root) = lower.iter().position(|s| s == "api" || s == "apis") else {
        return Target::Read; // /version, /healthz, /openapi …
    };
    let skip = if lower[root] == "api" { 2 } else { 3 };
    let mut rest: &[String] = lower.get(root + skip..).unwrap_or(&[]);
    // The deprecated proxy verb: /api/v1/proxy/…
    if rest.first().is_some_and(|s| s == "proxy") {
        return Target::Subresource;
    }
    if rest.first().is_some_and(|s| s == "watch") {
        rest = &rest[1..];
    }
    let (resource, after_name) = match rest {
        [ns, _, resource, tail @ ..] if ns == "namespaces" => (resource.as_str(), tail.get(1..)),
        [ns, _name, sub @ ..] if ns == "namespaces" => ("namespaces", Some(sub)),
        [resource, tail @ ..] => (resource.as_str(), tail.get(1..)),
        [] => return Target::Read,
    };
    if resource == "secrets" {
        return Target::Secrets;
    }
    match after_name.and_then(|sub| sub.first()) {
        Some(sub) if !READABLE_SUBRESOURCES.contains(&sub.as_str()) => Target::Subresource,
        _ => Target::Read,
    }
}

/// The layer: wraps the kube client's service in [`ReadOnly`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnlyLayer;

impl<S> Layer<S> for ReadOnlyLayer {
    type Service = ReadOnly<S>;
    fn layer(&self, inner: S) -> ReadOnly<S> {
        ReadOnly { inner }
    }
}

/// A service that only forwards requests [`check`] allows.
#[derive(Debug, Clone)]
pub struct ReadOnly<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<S, B> Service<Request<B>> for ReadOnly<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let allowed = check(req.method(), req.uri().path());
        crate::audit::record(
            "cluster_request",
            serde_json::json!({
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "query": req.uri().query().unwrap_or(""),
                "allowed": allowed.is_ok(),
            }),
        );
        if let Err(refused) = allowed {
            tracing::error!(%refused, "blocked a request");
            return Box::pin(async move { Err(Box::new(refused) as BoxError) });
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// The [`Refused`] inside a kube error, if that is what it is.
pub fn refused(e: &kube::Error) -> Option<&Refused> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return Some(r);
        }
        src = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_writes_do_not() {
        for p in [
            "/api/v1/pods",
            "/api/v1/namespaces/shop/pods/cart/log",
            "/apis/apps/v1/namespaces/shop/deployments",
            "/api/v1/namespaces/secrets",
            "/version",
            "/apis",
        ] {
            assert_eq!(check(&Method::GET, p), Ok(()), "{p}");
        }
        for m in [Method::DELETE, Method::PATCH, Method::PUT, Method::POST] {
            assert!(
                check(&m, "/api/v1/namespaces/shop/pods/cart").is_err(),
                "{m}"
            );
        }
        assert!(check(&Method::POST, "/api/v1/namespaces/shop/pods/cart/eviction").is_err());
        assert!(check(&Method::POST, "/api/v1/namespaces/shop/pods/cart/exec").is_err());
        assert!(
            check(
                &Method::POST,
                "/apis/authorization.k8s.io/v1/subjectaccessreviews"
            )
            .is_err()
        );
        for p in SELF_REVIEWS {
            assert_eq!(check(&Method::POST, p), Ok(()));
        }
    }

    #[test]
    fn only_readable_subresources() {
        for p in [
            "/api/v1/namespaces/shop/pods/cart/log",
            "/apis/apps/v1/namespaces/shop/deployments/web/status",
            "/apis/apps/v1/namespaces/shop/deployments/web/scale",
            "/api/v1/namespaces/shop",
            "/api/v1/namespaces/shop/status",
            "/api/v1/watch/namespaces/shop/pods",
            "/k8s/clusters/c-1/api/v1/namespaces/shop/pods",
        ] {
            assert_eq!(check(&Method::GET, p), Ok(()), "{p}");
        }
        for p in [
            "/api/v1/namespaces/shop/pods/cart/exec",
            "/api/v1/namespaces/shop/pods/cart/attach",
            "/api/v1/namespaces/shop/pods/cart/portforward",
            "/api/v1/namespaces/shop/pods/cart/proxy",
            "/api/v1/namespaces/shop/services/web:80/proxy/admin",
            "/api/v1/nodes/n1/proxy/configz",
            "/api/v1/proxy/namespaces/shop/pods/cart",
            "/API/V1/namespaces/shop/pods/cart/EXEC",
            "/prefix/api/v1/namespaces/shop/pods/cart/exec",
        ] {
            let e = check(&Method::GET, p).expect_err(p);
            assert!(e.to_string().contains("subresources"), "{e}");
        }
    }

    #[test]
    fn secrets_are_never_fetched() {
        for p in [
            "/api/v1/secrets",
            "/api/v1/namespaces/shop/secrets",
            "/api/v1/namespaces/shop/secrets/db",
            "/api/v1/namespaces/shop/Secrets/db",
            "/api/v1/watch/secrets",
            "/api/v1/watch/namespaces/shop/secrets",
            "/API/V1/SECRETS",
            "/k8s/clusters/c-1/api/v1/namespaces/shop/secrets",
        ] {
            let e = check(&Method::GET, p).expect_err(p);
            assert!(e.to_string().contains("Secrets are never read"), "{e}");
        }
    }
}
