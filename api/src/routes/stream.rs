//! A live session as Server-Sent Events: a `session` event with the full view whenever it
//! changes (checked every `stream_interval`), and a final `ended` event when it ends. Clients
//! reconnect with the standard SSE retry. An account holds at most
//! [`MAX_STREAMS_PER_ACCOUNT`] streams at once, and a stream ends when its login (or API key) does
//! (logout, a revoked token family, or the access token's expiry).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use crate::auth::Caller;
use crate::json::Path;
use crate::routes::sessions::{view, visible_session};
use crate::{ApiResult, ApiState, Problem};

/// Live streams one account may hold open at once.
pub const MAX_STREAMS_PER_ACCOUNT: usize = 4;

/// One open stream counted against its account; released when the stream is dropped.
struct StreamSlot {
    state: ApiState,
    account: chargegrid_core::DriverId,
}

impl StreamSlot {
    fn take(state: &ApiState, account: &chargegrid_core::DriverId) -> Option<Self> {
        let mut open = state.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(account.clone()).or_default();
        if *n >= MAX_STREAMS_PER_ACCOUNT {
            return None;
        }
        *n += 1;
        Some(Self {
            state: state.clone(),
            account: account.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.state.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.account);
            }
        }
    }
}

/// Follow a session live (text/event-stream).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/events", tag = "charging", security(("bearer" = [])),
    params(("session" = String, Path, description = "session id")),
    responses((status = 200, description = "text/event-stream of `session` events, then `ended`", content_type = "text/event-stream"),
        (status = 401, body = crate::Problem), (status = 404, body = crate::Problem), (status = 429, body = crate::Problem)))]
pub(crate) async fn events(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let session = visible_session(&state, &caller, &id).await?;
    let slot = StreamSlot::take(&state, &caller.driver.id).ok_or_else(|| {
        Problem::too_many_requests().detail(format!(
            "at most {MAX_STREAMS_PER_ACCOUNT} live streams per account; close one first"
        ))
    })?;
    let interval = state.config.stream_interval;
    let stream = futures::stream::unfold(
        (state, session.id, None::<String>, false, true, slot, caller),
        move |(state, id, last, done, first, slot, caller)| async move {
            if done {
                return None;
            }
            if !first {
                tokio::time::sleep(interval).await;
            }
            loop {
                if !caller.still_holds(&state).await {
                    return None;
                }
                let current = match state.store.get_session(&id).await {
                    Ok(Some(s)) => s,
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "session stream: store unavailable");
                        tokio::time::sleep(interval.max(Duration::from_millis(100))).await;
                        continue;
                    }
                };
                let Ok(v) = view(&state, &current).await else {
                    tokio::time::sleep(interval).await;
                    continue;
                };
                let body = serde_json::to_string(&v).unwrap_or_default();
                let ended = !current.is_active();
                if last.as_deref() != Some(body.as_str()) || ended {
                    let event = Event::default()
                        .event(if ended { "ended" } else { "session" })
                        .data(body.clone());
                    return Some((
                        Ok(event),
                        (state, id, Some(body), ended, false, slot, caller),
                    ));
                }
                tokio::time::sleep(interval).await;
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
