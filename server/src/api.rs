//! HTTP routes: the RoomService commands `POST {prefix}/{kind}/{cmd}` (kinds
//! `multi_room`, `double_room`, `rtc_room`), the debug login helper, health,
//! metrics and the demo's static files. Command names and body types come
//! from the protocol's command table ([`rtcroom_protocol::command`]). Every command answers HTTP 200 with
//! `{code, message, ...}`, as the original did; CORS is open.

use crate::json::parse_body;
use crate::metrics::Gauges;
use crate::service::{now_ms, Caller, RoomService};
use crate::store::RoomKind;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rtcroom_protocol::command::{self as cmd, Command};
use rtcroom_protocol::http::*;
use rtcroom_protocol::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

/// Builds the application router.
pub fn router(svc: Arc<RoomService>, shutdown: CancellationToken) -> Router {
    let p = svc.config.prefix.clone();
    let mut router = Router::new()
        .route(
            &format!("{p}/utils/get_login_info"),
            get(login_info).post(login_info),
        )
        .route(
            &format!("{p}/utils/get_login_info_debug"),
            get(login_info).post(login_info),
        )
        .route(
            &format!("{p}/utils/rtmp_on_publish"),
            post(crate::rtmp_hook::on_publish),
        )
        .route(
            &format!("{p}/utils/get_test_pushurl"),
            get(crate::utils_cmds::test_push_url).post(crate::utils_cmds::test_push_url),
        )
        .route(
            &format!("{p}/utils/get_test_rtmpaccurl"),
            get(crate::utils_cmds::test_rtmp_acc_url).post(crate::utils_cmds::test_rtmp_acc_url),
        )
        .route(
            &format!("{p}/utils/debug_add_test_member"),
            post(crate::utils_cmds::add_test_member),
        )
        .route(
            &format!("{p}/utils/report"),
            post(crate::utils_cmds::report),
        )
        .route(&format!("{p}/ws"), get(crate::ws::upgrade))
        .route(&format!("{p}/im"), get(crate::im_tap::upgrade))
        .route(&format!("{p}/{{kind}}/ws"), get(crate::ws::upgrade_kind))
        .route(
            &format!("{p}/{{kind}}/{{cmd}}"),
            post(command).get(command_needs_post),
        )
        .route(
            &format!("{p}/utils/debug_drop_socket"),
            post(debug_drop_socket),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics));
    if let Some(dir) = &svc.config.static_dir {
        let root = Arc::new(dir.canonicalize().unwrap_or_else(|_| dir.clone()));
        let files = ServeDir::new(root.as_path()).append_index_html_on_directories(true);
        router = router.fallback(move |req: axum::extract::Request| {
            static_file(root.clone(), files.clone(), req)
        });
    }
    router
        .layer(axum::Extension(shutdown))
        .layer(CorsLayer::permissive())
        .with_state(svc)
}

