//! The browser's HTTP on gloo-net: `fetch`, aborted after [`HTTP_TIMEOUT_MS`]
//! (its socket is the platform's `WebSocket`, in [`super::socket`]).

use super::HTTP_TIMEOUT_MS;
use crate::core::ClientError;
use crate::wasm::timer::set_timeout;
use gloo_net::http::Request;
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

/// POSTs `body` to `url`: the status and the reply's text.
pub async fn post(cmd: &str, url: &str, body: String) -> Result<(u16, String), ApiError> {
    let abort = AbortController::new().ok();
    let mut builder = Request::post(url).header("content-type", "application/json");
    if let Some(ctrl) = &abort {
        builder = builder.abort_signal(Some(&ctrl.signal()));
        let ctrl = ctrl.clone();
        let cb = Closure::once_into_js(move || ctrl.abort());
        let _ = set_timeout(&cb.into(), HTTP_TIMEOUT_MS as i32);
    }
    // Built first so that a malformed URL is the caller's error, not the network's.
    let request = builder
        .body(body)
        .map_err(|e| ClientError::InvalidArgument.with_message(format!("{cmd}: {e}")))?;
    let response = request.send().await.map_err(|e| {
        if abort.as_ref().is_some_and(|a| a.signal().aborted()) {
            ClientError::Timeout.with_message(format!("{cmd} timed out"))
        } else {
            ClientError::Network.with_message(format!("{cmd}: {e}"))
        }
    })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ClientError::Network.with_message(format!("{cmd}: {e}")))?;
    Ok((status, text))
}
