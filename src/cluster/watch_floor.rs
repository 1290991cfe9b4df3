//! A floor under watch re-establishment: at most one watch request per path every
//! [`MIN_INTERVAL`], whatever the server does. kube-runtime's watcher backs off on errors but
//! re-watches at once when a server ends a stream cleanly; a server (or proxy) that ends every
//! stream immediately would otherwise get thousands of requests a second from us — an outage
//! of our making. A tower layer inside the read-only guard: the request waits, then goes.

use http::Request;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{BoxError, Layer, Service};

/// The shortest time between two watch requests of one path.
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// The layer: wraps the client's service in [`WatchFloor`].
#[derive(Debug, Clone)]
pub struct WatchFloorLayer {
    interval: Duration,
}

impl Default for WatchFloorLayer {
    fn default() -> Self {
        WatchFloorLayer {
            interval: MIN_INTERVAL,
        }
    }
}

impl WatchFloorLayer {
    pub fn with_interval(interval: Duration) -> Self {
        WatchFloorLayer { interval }
    }
}

impl<S> Layer<S> for WatchFloorLayer {
    type Service = WatchFloor<S>;
    fn layer(&self, inner: S) -> WatchFloor<S> {
        WatchFloor {
            inner,
            interval: self.interval,
            next: Arc::default(),
        }
    }
}

/// Delays a watch request until its path's next slot.
#[derive(Debug, Clone)]
pub struct WatchFloor<S> {
    inner: S,
    interval: Duration,
    /// The earliest moment the next watch of each path may leave.
    next: Arc<Mutex<HashMap<String, Instant>>>,
}

fn is_watch(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.eq_ignore_ascii_case("watch=true") || kv == "watch=1")
    })
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<S, B> Service<Request<B>> for WatchFloor<S>
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
        let wait = if is_watch(req.uri().query()) {
            let now = Instant::now();
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let slot = next
                .get(req.uri().path())
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            next.insert(req.uri().path().to_string(), slot + self.interval);
            slot.saturating_duration_since(now)
        } else {
            Duration::ZERO
        };
        // The inner future only sends when polled (hyper's client is lazy), so waiting before
        // polling it delays the request itself.
        let fut = self.inner.call(req);
        Box::pin(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            fut.await.map_err(Into::into)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn watches_of_one_path_are_spaced_lists_are_not() {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let inner = tower::service_fn(move |_req: Request<()>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(())
            }
        });
        let mut svc = WatchFloorLayer::with_interval(Duration::from_millis(50)).layer(inner);
        let req = |q: &str| {
            Request::get(format!("/api/v1/pods?{q}"))
                .body(())
                .expect("request")
        };
        let start = Instant::now();
        for _ in 0..5 {
            svc.call(req("watch=true&resourceVersion=1"))
                .await
                .expect("call");
        }
        assert!(
            start.elapsed() >= Duration::from_millis(190),
            "{:?}",
            start.elapsed()
        );
        let start = Instant::now();
        for _ in 0..5 {
            svc.call(req("limit=500")).await.expect("call");
        }
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "lists are not delayed"
        );
        assert_eq!(sent.load(Ordering::SeqCst), 10);
    }
}
