//! RoomService's behaviour, independent of transport: login, rooms, members,
//! heartbeats and who gets told what. The HTTP API, the WebSocket handler and
//! the sweeper all call in here; it talks to the [`Store`] (state) and the
//! [`Hub`] (delivery).

use crate::config::Config;
use crate::hub::{Encoded, Hub, ReplayLimit, Session};
use crate::metrics::Metrics;
use crate::store::{
    Departure, Entry, Millis, NewRoom, RoomKey, RoomKind, RoomRules, SessionRecord, Store, UserKey,
};
use rtcroom_protocol::http::*;
use rtcroom_protocol::push_url::{member_stream, parse_member_stream, stream_from_url, PushSigner};
use rtcroom_protocol::usersig::privilege::bits;
use rtcroom_protocol::usersig::{self, AppKeys, UserSigError, VerifyOptions};
use rtcroom_protocol::ws::{CloseReason, QuitReason, ServerEvent};
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time now, in milliseconds.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `n` random bytes as lower-case hex.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The OS random source failing is not recoverable for a server minting tokens.
    getrandom::fill(&mut bytes).expect("OS random source unavailable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The authenticated caller of a command.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub key: UserKey,
    /// With which token.
    pub token: String,
}

/// The service.
pub struct RoomService {
    /// Configuration (after start-up defaults were filled in).
    pub config: Config,
    /// Shared state.
    pub store: Arc<dyn Store>,
    /// Delivery to sessions on this node.
    pub hub: Hub,
    /// Counters.
    pub metrics: Metrics,
    /// The media server for SFU rooms (`[media] janus_url`), if any.
    pub media: Option<Arc<crate::media::Sfu>>,
    apps: HashMap<u64, AppKeys>,
    signer: PushSigner,
}

fn map_sig_error(e: &UserSigError) -> ErrorCode {
    match e {
        UserSigError::Base64 => ErrorCode::UserSigBase64,
        UserSigError::Zlib => ErrorCode::UserSigZlib,
        UserSigError::Json => ErrorCode::UserSigJson,
        UserSigError::UnknownVersion(_) => ErrorCode::UserSigVersion,
        UserSigError::AppIdMismatch { .. } => ErrorCode::UserSigAppIdMismatch,
        UserSigError::IdentifierMismatch => ErrorCode::UserSigIdentifierMismatch,
        UserSigError::Expired => ErrorCode::UserSigExpired,
        UserSigError::FutureTime => ErrorCode::UserSigFutureTime,
        UserSigError::BadSignature => ErrorCode::UserSigBadSignature,
        UserSigError::NoKeyForVersion => ErrorCode::UserSigNoKey,
        _ => ErrorCode::Internal,
    }
}

/// `delete_pusher` / `pusher_heartbeat` on a room that is gone answer 5 (not a
/// member), as the original Node and Java servers did: the Android client's
/// `exitRoom` counts only 0 and 5 as success.
fn gone_room_is_not_member(e: ApiError) -> ApiError {
    if e.is(ErrorCode::RoomNotFound) {
        ApiError::with_message(
            ErrorCode::NotMember,
            "not a member: the room does not exist",
        )
    } else {
        e
    }
}

impl RoomService {
    /// Builds the service; fills in a demo app and a random push key in debug mode.
    pub fn new(mut config: Config, store: Arc<dyn Store>) -> Self {
        if config.apps.is_empty() && config.debug {
            config.apps.push(crate::config::AppConfig {
                sdk_app_id: DEBUG_SDK_APP_ID,
                secret_key: Some(random_hex(32)),
                public_key: None,
                private_key: None,
                account_type: "0".into(),
                max_rooms: None,
                require_privilege: false,
            });
        }
        if config.live.push_key.is_empty() {
            config.live.push_key = random_hex(16);
        }
        let apps = config
            .apps
            .iter()
            .map(|a| {
                let keys = AppKeys {
                    sdk_app_id: a.sdk_app_id,
                    secret_key: a.secret_key.clone(),
                    public_key_pem: a.public_key.clone(),
                };
                (a.sdk_app_id, keys)
            })
            .collect();
        let signer = PushSigner {
            push_host: config.live.push_host.clone(),
            play_host: config.live.play_host.clone(),
            bizid: config.live.bizid.clone(),
            key: config.live.push_key.clone(),
            valid_secs: config.live.valid_secs,
        };
        Self {
            media: crate::media::from_config(&config),
            config,
            store,
            hub: Hub::default(),
            metrics: Metrics::default(),
            apps,
            signer,
        }
    }