/// The demo's static files: 404 for any path with a dot-segment (dotfiles,
/// `..`) or that resolves, through a symlink, outside the static directory.
async fn static_file(
    root: Arc<std::path::PathBuf>,
    mut files: ServeDir,
    req: axum::extract::Request,
) -> Response {
    if !static_path_allowed(&root, req.uri().path()) {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    match files.try_call(req).await {
        Ok(r) => r.into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n").into_response(),
    }
}

/// Whether `path` (as requested, percent-encoded) names a file inside `root`
/// that may be served.
fn static_path_allowed(root: &std::path::Path, path: &str) -> bool {
    let Some(decoded) = percent_decode(path) else {
        return false;
    };
    let mut file = root.to_path_buf();
    for segment in decoded.split(['/', '\\']).filter(|s| !s.is_empty()) {
        if segment.starts_with('.') {
            return false;
        }
        file.push(segment);
    }
    match std::fs::symlink_metadata(&file) {
        // Absent: ServeDir answers 404 itself.
        Err(_) => true,
        Ok(_) => file.canonicalize().is_ok_and(|real| real.starts_with(root)),
    }
}

/// `%XX`-decodes a URL path; None for a malformed escape or non-UTF-8 result.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A `{code, message, ...}` JSON answer with HTTP 200.
fn reply<T: Serialize>(svc: &RoomService, result: Result<T, ApiError>) -> Response {
    let text = match result {
        Ok(body) => serde_json::to_string(&Reply {
            code: 0,
            message: "ok".into(),
            body,
        }),
        Err(e) => {
            svc.metrics.error(e.code);
            tracing::debug!(code = e.code, message = %e.message, "command failed");
            serde_json::to_string(&e)
        }
    };
    let text = text.unwrap_or_else(|_| r#"{"code":-1,"message":"internal server error"}"#.into());
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

fn parse_query<T: for<'de> Deserialize<'de> + Default>(raw: Option<&str>) -> Result<T, ApiError> {
    match raw {
        None | Some("") => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| {
            ApiError::with_message(ErrorCode::InvalidParameter, format!("query string: {e}"))
        }),
    }
}

impl Default for AuthQueryDefault {
    fn default() -> Self {
        Self(AuthQuery {
            user_id: None,
            token: None,
        })
    }
}
#[derive(Deserialize)]
#[serde(transparent)]
struct AuthQueryDefault(AuthQuery);

async fn command_needs_post(State(svc): State<Arc<RoomService>>) -> Response {
    reply::<Empty>(
        &svc,
        Err(ApiError::with_message(
            ErrorCode::UnknownCommand,
            "commands are POST requests",
        )),
    )
}

async fn command(
    State(svc): State<Arc<RoomService>>,
    Path((kind, cmd)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    svc.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let Some(kind) = RoomKind::from_segment(&kind) else {
        return reply::<Empty>(
            &svc,
            Err(ApiError::with_message(
                ErrorCode::UnknownCommand,
                format!("unknown room type {kind}"),
            )),
        );
    };
    let now = now_ms();
    if cmd == cmd::Login::NAME {
        return answer::<cmd::Login>(&svc, login(&svc, query.as_deref(), &body, now).await);
    }
    let caller = match parse_query::<AuthQueryDefault>(query.as_deref()) {
        Ok(q) => svc.authenticate(&q.0, now).await,
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return reply::<Empty>(&svc, Err(e)),
    };
    dispatch(&svc, &caller, kind, &cmd, &body, now).await
}

/// The JSON body of command `C`, as the protocol's table types it.
fn request<C: Command>(body: &[u8]) -> Result<C::Request, ApiError>
where
    C::Request: for<'de> Deserialize<'de>,
{
    parse_body(body)
}

/// Command `C`'s answer; the type check ties each arm to the protocol's table.
fn answer<C: Command>(svc: &RoomService, result: Result<C::Reply, ApiError>) -> Response
where
    C::Reply: Serialize,
{
    reply(svc, result)
}

async fn dispatch(
    svc: &RoomService,
    caller: &Caller,
    kind: RoomKind,
    cmd: &str,
    body: &[u8],
    now: u64,
) -> Response {
    match cmd {
        cmd::Logout::NAME => {
            svc.logout(caller).await;
            answer::<cmd::Logout>(svc, Ok(Empty {}))
        }
        cmd::GetPushUrl::NAME => answer::<cmd::GetPushUrl>(
            svc,
            request::<cmd::GetPushUrl>(body).and_then(|r| svc.push_url(caller, &r, now)),
        ),
        cmd::GetRoomList::NAME => match request::<cmd::GetRoomList>(body) {
            Ok(r) => answer::<cmd::GetRoomList>(svc, svc.room_list(caller, kind, &r).await),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::GetPushers::NAME => match request::<cmd::GetPushers>(body) {
            Ok(r) => answer::<cmd::GetPushers>(svc, svc.pushers(caller, &r).await),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::CreateRoom::NAME => match request::<cmd::CreateRoom>(body) {
            Ok(r) => answer::<cmd::CreateRoom>(svc, svc.create_room(caller, kind, r, now).await),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::AddPusher::NAME => match request::<cmd::AddPusher>(body) {
            Ok(r) => answer::<cmd::AddPusher>(svc, svc.add_pusher(caller, kind, r, now).await),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::DeletePusher::NAME => match request::<cmd::DeletePusher>(body) {
            Ok(r) => answer::<cmd::DeletePusher>(
                svc,
                svc.delete_pusher(caller, &r).await.map(|()| Empty {}),
            ),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::DestroyRoom::NAME => match request::<cmd::DestroyRoom>(body) {
            Ok(r) => answer::<cmd::DestroyRoom>(
                svc,
                svc.destroy_room(caller, &r).await.map(|()| Empty {}),
            ),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        cmd::PusherHeartbeat::NAME => match request::<cmd::PusherHeartbeat>(body) {
            Ok(r) => answer::<cmd::PusherHeartbeat>(
                svc,
                svc.heartbeat(caller, &r, now).await.map(|()| Empty {}),
            ),
            Err(e) => reply::<Empty>(svc, Err(e)),
        },
        other => reply::<Empty>(
            svc,
            Err(ApiError::with_message(
                ErrorCode::UnknownCommand,
                format!("unknown command {other}"),
            )),
        ),
    }
}

/// `login`: credentials in the query string (original), or in a JSON body.
async fn login(
    svc: &RoomService,
    query: Option<&str>,
    body: &[u8],
    now: u64,
) -> Result<LoginResponse, ApiError> {
    let mut req: LoginRequest = parse_query(query)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let from_body: LoginRequest = parse_body(body)?;
        req.sdk_app_id = req.sdk_app_id.or(from_body.sdk_app_id);
        req.account_type = req.account_type.or(from_body.account_type);
        req.user_id = req.user_id.or(from_body.user_id);
        req.user_sig = req.user_sig.or(from_body.user_sig);
    }
    svc.login(req, now).await
}

#[derive(Deserialize, Default)]
struct LoginInfoQuery {
    #[serde(rename = "userID")]
    user_id: Option<String>,
}

async fn login_info(
    State(svc): State<Arc<RoomService>>,
    Query(q): Query<LoginInfoQuery>,
) -> Response {
    let result = svc.login_info(q.user_id, now_ms());
    if matches!(&result, Err(e) if e.is(ErrorCode::DebugDisabled)) {
        return (StatusCode::NOT_FOUND, reply(&svc, result)).into_response();
    }
    reply(&svc, result)
}

#[derive(Deserialize, Default)]
struct DropSocketQuery {
    #[serde(rename = "userID")]
    user_id: Option<String>,
    #[serde(rename = "sdkAppID")]
    sdk_app_id: Option<u64>,
}

/// Debug mode only: the server drops a user's WebSocket as a network failure
/// would (the session stays; the client should reconnect and resume).
async fn debug_drop_socket(
    State(svc): State<Arc<RoomService>>,
    Query(q): Query<DropSocketQuery>,
) -> Response {
    if !svc.config.debug {
        return (
            StatusCode::NOT_FOUND,
            reply::<Empty>(&svc, Err(ErrorCode::DebugDisabled.into())),
        )
            .into_response();
    }
    let result = match (
        q.user_id.map(rtcroom_protocol::UserId::new),
        q.sdk_app_id
            .or(svc.config.apps.first().map(|a| a.sdk_app_id)),
    ) {
        (Some(Ok(user)), Some(app)) => match svc.hub.get(&crate::store::UserKey { app, user }) {
            Some(s) if svc.hub.drop_connection(&s) => Ok(Empty {}),
            _ => Err(ApiError::with_message(
                ErrorCode::NotMember,
                "no connected session for that user",
            )),
        },
        _ => Err(ApiError::new(ErrorCode::MissingParameter)),
    };
    reply(&svc, result)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(svc): State<Arc<RoomService>>) -> Response {
    let (rooms, members) = svc.store.counts().await;
    let gauges = Gauges {
        rooms,
        members,
        sessions: svc.hub.session_count(),
        sockets: svc.hub.connections.load(Ordering::Relaxed),
        im_taps: svc.hub.taps.count(),
        frames_out: svc.hub.frames_out.load(Ordering::Relaxed),
        slow_consumers: svc.hub.slow_consumers.load(Ordering::Relaxed),
    };
    let mut text = svc.metrics.render(&gauges);
    if let Some(heap) = crate::heap::HeapStats::read() {
        heap.render(&mut text);
    }
    if let Some(cluster) = svc.hub.cluster() {
        cluster.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
