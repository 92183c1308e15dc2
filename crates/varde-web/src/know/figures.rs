//! Public figures (the dashboard and the open-data files) served from memory and renewed in the background.
//!
//! They are made from the counted samples ([`crate::know::tally`]), whose renewal reads only the weeks that changed; the
//! rendering itself (an open-data file has a row per sample) is still worth keeping. A request never pays for it: it
//! gets the last rendering at once, and when that is older than [`FRESH`] one task (never more) renders it anew for
//! the next visitors. Only the very first request after start waits. The public figures are by week and month, so
//! being up to a minute behind changes nothing a reader can see, and a crowd sent by a severe alert costs what
//! serving bytes costs.

use std::collections::HashMap;
use std::future::Future;
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
    body: bytes::Bytes,
    renewing: bool,
}

impl FigureCache {
    /// The rendering for `key` (cheap to clone: shared bytes): the cached one (renewed in the background once stale), or, the first time, made
    /// now by `render`.
    pub async fn get<F, Fut, E>(&self, key: &str, render: F) -> Result<bytes::Bytes, E>
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
                    let result = pending.await;
                    let mut entries = entries.lock().expect("not poisoned");
                    match result {
                        Ok(body) => {
                            entries.insert(
                                key,
                                Entry { made: Instant::now(), body: bytes::Bytes::from(body), renewing: false },
                            );
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
                let body = bytes::Bytes::from(render().await?);
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
            let now = cache.get(key, || async { Err::<String, _>("not rendered here".to_owned()) }).await.unwrap();
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
        assert_eq!((a.unwrap(), b.unwrap()), (bytes::Bytes::from("rendering 1"), bytes::Bytes::from("rendering 1")));
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Fresh: served as it is.
        assert_eq!(cache.get("k", render(renders.clone())).await.unwrap(), "rendering 1");
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Stale: the old one is served at once, and exactly one renewal starts however many visitors come.
        tokio::time::sleep(Duration::from_millis(60)).await;
        for _ in 0..10 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap(), "rendering 1");
        }
        settled(&cache, "k", "rendering 2").await;
        assert_eq!(renders.load(Ordering::SeqCst), 2, "one renewal for ten stale visits");
        // A failed renewal keeps the last rendering.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let failing = || async { Err::<String, _>("the database is away".to_owned()) };
        assert_eq!(cache.get("k", failing).await.unwrap(), "rendering 2");
        // Once the failure is recorded, the next stale visit starts a renewal again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while renders.load(Ordering::SeqCst) < 3 {
            assert_eq!(cache.get("k", render(renders.clone())).await.unwrap(), "rendering 2");
            assert!(Instant::now() < deadline, "a renewal starts again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        settled(&cache, "k", "rendering 3").await;
        // Another key is its own.
        assert_eq!(cache.get("other", render(renders.clone())).await.unwrap(), "rendering 4");
    }
}
