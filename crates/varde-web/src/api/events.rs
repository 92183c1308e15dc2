//! Server-sent events: the event log as it happens. Anonymous listeners get public events (alert publications,
//! updates, withdrawals); reviewers and admins also sample findings and drafts.

use crate::AppState;
use crate::http::extract::ApiQuery;
use crate::http::extract::MaybeAuth;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Replay events after this id (as `Last-Event-ID` does); by default only new events.
    after: Option<i64>,
}

/// A stream of `sample.finding`, `alert.drafted`, `alert.published`, `alert.updated` and `alert.withdrawn` events.
#[utoipa::path(get, path = "/api/v1/events", security((), ("bearer" = [])), tag = "alerts", params(EventsQuery),
    responses((status = 200, description = "text/event-stream; each event's id is its sequence number", content_type = "text/event-stream")))]
pub async fn stream(
    State(state): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let staff = who.as_ref().is_some_and(|w| w.is_national());
    let watch = state.app.queries().event_watch();
    let newest = *watch.borrow();
    let resume =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).or(q.after);
    // An id past the newest event (a client that saw a database since restored from a backup) or not a number
    // starts a live stream from now: resuming "after" it would wait, silently, for events that may never come.
    let start = resume.filter(|r: &i64| (0..=newest).contains(r)).unwrap_or(newest);
    let stream = futures_util::stream::unfold(
        (state, watch, start, VecDeque::new()),
        move |(state, mut watch, mut cursor, mut buffer)| async move {
            loop {
                if let Some(e) = buffer.pop_front() {
                    return Some((Ok(e), (state, watch, cursor, buffer)));
                }
                if let Ok(events) = state.app.queries().events_after(cursor, 200).await
                    && let Some(last) = events.last()
                {
                    cursor = last.seq;
                    buffer.extend(events.into_iter().filter(|e| e.public || staff).map(|e| {
                        SseEvent::default().id(e.seq.to_string()).event(e.kind.clone()).data(e.payload.to_string())
                    }));
                    continue;
                }
                watch.changed().await.ok()?;
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
