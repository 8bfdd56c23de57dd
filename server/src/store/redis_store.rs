//! The Redis [`Store`] of a multi-node deployment: every method is one Lua
//! script (`store/lua/*.lua`, each prefixed with `prelude.lua`), so Redis runs
//! it atomically and "two nodes admitting the last seat" has one winner. A
//! room is one JSON document (`rtc:room:{app}:{room}`); the indexes beside it
//! (listing order, user → rooms, heartbeat times, idle rooms, budgets) are
//! changed by the same script. Scripts name their keys themselves, so this
//! needs a single Redis (or a primary with replicas), not Redis Cluster.
//!
//! Redis down: methods that answer a `Result` answer
//! [`ErrorCode::StoreUnavailable`] (1030); the others log, count the error and
//! answer "nothing" (no session, no rooms), which the caller's next `Result`
//! call turns into 1030.

use super::*;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use rtcroom_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Key prefix of everything rtcroom keeps in Redis (mirrors `prelude.lua`).
pub const PREFIX: &str = "rtc:";

/// Round trips to Redis and their failures, shared by the store and the
/// cluster layer of one node (for `/metrics`).
#[derive(Debug, Default)]
pub struct RedisStats {
    /// Commands, scripts and pipelines sent.
    pub round_trips: AtomicU64,
    /// Those that failed (connection lost, timeout, script error).
    pub errors: AtomicU64,
}

/// A Lua script with the shared prelude in front.
pub fn script(body: &str) -> Script {
    Script::new(&format!("{}\n{body}", include_str!("lua/prelude.lua")))
}

/// The answer to a Redis failure: [`ErrorCode::StoreUnavailable`], logged.
pub fn unavailable(stats: &RedisStats, e: &redis::RedisError) -> ApiError {
    stats.errors.fetch_add(1, Ordering::Relaxed);
    tracing::warn!("redis: {e}");
    ApiError::with_message(
        ErrorCode::StoreUnavailable,
        format!(
            "{}: {}",
            ErrorCode::StoreUnavailable.message(),
            e.kind_name()
        ),
    )
}

trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for redis::RedisError {
    fn kind_name(&self) -> &'static str {
        if self.is_timeout() {
            "timed out"
        } else if self.is_connection_dropped() || self.is_io_error() {
            "connection lost"
        } else {
            "command failed"
        }
    }
}

struct Scripts {
    create_room: Script,
    add_member: Script,
    remove_member: Script,
    destroy_room: Script,
    heartbeat: Script,
    list_rooms: Script,
    reap_idle_rooms: Script,
    put_session: Script,
    touch_session: Script,
    session_of_user: Script,
    remove_session: Script,
    purge_sessions: Script,
    sessions_expiring: Script,
}

/// Shared state in Redis.
pub struct RedisStore {
    con: ConnectionManager,
    stats: Arc<RedisStats>,
    scripts: Scripts,
}

/// A room document as the scripts keep it.
#[derive(Deserialize)]
struct RoomDoc {
    kind: String,
    info: String,
    req: String,
    creator: String,
    mixed: String,
    created: f64,
    #[serde(deserialize_with = "lua_list")]
    members: Vec<MemberDoc>,
}

#[derive(Deserialize)]
struct MemberDoc {
    p: Pusher,
}

#[derive(Deserialize)]
struct SessionDoc {
    token: String,
    app: String,
    user: String,
    exp: f64,
}

/// Lua's cjson writes an empty table as `{}`: read that as an empty list.
fn lua_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(serde::de::Error::custom))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

fn list_of<T: serde::de::DeserializeOwned>(v: Value) -> Vec<T> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    }
}

fn kind_name(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Multi => "multi",
        RoomKind::Double => "double",
    }
}

