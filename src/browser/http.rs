//! HTTP for the core: POST the request's JSON body with the global `fetch`,
//! abort after a timeout, decode `{code, message}` and, on code 0, the typed
//! body through the core's format-agnostic `decode_reply`.

use super::{de, js};
use crate::core::{decode_reply, ClientError, HttpRequest, ReplyBody};
use js_sys::{Object, Promise, Reflect};
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Request, RequestInit, Response};

/// How long a request may take (the Android client used 5 s; browsers on
/// mobile networks need more).
const TIMEOUT_MS: i32 = 15_000;

/// Sends `req` and decodes its reply.
pub async fn send(req: &HttpRequest) -> Result<ReplyBody, ApiError> {
    let body = js::to_json(&req.body)
        .ok_or_else(|| ClientError::InvalidArgument.with_message("body not serializable"))?;
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = Object::new();
    let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
    init.set_headers(&headers);
    init.set_body(&body.into());
    let abort = AbortController::new().ok();
    if let Some(ctrl) = &abort {
        init.set_signal(Some(&ctrl.signal()));
        let ctrl = ctrl.clone();
        let cb = Closure::once_into_js(move || ctrl.abort());
        let _ = set_timeout(&cb.into(), TIMEOUT_MS);
    }
    // Built first so that a malformed URL is the caller's error, not the network's.
    let request = Request::new_with_str_and_init(&req.url, &init)
        .map_err(|e| ClientError::InvalidArgument.with_message(js::error_text(&e)))?;
    let response = JsFuture::from(fetch(&request)).await.map_err(|e| {
        let aborted = abort.as_ref().is_some_and(|a| a.signal().aborted());
        if aborted {
            ClientError::Timeout.with_message(format!("{} timed out", req.cmd))
        } else {
            ClientError::Network.with_message(format!("{}: {}", req.cmd, js::error_text(&e)))
        }
    })?;
    let response: Response = response.unchecked_into();
    if !response.ok() {
        return Err(ClientError::HttpStatus.with_message(format!(
            "{}: HTTP {}",
            req.cmd,
            response.status()
        )));
    }
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    }
    .map_err(|e| {
        ClientError::Network.with_message(format!("{}: {}", req.cmd, js::error_text(&e)))
    })?;
    let value = js_sys::JSON::parse(&text.as_string().unwrap_or_default())
        .map_err(|_| ClientError::BadReply.with_message(format!("{}: not JSON", req.cmd)))?;
    let envelope: ApiError = de::from_value(value.clone())
        .map_err(|e| ClientError::BadReply.with_message(format!("{}: {e}", req.cmd)))?;
    if envelope.code != 0 {
        return Err(envelope);
    }
    decode_reply(req.expect, de::Deserializer::from(value))
        .map_err(|e| ClientError::BadReply.with_message(format!("{}: {e}", req.cmd)))
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker alike).
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(request: &Request) -> Promise;
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(f: &js_sys::Function, ms: i32) -> Result<i32, JsValue>;
}
