//! Public figures (the dashboard and the open-data files) served from memory and renewed in the background.
//!
//! They are made from the counted samples ([`crate::know::tally`]), whose renewal reads only the weeks that changed; the
//! rendering itself (an open-data file has a row per sample) is still worth keeping. A request never pays for it: it
//! gets the last rendering at once, and when that is older than [`FRESH`] one task (never more) renders it anew for
//! the next visitors. Only the very first request after start waits. The public figures are by week and month, so
//! being up to a minute behind changes nothing a reader can see, and a crowd sent by a severe alert costs what
//! serving bytes costs. Each rendering is gzip-compressed once, when it is made, for the clients that accept it
//! (browsers and `curl --compressed` do): a cheap phone downloads a tenth of the page, and no request compresses.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How old a rendering may be before the next request starts a new one.
pub const FRESH: Duration = Duration::from_secs(60);

pub struct FigureCache {
    fresh: Duration,
    /// Shared with the background renewals.
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// The first rendering of a key: later requests for it wait for that one instead of starting their own.
    first: tokio::sync::Mutex<()>,
}

impl Default for FigureCache {
    fn default() -> FigureCache {
        FigureCache::new(FRESH)
    }
}

impl FigureCache {
    /// A cache whose renderings are renewed once older than `fresh`.
    pub fn new(fresh: Duration) -> FigureCache {
        FigureCache { fresh, entries: Arc::default(), first: tokio::sync::Mutex::new(()) }
    }
}

struct Entry {
    made: Instant,
    body: Rendering,
    renewing: bool,
}

/// A rendering as made and as gzip-compressed (cheap to clone: shared bytes).
#[derive(Debug, Clone)]
pub struct Rendering {
    pub plain: Bytes,
    pub gzip: Bytes,
}

impl Rendering {
    /// Compresses `body` off the async workers (a million-row file takes a moment).
    pub async fn make(body: String) -> Rendering {
        let plain = Bytes::from(body);
        let input = plain.clone();
        let gzip = tokio::task::spawn_blocking(move || {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&input).and_then(|()| encoder.finish())
        })
        .await
        .ok()
        .and_then(Result::ok)
        .map(Bytes::from)
        // Compression into memory does not fail; were it to, clients get the plain bytes.
        .unwrap_or_else(|| plain.clone());
        Rendering { plain, gzip }
    }

    /// The response: compressed when the request accepts gzip, as is otherwise.
    pub fn respond(self, request: &HeaderMap, content_type: &'static str, cache_control: &'static str) -> Response {
        let head = [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache_control)];
        let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
        if accepts_gzip(request) && self.gzip != self.plain {
            (head, [vary, (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))], self.gzip).into_response()
        } else {
            (head, [vary], self.plain).into_response()
        }
    }
}