/// The error a script named (scripts name codes, the numbers live in protocol/).
fn script_error(name: &str, message: String) -> ApiError {
    let code = match name {
        "RoomExists" => ErrorCode::RoomExists,
        "TooManyRooms" => ErrorCode::TooManyRooms,
        "AppRoomQuota" => ErrorCode::AppRoomQuota,
        "TooManyRoomsForUser" => ErrorCode::TooManyRoomsForUser,
        "RoomFull" => ErrorCode::RoomFull,
        "RoomNotFound" => ErrorCode::RoomNotFound,
        "NotMember" => ErrorCode::NotMember,
        "NotRoomCreator" => ErrorCode::NotRoomCreator,
        "AuthFailed" => ErrorCode::AuthFailed,
        "TokenExpired" => ErrorCode::TokenExpired,
        _ => ErrorCode::Internal,
    };
    if message.is_empty() {
        code.into()
    } else {
        ApiError::with_message(code, message)
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::error!("redis: unreadable {what}: {e}");
    ApiError::with_message(
        ErrorCode::Internal,
        format!("unreadable {what} in the store"),
    )
}

impl RoomDoc {
    fn summary(&self, room: &RoomId) -> Result<RoomSummary, ApiError> {
        let creator = if self.creator.is_empty() {
            &self.req
        } else {
            &self.creator
        };
        Ok(RoomSummary {
            room_id: room.clone(),
            room_info: self.info.clone(),
            room_creator: UserId::new(creator.clone()).map_err(|e| corrupt("creator", e))?,
            mixed_play_url: self.mixed.clone(),
            custom: "{}".into(),
            pushers: self.pushers(),
            member_count: self.members.len() as u32,
            create_time: self.created as u64,
        })
    }

    fn pushers(&self) -> Vec<Pusher> {
        self.members.iter().map(|m| m.p.clone()).collect()
    }
}

fn user_ids(v: Value) -> Vec<UserId> {
    list_of::<String>(v)
        .into_iter()
        .filter_map(|u| UserId::new(u).ok())
        .collect()
}

fn session_record(doc: SessionDoc) -> Option<SessionRecord> {
    Some(SessionRecord {
        token: doc.token,
        user: UserKey {
            app: doc.app.parse().ok()?,
            user: UserId::new(doc.user).ok()?,
        },
        expires_at: doc.exp as u64,
    })
}

impl RedisStore {
    /// A store of its own on the Redis at `url` (tools and tests; a node
    /// shares its connection with the cluster layer instead).
    pub async fn connect(url: &str) -> redis::RedisResult<Self> {
        let con = ConnectionManager::new(redis::Client::open(url)?).await?;
        Ok(Self::new(con, Arc::default()))
    }

    /// A store on `con`, counting into `stats`.
    pub fn new(con: ConnectionManager, stats: Arc<RedisStats>) -> Self {
        Self {
            con,
            stats,
            scripts: Scripts {
                create_room: script(include_str!("lua/create_room.lua")),
                add_member: script(include_str!("lua/add_member.lua")),
                remove_member: script(include_str!("lua/remove_member.lua")),
                destroy_room: script(include_str!("lua/destroy_room.lua")),
                heartbeat: script(include_str!("lua/heartbeat.lua")),
                list_rooms: script(include_str!("lua/list_rooms.lua")),
                reap_idle_rooms: script(include_str!("lua/reap_idle_rooms.lua")),
                put_session: script(include_str!("lua/put_session.lua")),
                touch_session: script(include_str!("lua/touch_session.lua")),
                session_of_user: script(include_str!("lua/session_of_user.lua")),
                remove_session: script(include_str!("lua/remove_session.lua")),
                purge_sessions: script(include_str!("lua/purge_sessions.lua")),
                sessions_expiring: script(include_str!("lua/sessions_expiring.lua")),
            },
        }
    }

    async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&str],
    ) -> Result<T, ApiError> {
        let mut inv = script.prepare_invoke();
        for a in args {
            inv.arg(*a);
        }
        let mut con = self.con.clone();
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        inv.invoke_async(&mut con)
            .await
            .map_err(|e| unavailable(&self.stats, &e))
    }

    /// Runs a script answering `{status, json}`: the JSON (`Null` for none) or the named error.
    async fn call(&self, script: &Script, args: &[&str]) -> Result<Value, ApiError> {
        let (status, payload): (String, String) = self.eval(script, args).await?;
        if status != "ok" {
            return Err(script_error(&status, payload));
        }
        if payload.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&payload).map_err(|e| corrupt("script answer", e))
    }

    async fn cmd<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> Result<T, ApiError> {
        let mut con = self.con.clone();
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        cmd.query_async(&mut con)
            .await
            .map_err(|e| unavailable(&self.stats, &e))
    }

    async fn room_doc(&self, key: &RoomKey) -> Result<RoomDoc, ApiError> {
        let k = format!("{PREFIX}room:{}:{}", key.app, key.room.as_str());
        let doc: Option<String> = self.cmd(redis::cmd("GET").arg(k)).await?;
        let doc = doc.ok_or_else(|| ApiError::new(ErrorCode::RoomNotFound))?;
        serde_json::from_str(&doc).map_err(|e| corrupt("room", e))
    }

    fn session_answer(v: Value) -> Option<SessionRecord> {
        serde_json::from_value(v).ok().and_then(session_record)
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn put_session(&self, s: SessionRecord) -> Result<Option<SessionRecord>, ApiError> {
        let (app, exp) = (s.user.app.to_string(), s.expires_at.to_string());
        let args = [s.token.as_str(), &app, s.user.user.as_str(), &exp];
        let v = self.call(&self.scripts.put_session, &args).await?;
        Ok(Self::session_answer(v))
    }

    async fn touch_session(
        &self,
        token: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<SessionRecord, ApiError> {
        let args = [token, &now.to_string(), &ttl.to_string()];
        let v = self.call(&self.scripts.touch_session, &args).await?;
        Self::session_answer(v).ok_or_else(|| corrupt("session", "fields"))
    }

    async fn session_of_user(&self, user: &UserKey, now: Millis) -> Option<SessionRecord> {
        let args = [&user.app.to_string(), user.user.as_str(), &now.to_string()];
        let v = self.call(&self.scripts.session_of_user, &args).await.ok()?;
        Self::session_answer(v)
    }

    async fn remove_session(&self, token: &str) -> Option<SessionRecord> {
        let v = self
            .call(&self.scripts.remove_session, &[token])
            .await
            .ok()?;
        Self::session_answer(v)
    }

    async fn purge_sessions(&self, now: Millis) -> Vec<SessionRecord> {
        match self
            .call(&self.scripts.purge_sessions, &[&now.to_string()])
            .await
        {
            Ok(v) => list_of::<SessionDoc>(v)
                .into_iter()
                .filter_map(session_record)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn sessions_expiring_between(&self, from: Millis, before: Millis) -> Vec<SessionRecord> {
        let (from, before) = (from.to_string(), before.to_string());
        match self
            .call(&self.scripts.sessions_expiring, &[&from, &before])
            .await
        {
            Ok(v) => list_of::<SessionDoc>(v)
                .into_iter()
                .filter_map(session_record)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn create_room(
        &self,
        room: NewRoom,
        now: Millis,
        rules: RoomRules,
    ) -> Result<(), ApiError> {
        let args = [
            &room.key.app.to_string(),
            room.key.room.as_str(),
            kind_name(room.kind),
            room.requested_by.as_str(),
            &room.info,
            &now.to_string(),
            &rules.max_rooms.to_string(),
            &rules.max_rooms_per_app.to_string(),
        ];
        self.call(&self.scripts.create_room, &args)
            .await
            .map(|_| ())
    }

    async fn add_member(
        &self,
        key: &RoomKey,
        kind: RoomKind,
        entry: Entry,
        now: Millis,
        rules: RoomRules,
    ) -> Result<Joined, ApiError> {
        let user = entry.pusher.user_id.clone();
        let doc = json!({
            "p": entry.pusher,
            "url": entry.push_url,
            "mixed": entry.mixed_play_url,
            "info": entry.room_info,
        })
        .to_string();
        let args = [
            &key.app.to_string(),
            key.room.as_str(),
            kind_name(kind),
            &doc,
            &now.to_string(),
            &rules.max_rooms.to_string(),
            &rules.max_rooms_per_app.to_string(),
            &rules.max_rooms_per_user.to_string(),
            &rules.capacity.to_string(),
        ];
        #[derive(Deserialize)]
        struct Answer {
            room: RoomDoc,
            is_new: bool,
        }
        let v = self.call(&self.scripts.add_member, &args).await?;
        let a: Answer = serde_json::from_value(v).map_err(|e| corrupt("room", e))?;
        let others = a
            .room
            .members
            .iter()
            .map(|m| m.p.user_id.clone())
            .filter(|u| *u != user)
            .collect();
        Ok(Joined {
            room: a.room.summary(&key.room)?,
            is_new: a.is_new,
            others,
        })
    }

    async fn remove_member(
        &self,
        key: &RoomKey,
        user: &UserId,
        reason: QuitReason,
        stale_before: Option<Millis>,
        rules: RoomRules,
    ) -> Result<Departure, ApiError> {
        let stale = stale_before.map(|t| t.to_string()).unwrap_or_default();
        let closes = if rules.creator_leave_closes_room {
            "1"
        } else {
            "0"
        };
        let args = [
            &key.app.to_string(),
            key.room.as_str(),
            user.as_str(),
            &stale,
            closes,
        ];
        let mut v = self.call(&self.scripts.remove_member, &args).await?;
        let pusher: Pusher =
            serde_json::from_value(v["p"].take()).map_err(|e| corrupt("member", e))?;
        let closed = match v["closed"].take() {
            Value::Bool(false) | Value::Null => None,
            left => Some((CloseReason::CreatorLeft, user_ids(left))),
        };
        Ok(Departure {
            room: key.clone(),
            pusher,
            reason,
            remaining: user_ids(v["remaining"].take()),
            closed,
        })
    }

    async fn destroy_room(&self, key: &RoomKey, by: &UserId) -> Result<Vec<UserId>, ApiError> {
        let args = [&key.app.to_string(), key.room.as_str(), by.as_str()];
        let v = self.call(&self.scripts.destroy_room, &args).await?;
        Ok(user_ids(v))
    }

    async fn heartbeat(&self, key: &RoomKey, user: &UserId, now: Millis) -> Result<(), ApiError> {
        let args = [
            &key.app.to_string(),
            key.room.as_str(),
            user.as_str(),
            &now.to_string(),
        ];
        self.call(&self.scripts.heartbeat, &args).await.map(|_| ())
    }

    async fn room(&self, key: &RoomKey) -> Result<RoomSummary, ApiError> {
        let doc = self.room_doc(key).await?;
        if doc.creator.is_empty() {
            return Err(ErrorCode::RoomNotFound.into());
        }
        doc.summary(&key.room)
    }

    async fn members(&self, key: &RoomKey) -> Result<Arc<[Pusher]>, ApiError> {
        Ok(self.room_doc(key).await?.pushers().into())
    }

    async fn list_rooms(
        &self,
        app: u64,
        kind: RoomKind,
        index: usize,
        count: usize,
    ) -> (Vec<RoomSummary>, usize) {
        let args = [
            &app.to_string(),
            kind_name(kind),
            &index.to_string(),
            &count.to_string(),
        ];
        let Ok((total, page)) = self
            .eval::<(usize, Vec<(String, String)>)>(&self.scripts.list_rooms, &args)
            .await
        else {
            return (Vec::new(), 0);
        };
        let rooms = page
            .into_iter()
            .filter_map(|(id, doc)| {
                let room = RoomId::new(id).ok()?;
                let doc: RoomDoc = serde_json::from_str(&doc).ok()?;
                (doc.kind == kind_name(kind))
                    .then(|| doc.summary(&room).ok())
                    .flatten()
            })
            .collect();
        (rooms, total)
    }

    async fn rooms_of(&self, user: &UserKey) -> Vec<RoomKey> {
        let k = format!("{PREFIX}ur:{}:{}", user.app, user.user.as_str());
        let mut con = self.con.clone();
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        let rooms: Vec<String> = match con.smembers(k).await {
            Ok(r) => r,
            Err(e) => {
                unavailable(&self.stats, &e);
                return Vec::new();
            }
        };
        rooms
            .into_iter()
            .filter_map(|r| {
                Some(RoomKey {
                    app: user.app,
                    room: RoomId::new(r).ok()?,
                })
            })
            .collect()
    }

    async fn stale_members(&self, before: Millis) -> Vec<(RoomKey, UserId)> {
        let mut cmd = redis::cmd("ZRANGEBYSCORE");
        cmd.arg(format!("{PREFIX}beats"))
            .arg("-inf")
            .arg(format!("({before}"))
            .arg("LIMIT")
            .arg(0)
            .arg(10_000);
        let Ok(found) = self.cmd::<Vec<String>>(&mut cmd).await else {
            return Vec::new();
        };
        found
            .iter()
            .filter_map(|m| {
                let (app, room, user): (String, String, String) = serde_json::from_str(m).ok()?;
                let key = RoomKey {
                    app: app.parse().ok()?,
                    room: RoomId::new(room).ok()?,
                };
                Some((key, UserId::new(user).ok()?))
            })
            .collect()
    }

    async fn reap_idle_rooms(&self, before: Millis) -> Vec<RoomKey> {
        let Ok(reaped) = self
            .eval::<Vec<String>>(&self.scripts.reap_idle_rooms, &[&before.to_string()])
            .await
        else {
            return Vec::new();
        };
        reaped
            .iter()
            .filter_map(|m| {
                let (app, room): (String, String) = serde_json::from_str(m).ok()?;
                Some(RoomKey {
                    app: app.parse().ok()?,
                    room: RoomId::new(room).ok()?,
                })
            })
            .collect()
    }

    async fn counts(&self) -> (usize, usize) {
        let mut cmd = redis::cmd("MGET");
        cmd.arg(format!("{PREFIX}n:rooms"))
            .arg(format!("{PREFIX}n:members"));
        match self.cmd::<(Option<i64>, Option<i64>)>(&mut cmd).await {
            Ok((r, m)) => (
                r.unwrap_or(0).max(0) as usize,
                m.unwrap_or(0).max(0) as usize,
            ),
            Err(_) => (0, 0),
        }
    }
}
