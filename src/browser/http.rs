//! HTTP for the core: POST the request's JSON body with `fetch` (gloo-net),
//! abort after a timeout, decode `{code, message}` and, on code 0, the typed
//! body through the core's format-agnostic `decode_reply`.

use super::js;
use crate::core::{decode_reply, ClientError, HttpRequest, ReplyBody};
use gloo_net::http::Request;
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;

/// How long a request may take (the Android client used 5 s; browsers on
/// mobile networks need more).
const TIMEOUT_MS: i32 = 15_000;

/// Sends `req` and decodes its reply.
pub async fn send(req: &HttpRequest) -> Result<ReplyBody, ApiError> {
    let body = js::to_json(&req.body)
        .ok_or_else(|| ClientError::InvalidArgument.with_message("body not serializable"))?;
    let abort = web_sys::AbortController::new().ok();
    if let Some(ctrl) = &abort {
        let ctrl = ctrl.clone();
        let cb = Closure::once_into_js(move || ctrl.abort());
        let _ = set_timeout(&cb.into(), TIMEOUT_MS);
    }
    let request = Request::post(&req.url)
        .header("content-type", "application/json")
        .abort_signal(abort.as_ref().map(|a| a.signal()).as_ref())
        .body(body)
        .map_err(|e| ClientError::InvalidArgument.with_message(e.to_string()))?;
    let response = request.send().await.map_err(|e| {
        let aborted = abort.as_ref().is_some_and(|a| a.signal().aborted());
        if aborted {
            ClientError::Timeout.with_message(format!("{} timed out", req.cmd))
        } else {
            ClientError::Network.with_message(format!("{}: {e}", req.cmd))
        }
    })?;
    if !response.ok() {
        return Err(ClientError::HttpStatus.with_message(format!(
            "{}: HTTP {}",
            req.cmd,
            response.status()
        )));
    }
    let text = response
        .text()
        .await
        .map_err(|e| ClientError::Network.with_message(format!("{}: {e}", req.cmd)))?;
    let value = js_sys::JSON::parse(&text)
        .map_err(|_| ClientError::BadReply.with_message(format!("{}: not JSON", req.cmd)))?;
    let envelope: ApiError = serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| ClientError::BadReply.with_message(format!("{}: {e}", req.cmd)))?;
    if envelope.code != 0 {
        return Err(envelope);
    }
    decode_reply(req.expect, serde_wasm_bindgen::Deserializer::from(value))
        .map_err(|e| ClientError::BadReply.with_message(format!("{}: {e}", req.cmd)))
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(f: &js_sys::Function, ms: i32) -> Result<i32, JsValue>;
}