    /// The push/play URL signer.
    pub fn signer(&self) -> &PushSigner {
        &self.signer
    }

    fn rules(&self, app: u64) -> RoomRules {
        let limits = &self.config.limits;
        let per_app = self
            .config
            .apps
            .iter()
            .find(|a| a.sdk_app_id == app)
            .and_then(|a| a.max_rooms)
            .or(limits.max_rooms_per_app)
            .unwrap_or(limits.max_rooms / self.config.apps.len().max(1));
        RoomRules {
            max_rooms: limits.max_rooms,
            max_rooms_per_app: per_app.max(1),
            max_rooms_per_user: limits.max_rooms_per_user,
            capacity: crate::media::room_capacity(&self.config),
            creator_leave_closes_room: self.config.limits.creator_leave_closes_room,
        }
    }

    fn token_ttl_ms(&self) -> Millis {
        self.config.token_ttl_secs.saturating_mul(1000)
    }

    // ----- login -----

    /// The UserSig check of `login` (same errors), without opening a session:
    /// also what the IM-style socket ([`crate::im_tap`]) is authenticated by.
    pub fn verify_user_sig(&self, req: LoginRequest, now: Millis) -> Result<UserKey, ApiError> {
        // An empty `userID=` or `userSig=` is as missing as an absent one.
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        let (Some(app), Some(user), Some(sig)) =
            (req.sdk_app_id, present(req.user_id), present(req.user_sig))
        else {
            return Err(ErrorCode::LoginParamsMissing.into());
        };
        let user = UserId::new(user).map_err(|e| {
            ApiError::with_message(ErrorCode::InvalidParameter, format!("userID: {e}"))
        })?;
        let keys = self
            .apps
            .get(&app)
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownSdkAppId))?;
        let opts = VerifyOptions {
            now: (now / 1000) as i64,
            max_clock_skew: 300,
        };
        usersig::verify(&sig, user.as_str(), keys, &opts).map_err(|e| {
            let code = map_sig_error(&e);
            ApiError::with_message(code, format!("{}: {e}", code.message()))
        })?;
        Ok(UserKey { app, user })
    }

    fn privilege_required(&self, caller: &Caller) -> bool {
        self.config
            .apps
            .iter()
            .any(|a| a.sdk_app_id == caller.key.app && a.require_privilege)
    }

    /// With `require_privilege` on the caller's app: `key` must be a
    /// PrivateMapKey granting each of `needed` to the caller in `room`.
    fn check_privilege(
        &self,
        caller: &Caller,
        room: &RoomId,
        key: Option<&str>,
        needed: &[(u32, &'static str)],
        now: Millis,
    ) -> Result<(), ApiError> {
        if !self.privilege_required(caller) {
            return Ok(());
        }
        let keys = self
            .apps
            .get(&caller.key.app)
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownSdkAppId))?;
        let opts = VerifyOptions {
            now: (now / 1000) as i64,
            max_clock_skew: 300,
        };
        usersig::privilege::check(
            key,
            caller.key.user.as_str(),
            room.as_str(),
            needed,
            keys,
            &opts,
        )
        .map(|_| ())
        .map_err(|e| {
            use usersig::privilege::PrivilegeError as P;
            let code = match &e {
                P::Missing => ErrorCode::PrivilegeKeyMissing,
                P::Sig(s) => map_sig_error(s),
                P::Malformed => ErrorCode::PrivilegeKeyMalformed,
                P::WrongUser => ErrorCode::PrivilegeWrongUser,
                P::WrongRoom => ErrorCode::PrivilegeWrongRoom,
                P::Expired => ErrorCode::PrivilegeExpired,
                P::NotGranted(_) => ErrorCode::PrivilegeNotGranted,
                _ => ErrorCode::Internal,
            };
            ApiError::with_message(code, e.to_string())
        })
    }

    /// `login`: verifies the UserSig and opens a session.
    pub async fn login(&self, req: LoginRequest, now: Millis) -> Result<LoginResponse, ApiError> {
        let key = self.verify_user_sig(req, now)?;
        let token = self.open_session(key.clone(), now).await?;
        self.metrics.logins.fetch_add(1, Ordering::Relaxed);
        Ok(LoginResponse {
            ice_servers: self.ice_servers(&key.user, now),
            user_id: key.user,
            token,
            token_ttl: self.config.token_ttl_secs,
            heartbeat_interval: self.config.heartbeat.interval_secs,
        })
    }

    /// Opens a login session for `key` (replacing the user's previous one, which
    /// is told 1009) and returns its token. Push URLs are signed for a session,
    /// so the debug helpers' test streams get one of their own too. Fails
    /// (1030) only when a shared store (Redis) cannot record it.
    pub async fn open_session(&self, key: UserKey, now: Millis) -> Result<String, ApiError> {
        let token = random_hex(16);
        let record = SessionRecord {
            token: token.clone(),
            user: key.clone(),
            expires_at: now + self.token_ttl_ms(),
        };
        let elsewhere = match self.hub.cluster() {
            Some(cluster) => cluster.session_elsewhere(&key).await,
            None => None,
        };
        self.store.put_session(record).await?;
        if let (Some(cluster), Some((old_token, node))) = (self.hub.cluster(), elsewhere) {
            cluster.end_on(&node, &key, &old_token).await;
        }
        if let Some(old) = self.hub.open(
            token.clone(),
            key,
            ReplayLimit {
                frames: self.config.limits.replay_frames,
                bytes: self.config.limits.replay_bytes,
            },
        ) {
            self.hub.end(&old, ErrorCode::SessionReplaced.into());
        }
        Ok(token)
    }

    /// The configured ICE servers, plus TURN credentials minted for `user` now.
    pub fn ice_servers(&self, user: &UserId, now: Millis) -> Vec<IceServer> {
        let mut servers = self.config.ice_servers.clone();
        if let Some(turn) = &self.config.turn {
            servers.push(crate::turn::ice_server(turn, user.as_str(), now / 1000));
        }
        servers
    }

    /// Checks `?userID=&token=`.
    pub async fn authenticate(&self, q: &AuthQuery, now: Millis) -> Result<Caller, ApiError> {
        let (Some(user), Some(token)) = (q.user_id.as_deref(), q.token.as_deref()) else {
            return Err(ErrorCode::MissingCredentials.into());
        };
        if user.is_empty() || token.is_empty() {
            return Err(ErrorCode::MissingCredentials.into());
        }
        let rec = self
            .store
            .touch_session(token, now, self.token_ttl_ms())
            .await?;
        if rec.user.user.as_str() != user {
            return Err(ApiError::with_message(
                ErrorCode::AuthFailed,
                "token belongs to another userID",
            ));
        }
        Ok(Caller {
            key: rec.user,
            token: token.to_owned(),
        })
    }

    /// The caller's live session on this node (needed by the WebSocket).
    pub fn session_of(&self, caller: &Caller) -> Option<Arc<Session>> {
        let local = self.hub.get_with_token(&caller.key, &caller.token);
        if local.is_some() || self.hub.cluster().is_none() {
            return local;
        }
        // In a cluster the session may have logged in on another node (its
        // frames live in Redis): this node pumps them to the socket now.
        if let Some(old) = self.hub.open(
            caller.token.clone(),
            caller.key.clone(),
            self.replay_limit(),
        ) {
            self.hub.end(&old, ErrorCode::SessionReplaced.into());
        }
        self.hub.get_with_token(&caller.key, &caller.token)
    }

    fn replay_limit(&self) -> ReplayLimit {
        ReplayLimit {
            frames: self.config.limits.replay_frames,
            bytes: self.config.limits.replay_bytes,
        }
    }

    /// `logout`: leaves every room and ends the session.
    pub async fn logout(&self, caller: &Caller) {
        self.end_session(&caller.key, &caller.token, QuitReason::Left, "logged out")
            .await;
    }

    /// Leaves every room (members told `reason`), forgets the session and
    /// ends its socket, if any, with AuthFailed and `why`.
    async fn end_session(&self, user: &UserKey, token: &str, reason: QuitReason, why: &str) {
        self.leave_everywhere(user, reason).await;
        self.store.remove_session(token).await;
        if let Some(s) = self.hub.remove(user, token) {
            self.hub
                .end(&s, ApiError::with_message(ErrorCode::AuthFailed, why));
        }
    }

    /// A debug identity with a fresh UserSig (the seed's "scheme one").
    pub fn login_info(&self, user: Option<String>, now: Millis) -> Result<LoginInfo, ApiError> {
        if !self.config.debug {
            return Err(ErrorCode::DebugDisabled.into());
        }
        let user = match user.filter(|u| !u.is_empty()) {
            Some(u) => UserId::new(u).map_err(|e| {
                ApiError::with_message(ErrorCode::InvalidParameter, format!("userID: {e}"))
            })?,
            None => UserId::new(format!("user_{}_{}", random_hex(4), random_hex(2)))
                .map_err(|_| ApiError::new(ErrorCode::Internal))?,
        };
        let now_s = (now / 1000) as i64;
        for app in &self.config.apps {
            let sig = if let Some(secret) = &app.secret_key {
                usersig::gen_v2(
                    app.sdk_app_id,
                    secret,
                    user.as_str(),
                    86_400 * 30,
                    now_s,
                    None,
                )
            } else if let Some(private) = &app.private_key {
                usersig::gen_v1(
                    app.sdk_app_id,
                    &app.account_type,
                    private,
                    user.as_str(),
                    86_400 * 30,
                    now_s,
                )
                .map_err(|e| ApiError::with_message(ErrorCode::Internal, e.to_string()))?
            } else {
                continue;
            };
            return Ok(LoginInfo {
                user_id: user,
                sdk_app_id: app.sdk_app_id,
                acc_type: app.account_type.clone(),
                user_sig: sig,
            });
        }
        Err(ApiError::with_message(
            ErrorCode::DebugDisabled,
            "no app with a signing key is configured",
        ))
    }

    // ----- rooms -----

    fn check_body_user(caller: &Caller, body_user: Option<&UserId>) -> Result<(), ApiError> {
        match body_user {
            Some(u) if *u != caller.key.user => Err(ApiError::with_message(
                ErrorCode::InvalidParameter,
                "userID in the body differs from the logged-in user",
            )),
            _ => Ok(()),
        }
    }

    fn room_key(caller: &Caller, room: &RoomId) -> RoomKey {
        RoomKey {
            app: caller.key.app,
            room: room.clone(),
        }
    }

    /// The RTMP stream name of a user.
    pub fn stream_of(&self, app: u64, user: &UserId) -> String {
        member_stream(&self.config.live.bizid, app, user.as_str())
    }

    /// The user whose stream is `stream` (the inverse of [`Self::stream_of`]):
    /// `None` for a name this service never hands out — another bizid, an
    /// sdkAppID that is not configured, or a user part that is not exactly
    /// an escaped valid userID.
    pub fn user_of_stream(&self, stream: &str) -> Option<UserKey> {
        let (app, user) = parse_member_stream(&self.config.live.bizid, stream)?;
        if !self.apps.contains_key(&app) {
            return None;
        }
        let user = UserId::new(user).ok()?;
        Some(UserKey { app, user })
    }

    /// `get_push_url`.
    pub fn push_url(
        &self,
        caller: &Caller,
        req: &GetPushUrlRequest,
        now: Millis,
    ) -> Result<GetPushUrlResponse, ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        let stream = self.stream_of(caller.key.app, &caller.key.user);
        Ok(GetPushUrlResponse {
            push_url: self
                .signer
                .push_url(&stream, &caller.token, (now / 1000) as i64),
        })
    }

    /// `get_room_list`: a page of at most `cnt` (≤ 100) rooms, cut short so
    /// the answer stays within `limits.max_response_bytes` (the client pages
    /// on with `index`; `total` still counts every room).
    pub async fn room_list(
        &self,
        caller: &Caller,
        kind: RoomKind,
        req: &GetRoomListRequest,
    ) -> Result<GetRoomListResponse, ApiError> {
        let count = (req.cnt as usize).min(100);
        let (mut rooms, total) = self
            .store
            .list_rooms(caller.key.app, kind, req.index as usize, count)
            .await;
        let budget = self.config.limits.max_response_bytes;
        let mut used = RESPONSE_OVERHEAD;
        let mut fits = 0;
        for room in &rooms {
            used += json_len(room) + 1;
            if used > budget {
                break;
            }
            fits += 1;
        }
        if fits == 0 && !rooms.is_empty() {
            return Err(too_large(budget));
        }
        rooms.truncate(fits);
        Ok(GetRoomListResponse {
            rooms,
            total: total as u32,
        })
    }

    /// `get_pushers`.
    pub async fn pushers(
        &self,
        caller: &Caller,
        req: &GetPushersRequest,
    ) -> Result<RoomSummary, ApiError> {
        let room = self
            .store
            .room(&Self::room_key(caller, &req.room_id))
            .await?;
        let budget = self.config.limits.max_response_bytes;
        if RESPONSE_OVERHEAD + json_len(&room) > budget {
            return Err(too_large(budget));
        }
        crate::media::fetched(self, caller, &room);
        Ok(room)
    }

    fn check_room_info(&self, info: &str) -> Result<(), ApiError> {
        check_size(
            "roomInfo",
            info,
            self.config.limits.max_room_info_bytes,
            ErrorCode::RoomInfoTooLarge,
        )
    }

    /// `create_room`: an inactive room, listed once its first member enters.
    pub async fn create_room(
        &self,
        caller: &Caller,
        kind: RoomKind,
        req: CreateRoomRequest,
        now: Millis,
    ) -> Result<CreateRoomResponse, ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        self.check_room_info(&req.room_info)?;
        if self.privilege_required(caller) {
            // A key names its room: an assigned id could never match one.
            let room = req.room_id.as_ref().ok_or_else(|| {
                ApiError::with_message(
                    ErrorCode::PrivilegeWrongRoom,
                    "this app requires a privateMapKey: give the roomID it was issued for",
                )
            })?;
            self.check_privilege(
                caller,
                room,
                req.private_map_key.as_deref(),
                &[(bits::CREATE, "create")],
                now,
            )?;
        }
        let given = req.room_id.is_some();
        for _ in 0..8 {
            let room = match &req.room_id {
                Some(r) => r.clone(),
                None => RoomId::new(format!("room_{}_{}", random_hex(4), random_hex(2)))
                    .map_err(|_| ApiError::new(ErrorCode::Internal))?,
            };
            let new = NewRoom {
                key: Self::room_key(caller, &room),
                kind,
                requested_by: caller.key.user.clone(),
                info: req.room_info.clone(),
            };
            match self
                .store
                .create_room(new, now, self.rules(caller.key.app))
                .await
            {
                Ok(()) => return Ok(CreateRoomResponse { room_id: room }),
                Err(e) if e.is(ErrorCode::RoomExists) && !given => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::with_message(
            ErrorCode::Internal,
            "could not assign a free roomID",
        ))
    }

    /// `add_pusher`: enters (or creates) a room and tells the others.
    pub async fn add_pusher(
        &self,
        caller: &Caller,
        kind: RoomKind,
        req: AddPusherRequest,
        now: Millis,
    ) -> Result<AddPusherResponse, ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        if let Some(info) = &req.room_info {
            self.check_room_info(info)?;
        }
        let limits = &self.config.limits;
        check_size(
            "userName",
            &req.user_name,
            limits.max_user_name_bytes,
            ErrorCode::UserNameTooLarge,
        )?;
        check_size(
            "userAvatar",
            &req.user_avatar,
            limits.max_user_avatar_bytes,
            ErrorCode::UserAvatarTooLarge,
        )?;
        check_size(
            "pushURL",
            &req.push_url,
            limits.max_push_url_bytes,
            ErrorCode::PushUrlTooLarge,
        )?;
        if let Some(sdp) = &req.offer {
            // The same bound as an offer relayed over the socket.
            check_size(
                "offer",
                sdp,
                limits.max_frame_bytes,
                ErrorCode::MessageTooLarge,
            )?;
        }
        let now_s = (now / 1000) as i64;
        let rtmp = !req.push_url.is_empty();
        let (accelerate_url, mixed_play_url) = if !rtmp {
            let bridged = crate::media::bridged_play_url(self, caller, now_s);
            (bridged.unwrap_or_default(), String::new())
        } else {
            let stream = stream_from_url(&req.push_url).ok_or_else(|| {
                ApiError::with_message(ErrorCode::InvalidParameter, "pushURL has no stream name")
            })?;
            if stream != self.stream_of(caller.key.app, &caller.key.user) {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidParameter,
                    "pushURL is not this user's stream",
                ));
            }
            // No stream mixer here: the original's mixedPlayURL named the
            // CDN's FLV mix of the room, which nothing serves, so it is empty
            // (it was https on the RTMP port before, a URL nothing answers).
            (self.signer.accelerate_url(stream, now_s), String::new())
        };
        let key = Self::room_key(caller, &req.room_id);
        if self.privilege_required(caller) {
            // Entering publishes (every member pushes); creating the room on
            // the way needs the create bit too.
            let creates = self.store.room(&key).await.is_err();
            let mut needed = vec![(bits::ENTER, "enter"), (bits::PUBLISH, "publish")];
            if creates {
                needed.push((bits::CREATE, "create"));
            }
            self.check_privilege(
                caller,
                &req.room_id,
                req.private_map_key.as_deref(),
                &needed,
                now,
            )?;
        }
        let pusher = Pusher {
            user_id: caller.key.user.clone(),
            user_name: req.user_name,
            user_avatar: req.user_avatar,
            accelerate_url,
            join_order: req.join_order.then(|| crate::join_order::next(now)),
        };
        let entry = Entry {
            pusher: pusher.clone(),
            push_url: req.push_url,
            mixed_play_url,
            room_info: req.room_info,
        };
        let admission = crate::media::admit(self, &key, kind, rtmp).await?;
        let joined = match self
            .store
            .add_member(&key, kind, entry, now, self.rules(key.app))
            .await
        {
            Ok(joined) => joined,
            Err(e) => {
                crate::media::abandon(self, &key, admission);
                return Err(e);
            }
        };
        // The first offer's member, fixed before the join goes out: the
        // offer rides in its `pusher_join` (not in SFU rooms: no mesh).
        let first = match &req.offer {
            Some(sdp) if joined.is_new && !crate::media::is_sfu(self, &key) => {
                crate::first_offer::target(&caller.key.user, &joined).map(|to| (to.clone(), sdp))
            }
            _ => None,
        };
        let first_ref = first.as_ref().map(|(to, sdp)| (to, sdp.as_str()));
        if joined.is_new {
            crate::first_offer::announce(self, caller, &req.room_id, pusher, &joined, first_ref);
        }
        crate::media::entered(self, &key, &caller.key.user, &joined, rtmp).await;
        if let Some((to, sdp)) = first_ref {
            crate::first_offer::relay(self, caller, &req.room_id, to, sdp);
        }
        let offered_to = first.map(|(to, _)| to);
        // The roster of the same store step as the join rides along, so the
        // newcomer needs no `get_pushers` before it can start signaling.
        let budget = self.config.limits.max_response_bytes;
        let pushers =
            (RESPONSE_OVERHEAD + json_len(&joined.room) <= budget).then_some(joined.room.pushers);
        Ok(AddPusherResponse {
            room_id: req.room_id,
            pushers,
            offered_to,
        })
    }

    /// `delete_pusher`.
    pub async fn delete_pusher(
        &self,
        caller: &Caller,
        req: &RoomUserRequest,
    ) -> Result<(), ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        let key = Self::room_key(caller, &req.room_id);
        let dep = self
            .store
            .remove_member(
                &key,
                &caller.key.user,
                QuitReason::Left,
                None,
                self.rules(key.app),
            )
            .await
            .map_err(gone_room_is_not_member)?;
        self.announce(&dep);
        Ok(())
    }

    /// `destroy_room` (creator only).
    pub async fn destroy_room(
        &self,
        caller: &Caller,
        req: &RoomUserRequest,
    ) -> Result<(), ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        let key = Self::room_key(caller, &req.room_id);
        let members = self.store.destroy_room(&key, &caller.key.user).await?;
        crate::media::room_gone(self, &key);
        let event = Encoded::new(&ServerEvent::RoomClosed {
            room_id: req.room_id.clone(),
            reason: CloseReason::Destroyed,
        });
        self.hub.deliver(
            caller.key.app,
            members.iter().filter(|u| **u != caller.key.user),
            &event,
        );
        Ok(())
    }

    /// `pusher_heartbeat`.
    pub async fn heartbeat(
        &self,
        caller: &Caller,
        req: &RoomUserRequest,
        now: Millis,
    ) -> Result<(), ApiError> {
        Self::check_body_user(caller, req.user_id.as_ref())?;
        self.store
            .heartbeat(&Self::room_key(caller, &req.room_id), &caller.key.user, now)
            .await
            .map_err(gone_room_is_not_member)
    }

    /// Tells the room about a departure (quit, or closed).
    pub fn announce(&self, dep: &Departure) {
        crate::media::departed(self, dep);
        if !dep.remaining.is_empty() {
            let event = Encoded::new(&ServerEvent::PusherQuit {
                room_id: dep.room.room.clone(),
                pusher: dep.pusher.clone(),
                reason: dep.reason,
            });
            self.hub.deliver(dep.room.app, &dep.remaining, &event);
        }
        if let Some((reason, members)) = &dep.closed {
            let event = Encoded::new(&ServerEvent::RoomClosed {
                room_id: dep.room.room.clone(),
                reason: *reason,
            });
            self.hub.deliver(dep.room.app, members, &event);
        }
    }

    /// Removes a user from every room it is in; returns how many it left.
    /// Yields to the runtime every few rooms, so a member of many rooms
    /// leaving does not hold a worker thread (and `/healthz`) up.
    pub async fn leave_everywhere(&self, user: &UserKey, reason: QuitReason) -> u64 {
        let mut left = 0;
        for (i, key) in self.store.rooms_of(user).await.into_iter().enumerate() {
            if i % 64 == 63 {
                tokio::task::yield_now().await;
            }
            if let Ok(dep) = self
                .store
                .remove_member(&key, &user.user, reason, None, self.rules(key.app))
                .await
            {
                left += 1;
                self.announce(&dep);
            }
        }
        left
    }

    // ----- liveness -----

    /// One sweep: evicts members silent past the heartbeat timeout (a member
    /// with a connected socket counts as alive and is refreshed instead),
    /// reaps never-entered rooms and lapsed sessions.
    pub async fn sweep(&self, now: Millis) {
        let timeout = self.config.heartbeat.timeout_secs.saturating_mul(1000);
        let before = now.saturating_sub(timeout);
        for (key, user) in self.store.stale_members(before).await {
            let ukey = UserKey {
                app: key.app,
                user: user.clone(),
            };
            if self.hub.get(&ukey).is_some_and(|s| s.is_connected()) {
                let _ = self.store.heartbeat(&key, &user, now).await;
                continue;
            }
            if let Some(cluster) = self.hub.cluster() {
                if cluster.socket_of(&ukey, None).await.0 {
                    continue; // its socket is on another live node, which refreshes it
                }
            }
            if let Ok(dep) = self
                .store
                .remove_member(
                    &key,
                    &user,
                    QuitReason::Timeout,
                    Some(before),
                    self.rules(key.app),
                )
                .await
            {
                self.metrics
                    .heartbeat_evictions
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(room = %key.room, user = %user, "member timed out");
                self.announce(&dep);
            }
        }
        let idle_before =
            now.saturating_sub(self.config.limits.idle_room_secs.saturating_mul(1000));
        self.store.reap_idle_rooms(idle_before).await;
        self.reap_idle_sessions(now).await;
        self.hub.shrink_sparse();
        // Lapsed tokens answer TokenExpired for an hour, then are forgotten.
        for s in self
            .store
            .purge_sessions(now.saturating_sub(3_600_000))
            .await
        {
            if let Some(session) = self.hub.remove(&s.user, &s.token) {
                self.hub.end(&session, ErrorCode::TokenExpired.into());
            }
        }
    }

    /// Logs out the sessions with neither a socket nor an HTTP call for
    /// `limits.session_idle_secs` (a dropped socket that never came back),
    /// as `logout` does but with members told `timeout`. A session whose
    /// socket is connected counts as used: its store record is touched, so
    /// it is not looked at again for another idle period. The socket check
    /// asks this node's hub, then (multi-node) whether another live node
    /// holds the session's socket.
    async fn reap_idle_sessions(&self, now: Millis) {
        let idle = self.config.limits.session_idle_secs.saturating_mul(1000);
        if idle == 0 {
            return;
        }
        let ttl = self.token_ttl_ms();
        let used_before = now.saturating_sub(idle);
        let candidates = self
            .store
            .sessions_expiring_between(now, used_before.saturating_add(ttl))
            .await;
        for rec in candidates {
            if let Some(live) = self.hub.get_with_token(&rec.user, &rec.token) {
                if live.is_connected() {
                    let _ = self.store.touch_session(&rec.token, now, ttl).await;
                    continue;
                }
                if live.disconnected_since().is_some_and(|t| t > used_before) {
                    continue;
                }
            }
            if let Some(cluster) = self.hub.cluster() {
                if cluster.socket_of(&rec.user, Some(&rec.token)).await.0 {
                    continue; // its socket is on another live node, which keeps it in use
                }
            }
            tracing::info!(user = %rec.user.user, "idle session logged out");
            self.end_session(&rec.user, &rec.token, QuitReason::Timeout, "session idle")
                .await;
            self.metrics.idle_sessions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Called `socket_grace` after a socket closed: if the session is still
    /// without a connection, its member leaves every room.
    pub async fn disconnect_expired(&self, user: &UserKey, token: &str, now: Millis) {
        let Some(session) = self.hub.get_with_token(user, token) else {
            return;
        };
        if let Some(cluster) = self.hub.cluster() {
            let (connected, node) = cluster.socket_of(user, Some(token)).await;
            if connected || (!node.is_empty() && node != cluster.node()) {
                return; // resumed here or on another node
            }
        }
        let grace = self.config.heartbeat.socket_grace_ms;
        if session
            .disconnected_since()
            .is_some_and(|t| now.saturating_sub(t) >= grace)
        {
            let left = self.leave_everywhere(user, QuitReason::Disconnected).await;
            self.metrics
                .disconnect_evictions
                .fetch_add(left, Ordering::Relaxed);
        }
    }
}

/// Bytes of `{"code":0,"message":"ok",...}` around an answer's own fields.
const RESPONSE_OVERHEAD: usize = 64;

/// Serialized size of a value (our own types: serializing cannot fail).
fn json_len<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

fn too_large(budget: usize) -> ApiError {
    ApiError::with_message(
        ErrorCode::ResponseTooLarge,
        format!("one room's answer exceeds limits.max_response_bytes ({budget})"),
    )
}

/// Refuses a free-text field longer than `max` bytes with its own code.
fn check_size(field: &str, value: &str, max: usize, code: ErrorCode) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::with_message(
            code,
            format!("{field} is {} bytes; the limit is {max}", value.len()),
        ));
    }
    Ok(())
}