/// Whether `Accept-Encoding` names gzip (or `*`) without `q=0`.
pub fn accepts_gzip(request: &HeaderMap) -> bool {
    request.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused =
                parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

impl FigureCache {
    /// The rendering for `key` (cheap to clone: shared bytes): the cached one (renewed in the background once stale), or, the first time, made
    /// now by `render`.
    pub async fn get<F, Fut, E>(&self, key: &str, render: F) -> Result<Rendering, E>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let stale = {
            let mut entries = self.entries.lock().expect("not poisoned");
            match entries.get_mut(key) {
                Some(e) => {
                    let renew = e.made.elapsed() >= self.fresh && !e.renewing;
                    if renew {
                        e.renewing = true;
                    }
                    Some((e.body.clone(), renew))
                }
                None => None,
            }
        };
        match stale {
            Some((body, false)) => Ok(body),
            Some((body, true)) => {
                // Renewed off the request: this visitor gets the last rendering now.
                let (key, pending, entries) = (key.to_owned(), render(), self.entries.clone());
                tokio::spawn(async move {
                    let result = match pending.await {
                        Ok(body) => Ok(Rendering::make(body).await),
                        Err(e) => Err(e),
                    };
                    let mut entries = entries.lock().expect("not poisoned");
                    match result {
                        Ok(body) => {
                            entries.insert(key, Entry { made: Instant::now(), body, renewing: false });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, key, "renewing public figures failed; the last ones stay");
                            if let Some(entry) = entries.get_mut(&key) {
                                entry.renewing = false;
                            }
                        }
                    }
                });
                Ok(body)
            }
            None => {
                let _first = self.first.lock().await;
                if let Some(e) = self.entries.lock().expect("not poisoned").get(key) {
                    return Ok(e.body.clone());
                }
                let body = Rendering::make(render().await?).await;
                self.entries
                    .lock()
                    .expect("not poisoned")
                    .insert(key.to_owned(), Entry { made: Instant::now(), body: body.clone(), renewing: false });
                Ok(body)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Waits (up to 5 s, for a loaded machine) until `key` serves `body` from the cache without starting a render.
    async fn settled(cache: &FigureCache, key: &str, body: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let now =
                cache.get(key, || async { Err::<String, _>("not rendered here".to_owned()) }).await.unwrap().plain;
            if now == body {
                return;
            }
            assert!(Instant::now() < deadline, "still {now:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn visitors_get_the_last_rendering_while_one_renewal_runs_in_the_background() {
        let cache = FigureCache::new(Duration::from_millis(50));
        let renders = Arc::new(AtomicUsize::new(0));
        let render = |renders: Arc<AtomicUsize>| {
            move || async move {
                let n = renders.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, String>(format!("rendering {n}"))
            }
        };
        // The first request waits for the first rendering; concurrent first requests share it.
        let (a, b) = tokio::join!(cache.get("k", render(renders.clone())), cache.get("k", render(renders.clone())));
        assert_eq!((a.unwrap().plain, b.unwrap().plain), (Bytes::from("rendering 1"), Bytes::from("rendering 1")));
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Fresh: served as it is.
        assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain, "rendering 1");
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Stale: the old one is served at once, and exactly one renewal starts however many visitors come.
        tokio::time::sleep(Duration::from_millis(60)).await;
        for _ in 0..10 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain, "rendering 1");
        }
        settled(&cache, "k", "rendering 2").await;
        assert_eq!(renders.load(Ordering::SeqCst), 2, "one renewal for ten stale visits");
        // A failed renewal keeps the last rendering.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let failing = || async { Err::<String, _>("the database is away".to_owned()) };
        assert_eq!(cache.get("k", failing).await.unwrap().plain, "rendering 2");
        // Once the failure is recorded, the next stale visit starts a renewal again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while renders.load(Ordering::SeqCst) < 3 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain, "rendering 2");
            assert!(Instant::now() < deadline, "a renewal starts again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        settled(&cache, "k", "rendering 3").await;
        // Another key is its own.
        assert_eq!(cache.get("other", render(renders.clone())).await.unwrap().plain, "rendering 4");
    }

    #[tokio::test]
    async fn a_rendering_is_served_compressed_to_clients_that_accept_gzip() {
        use std::io::Read;
        let body = "period,area\n".to_owned() + &"2026-W47,03\n".repeat(10_000);
        let r = Rendering::make(body.clone()).await;
        assert!(r.gzip.len() * 10 < r.plain.len(), "{} bytes compressed from {}", r.gzip.len(), r.plain.len());
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&r.gzip[..]).read_to_string(&mut unpacked).unwrap();
        assert_eq!(unpacked, body);

        let headers = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            h
        };
        for (accept, gzip) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, GZIP;q=0.5", true),
            ("*", true),
            ("gzip;q=0", false),
            ("deflate", false),
            ("identity", false),
        ] {
            let res = r.clone().respond(&headers(accept), "text/csv", "public, max-age=300");
            assert_eq!(res.headers().get(header::CONTENT_ENCODING).is_some(), gzip, "{accept}");
            assert_eq!(res.headers()[header::VARY], "accept-encoding");
        }
        assert!(r.respond(&HeaderMap::new(), "text/csv", "no-store").headers().get(header::CONTENT_ENCODING).is_none());
    }
}
