//! Public figures (the dashboard and the open-data files) served from memory and renewed in the background.
//!
//! They are made from the counted samples ([`crate::know::tally`]), whose renewal reads only the weeks that changed; the
//! rendering itself (an open-data file has a row per sample) is still worth keeping. A request never pays for it: it
//! gets the last rendering at once, and when that is older than [`FRESH`] one task (never more) renders it anew for
//! the next visitors. Only the very first request after start waits. The public figures are by week and month, so
//! being up to a minute behind changes nothing a reader can see, and a crowd sent by a severe alert costs what
//! serving bytes costs. Each rendering is gzip-compressed once, when it is made, for the clients that accept it
//! (browsers and `curl --compressed` do): a cheap phone downloads a tenth of the page, and no request compresses.

use crate::config::figures::{FRESH, KEEP_PLAIN};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A rendering, gzip-compressed as it was written (cheap to clone: shared bytes). The plain text is kept beside
/// it only when small (a page); a large file (an open-data file has a row per sample) exists whole only compressed,
/// a tenth of its size, and the few clients that do not accept gzip get it unpacked as it streams out.
#[derive(Debug, Clone)]
pub struct Rendering {
    plain: Option<Bytes>,
    gzip: Bytes,
}

/// Writes into the compressor, and into a plain copy while that stays small.
struct Tee {
    gzip: flate2::write::GzEncoder<Vec<u8>>,
    plain: Option<Vec<u8>>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.gzip.write_all(buf)?;
        if self.plain.as_ref().is_some_and(|p| p.len() + buf.len() > KEEP_PLAIN) {
            self.plain = None;
        }
        if let Some(p) = &mut self.plain {
            p.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Rendering {
    /// A rendering made by `write`, run off the async workers (writing and compressing a million rows takes a
    /// moment).
    pub async fn write<F>(write: F) -> std::io::Result<Rendering>
    where
        F: FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
    {
        tokio::task::spawn_blocking(move || {
            let mut tee = Tee {
                gzip: flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()),
                plain: Some(Vec::new()),
            };
            write(&mut tee)?;
            Ok(Rendering { plain: tee.plain.map(Bytes::from), gzip: Bytes::from(tee.gzip.finish()?) })
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// A file shipped in the binary (a style sheet, a script), compressed once, when first asked for.
    pub fn of_static(body: &'static [u8]) -> Rendering {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(body).expect("writing to memory does not fail");
        let gzip = gzip.finish().expect("writing to memory does not fail");
        Rendering { plain: Some(Bytes::from_static(body)), gzip: Bytes::from(gzip) }
    }

    /// A small rendering already made (a page).
    pub async fn make(body: String) -> std::io::Result<Rendering> {
        Rendering::write(move |out| out.write_all(body.as_bytes())).await
    }

    /// The response: compressed when the request accepts gzip; otherwise plain (streamed out unpacked, piece by
    /// piece, when only the compressed form is kept).
    pub fn respond(self, request: &HeaderMap, content_type: &'static str, cache_control: &'static str) -> Response {
        let head = [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache_control)];
        let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
        if accepts_gzip(request) {
            return (head, [vary, (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))], self.gzip)
                .into_response();
        }
        if let Some(plain) = self.plain {
            return (head, [vary], plain).into_response();
        }
        let decoder = flate2::read::GzDecoder::new(bytes::Buf::reader(self.gzip));
        let pieces = futures_util::stream::unfold(decoder, |mut decoder| async move {
            let mut piece = vec![0u8; 64 * 1024];
            match std::io::Read::read(&mut decoder, &mut piece) {
                Ok(0) => None,
                Ok(n) => {
                    piece.truncate(n);
                    Some((Ok::<_, std::io::Error>(Bytes::from(piece)), decoder))
                }
                Err(e) => Some((Err(e), decoder)),
            }
        });
        (head, [vary], axum::body::Body::from_stream(pieces)).into_response()
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
        Fut: Future<Output = Result<Rendering, E>> + Send + 'static,
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
                    let result = pending.await;
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
                let body = render().await?;
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
impl Rendering {
    /// The plain text, unpacked if it is kept only compressed.
    pub fn plain(&self) -> Bytes {
        match &self.plain {
            Some(p) => p.clone(),
            None => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&self.gzip[..]), &mut out)
                    .expect("our own compression unpacks");
                Bytes::from(out)
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
                cache.get(key, || async { Err::<Rendering, _>("not rendered here".to_owned()) }).await.unwrap().plain();
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
                Ok::<_, String>(Rendering::make(format!("rendering {n}")).await.unwrap())
            }
        };
        // The first request waits for the first rendering; concurrent first requests share it.
        let (a, b) = tokio::join!(cache.get("k", render(renders.clone())), cache.get("k", render(renders.clone())));
        assert_eq!((a.unwrap().plain(), b.unwrap().plain()), (Bytes::from("rendering 1"), Bytes::from("rendering 1")));
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Fresh: served as it is.
        assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain(), "rendering 1");
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Stale: the old one is served at once, and exactly one renewal starts however many visitors come.
        tokio::time::sleep(Duration::from_millis(60)).await;
        for _ in 0..10 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain(), "rendering 1");
        }
        settled(&cache, "k", "rendering 2").await;
        assert_eq!(renders.load(Ordering::SeqCst), 2, "one renewal for ten stale visits");
        // A failed renewal keeps the last rendering.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let failing = || async { Err::<Rendering, _>("the database is away".to_owned()) };
        assert_eq!(cache.get("k", failing).await.unwrap().plain(), "rendering 2");
        // Once the failure is recorded, the next stale visit starts a renewal again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while renders.load(Ordering::SeqCst) < 3 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap().plain(), "rendering 2");
            assert!(Instant::now() < deadline, "a renewal starts again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        settled(&cache, "k", "rendering 3").await;
        // Another key is its own.
        assert_eq!(cache.get("other", render(renders.clone())).await.unwrap().plain(), "rendering 4");
    }

    #[tokio::test]
    async fn a_rendering_is_served_compressed_to_clients_that_accept_gzip() {
        use std::io::Read;
        let body = "period,area\n".to_owned() + &"2026-W47,03\n".repeat(10_000);
        let r = Rendering::make(body.clone()).await.unwrap();
        assert!(r.gzip.len() * 10 < body.len(), "{} bytes compressed from {}", r.gzip.len(), body.len());
        assert_eq!(r.plain.as_deref(), Some(body.as_bytes()), "a small rendering is kept plain too");
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

    #[tokio::test]
    async fn a_large_rendering_is_kept_only_compressed_and_streamed_out_unpacked() {
        let row = |i: usize| format!("2026-W{:02},{:02},tablet,stimulant,mdma,moderate\n", i % 52 + 1, i % 50);
        let r =
            Rendering::write(move |out| (0..100_000).try_for_each(|i| out.write_all(row(i).as_bytes()))).await.unwrap();
        assert!(r.plain.is_none(), "not kept plain");
        let expected: String = (0..100_000).map(row).collect();
        assert!(expected.len() > KEEP_PLAIN);
        assert_eq!(r.plain(), expected.as_bytes());
        let res = r.respond(&HeaderMap::new(), "text/csv", "no-store");
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body, expected.as_bytes());
    }
}