/// sdkAppID of the demo app made in debug mode when none is configured.
pub const DEBUG_SDK_APP_ID: u64 = 1_400_000_000;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::AppConfig;
    use crate::store::MemoryStore;

    fn svc() -> RoomService {
        let mut config = Config::default();
        for app in [1_400_000_001, 7] {
            config.apps.push(AppConfig {
                sdk_app_id: app,
                secret_key: Some("k".into()),
                public_key: None,
                private_key: None,
                account_type: "0".into(),
                max_rooms: None,
                require_privilege: false,
            });
        }
        RoomService::new(config, Arc::new(MemoryStore::new()))
    }

    #[test]
    fn stream_names_round_trip_including_escaped_characters() {
        let svc = svc();
        for (app, user, want) in [
            (1_400_000_001, "alice", "8888_1400000001_alice"),
            (7, "Bob-2", "8888_7_Bob-2"),
            (7, "a_b", "8888_7_a_5fb"),
            (7, "a.b@c/d?e&f=g#h", "8888_7_a_2eb_40c_2fd_3fe_26f_3dg_23h"),
            (7, "_", "8888_7__5f"),
            (7, "%41", "8888_7__2541"),
            (7, "李雷", "8888_7__e6_9d_8e_e9_9b_b7"),
        ] {
            let user = UserId::new(user).unwrap();
            let stream = svc.stream_of(app, &user);
            assert_eq!(stream, want);
            assert!(
                stream
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{stream} is URL-safe"
            );
            assert_eq!(svc.user_of_stream(&stream), Some(UserKey { app, user }));
        }
    }

    #[test]
    fn foreign_and_non_canonical_stream_names_have_no_user() {
        let svc = svc();
        for stream in [
            "",
            "8888",
            "8888_",
            "8888_7",
            "8888_7_",
            "9999_7_alice",                    // another bizid
            "88888_7_alice",                   // bizid is a prefix only
            "8888_8_alice",                    // app not configured
            "8888_07_alice",                   // non-canonical app
            "8888_+7_alice",                   // signed app
            "8888_18446744073709551616_alice", // app overflows u64
            "8888_7_a_41",                     // 'A' is never escaped
            "8888_7_a_2D",                     // upper-case hex is never produced
            "8888_7_a_2",                      // truncated escape
            "8888_7_a_zz",                     // not hex
            "8888_7_a.b",                      // '.' is always escaped
            "8888_7_a_20b",                    // a space: not a valid userID
            "8888_7__ff",                      // not UTF-8
            "8888_7_a?x=1",
        ] {
            assert_eq!(svc.user_of_stream(stream), None, "{stream:?}");
        }
        let long = format!(
            "8888_7_{}",
            "a".repeat(rtcroom_protocol::ids::MAX_ID_LEN + 1)
        );
        assert_eq!(svc.user_of_stream(&long), None);
    }
}
