//! The browser transport on gloo-net: `fetch` (aborted after
//! [`HTTP_TIMEOUT_MS`]) and a `WebSocket` read by a task of its own.

use super::HTTP_TIMEOUT_MS;
use crate::core::{ClientError, ConnId};
use crate::wasm::driver::{socket_closed, socket_text, Weak};
use crate::wasm::timer::set_timeout;
use futures_core::Stream;
use futures_sink::Sink;
use gloo_net::http::Request;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use rtcroom_protocol::ApiError;
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
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

/// A gloo-net WebSocket shared by its handle and its reader task.
pub struct Socket(Rc<Shared>);

struct Shared {
    ws: RefCell<Option<WebSocket>>,
    /// The reader task's waker, to end it when the handle closes the socket.
    reader: RefCell<Option<Waker>>,
    /// Closed by the core: report nothing more.
    quiet: Cell<bool>,
}

impl Socket {
    /// Opens `url`; its frames and its close go to `driver` tagged `conn`.
    pub fn open(url: &str, conn: ConnId, driver: Weak) -> Result<Self, String> {
        let ws = WebSocket::open(url).map_err(|e| e.to_string())?;
        let shared = Rc::new(Shared {
            ws: RefCell::new(Some(ws)),
            reader: RefCell::new(None),
            quiet: Cell::new(false),
        });
        let me = shared.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let reason = loop {
                let next = std::future::poll_fn(|cx| {
                    *me.reader.borrow_mut() = Some(cx.waker().clone());
                    match me.ws.borrow_mut().as_mut() {
                        Some(ws) => Pin::new(ws).poll_next(cx),
                        None => Poll::Ready(None),
                    }
                })
                .await;
                match next {
                    Some(Ok(Message::Text(text))) => socket_text(&driver, conn, &text),
                    Some(Ok(Message::Bytes(_))) => {} // the server sends text only
                    Some(Err(WebSocketError::ConnectionClose(e))) => {
                        break format!("closed: {} {}", e.code, e.reason)
                    }
                    Some(Err(_)) => {} // an error event; its close follows
                    None => break "closed".to_owned(),
                }
            };
            me.ws.borrow_mut().take();
            if !me.quiet.get() {
                socket_closed(&driver, conn, reason);
            }
        });
        Ok(Socket(shared))
    }

    /// Sends a text frame.
    pub fn send(&self, text: &str) {
        if let Some(ws) = self.0.ws.borrow_mut().as_mut() {
            // gloo's start_send is a plain `WebSocket.send`; a socket that is
            // not open reports its close.
            let _ = Pin::new(ws).start_send(Message::Text(text.to_owned()));
        }
    }

    /// Closes it; the reader reports the close.
    pub fn drop_connection(&self) {
        let ws = self.0.ws.borrow_mut().take();
        drop(ws);
        if let Some(w) = self.0.reader.borrow_mut().take() {
            w.wake();
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.0.quiet.set(true);
        self.drop_connection();
    }
}
