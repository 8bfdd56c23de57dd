//! The original RoomService's remaining `utils/` helpers:
//! `get_test_pushurl` and `get_test_rtmpaccurl` (debug mode only: a test
//! stream's signed push and play URLs, in the original's answer shapes) and
//! `report` (the clients' event reports: accepted, logged, counted in
//! `/metrics`). None needs a token, as in the original.

use crate::json::parse_body;
use crate::service::{now_ms, RoomService};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rtcroom_protocol::http::{ClientReport, Reply, TestPushUrls, TestRtmpAccUrl};
use rtcroom_protocol::{ApiError, ErrorCode, UserId};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Bytes of a report's `data` written to the log at most.
const LOGGED_REPORT_BYTES: usize = 1024;

pub(crate) fn json<T: Serialize>(svc: &RoomService, result: Result<T, ApiError>) -> Response {
    let (status, text) = match result {
        Ok(body) => (
            StatusCode::OK,
            serde_json::to_string(&Reply {
                code: 0,
                message: "ok".into(),
                body,
            }),
        ),
        Err(e) => {
            svc.metrics.error(e.code);
            let status = if e.code == ErrorCode::DebugDisabled.code() {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            (status, serde_json::to_string(&e))
        }
    };
    let text = text.unwrap_or_else(|_| r#"{"code":-1,"message":"internal server error"}"#.into());
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

/// A fresh test user of the first app, `test-{hex}`, whose stream `{bizid}_{app}_test-{hex}`
/// the on_publish hook accepts like any user's.
pub(crate) fn test_user(svc: &RoomService) -> Result<(u64, UserId), ApiError> {
    if !svc.config.debug {
        return Err(ErrorCode::DebugDisabled.into());
    }
    let app = svc
        .config
        .apps
        .first()
        .map(|a| a.sdk_app_id)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownSdkAppId))?;
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::new(ErrorCode::Internal))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let user =
        UserId::new(format!("test-{hex}")).map_err(|_| ApiError::new(ErrorCode::Internal))?;
    Ok((app, user))
}

/// `utils/get_test_pushurl` (debug mode only). Push URLs are signed for a
/// login session, so the test user gets one (it ends with the token TTL).
pub async fn test_push_url(State(svc): State<Arc<RoomService>>) -> Response {
    let now_ms = now_ms();
    let now = (now_ms / 1000) as i64;
    let result = match test_user(&svc) {
        Ok((app, user)) => {
            let stream = svc.stream_of(app, &user);
            svc.open_session(crate::store::UserKey { app, user }, now_ms)
                .await
                .map(|session| (stream, session))
        }
        Err(e) => Err(e),
    };
    let result = result.map(|(stream, session)| {
        let signer = svc.signer();
        TestPushUrls {
            url_push: signer.push_url(&stream, &session, now),
            url_play_flv: String::new(),
            url_play_rtmp: format!("rtmp://{}/live/{stream}", signer.play_host),
            url_play_hls: String::new(),
            url_play_acc: signer.accelerate_url(&stream, now),
        }
    });
    json(&svc, result)
}

/// `utils/get_test_rtmpaccurl` (debug mode only).
pub async fn test_rtmp_acc_url(State(svc): State<Arc<RoomService>>) -> Response {
    let now = (now_ms() / 1000) as i64;
    let result = test_user(&svc).map(|(app, user)| TestRtmpAccUrl {
        url_rtmpacc: svc.signer().accelerate_url(&svc.stream_of(app, &user), now),
    });
    json(&svc, result)
}

/// `utils/debug_add_test_member` (debug mode only): a test mini-program
/// member pushing a test pattern into the body's `roomID` (media/test_member.rs).
pub async fn add_test_member(State(svc): State<Arc<RoomService>>, body: Bytes) -> Response {
    if !svc.config.debug {
        return json::<rtcroom_protocol::http::Empty>(&svc, Err(ErrorCode::DebugDisabled.into()));
    }
    let result = match parse_body::<rtcroom_protocol::http::RoomUserRequest>(&body) {
        Ok(room) => crate::media::test_member::add(&svc, room).await,
        Err(e) => Err(e),
    };
    json(&svc, result)
}

/// `utils/report`: logs the report (its `data` cut to 1 KiB) and counts it.
pub async fn report(State(svc): State<Arc<RoomService>>, body: Bytes) -> Response {
    let result = parse_body::<ClientReport>(&body).map(|r| {
        svc.metrics.client_reports.fetch_add(1, Ordering::Relaxed);
        let data = r.data.to_string();
        let cut = (0..=LOGGED_REPORT_BYTES.min(data.len()))
            .rev()
            .find(|&i| data.is_char_boundary(i))
            .unwrap_or(0);
        tracing::info!(report_id = %r.report_id, data = &data[..cut], "client report");
        rtcroom_protocol::http::Empty {}
    });
    json(&svc, result)
}
