//! The browser's HTTP on gloo-net: `fetch`, aborted after [`HTTP_TIMEOUT_MS`]
//! (its socket is the platform's `WebSocket`, in [`super::socket`]).

use super::{object, HTTP_TIMEOUT_MS};
use crate::core::ClientError;
use crate::wasm::js;
use crate::wasm::timer::Timer;
use gloo_net::http::Request;
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit};

/// POSTs `body` to `url`: the status and the reply's text (a JS string). The
/// request is built here (a `web_sys::Request`, headers as a plain object)
/// and sent by gloo-net: its `RequestBuilder` would add the `http` crate's
/// methods and a URL and query-string rebuild that a POST of JSON does not
/// need. The body is read from the platform's `Response`, so its text stays
/// in JS until `JSON.parse` (gloo-net's `text()` copies it into the wasm).
pub async fn post(cmd: &str, url: &str, body: String) -> Result<(u16, JsValue), ApiError> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&object(&[("content-type", &"application/json".into())]));
    init.set_body(&body.into());
    let abort = AbortController::new().ok();
    // Aborts the request (and the reading of its body) when it takes too long;
    // cleared when this returns.
    let _deadline = abort.as_ref().and_then(|ctrl| {
        init.set_signal(Some(&ctrl.signal()));
        let ctrl = ctrl.clone();
        Timer::after(HTTP_TIMEOUT_MS.into(), move || ctrl.abort())
    });
    // Built first so that a malformed URL is the caller's error, not the network's.
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| {
        ClientError::InvalidArgument.with_message(format!("{cmd}: {}", js::describe(&e)))
    })?;
    let response = Request::from(request).send().await.map_err(|e| {
        if abort.as_ref().is_some_and(|a| a.signal().aborted()) {
            ClientError::Timeout.with_message(format!("{cmd} timed out"))
        } else {
            ClientError::Network.with_message(format!("{cmd}: {e}"))
        }
    })?;
    let status = response.status();
    let network =
        |e: JsValue| ClientError::Network.with_message(format!("{cmd}: {}", js::describe(&e)));
    let text = web_sys::Response::from(response).text().map_err(network)?;
    let text = JsFuture::from(text).await.map_err(network)?;
    Ok((status, text))
}
