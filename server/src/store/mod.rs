//! The state RoomService keeps — login sessions, rooms and their members —
//! behind the [`Store`] trait, so one node keeps it in memory ([`MemoryStore`],
//! the default) and a cluster of nodes keeps it in Redis ([`RedisStore`]).
//!
//! The seam to a cluster is here and in [`crate::hub::Hub::deliver`]: the
//! service, the relay and the RTMP hook read and change shared state only
//! through this trait (the hook finds a stream user's current session with
//! [`Store::session_of_user`], not in the node's hub), and reach members only
//! by handing an encoded event and its recipients to the hub. A Redis store
//! implements each method as one script/transaction; a cross-node hub routes
//! each recipient to the node holding its socket.
//!
//! Every method is one atomic step: the room rules (capacity, creator,
//! last-one-out) are applied inside it, so no caller holds a lock across an
//! `.await`. Times are unix milliseconds passed in by the caller, which keeps
//! the rules testable without a clock.

mod memory;
pub mod redis_store;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;

use async_trait::async_trait;
use rtcroom_protocol::http::{Pusher, RoomSummary};
use rtcroom_protocol::ws::{CloseReason, QuitReason};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use std::sync::Arc;

/// Unix time in milliseconds.
pub type Millis = u64;

/// The room types of the original service: their URL segment sets capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomKind {
    /// `multi_room` and `rtc_room`: up to `limits.max_members`.
    Multi,
    /// `double_room`: two members.
    Double,
}

impl RoomKind {
    /// The kind named by a URL segment.
    pub fn from_segment(segment: &str) -> Option<Self> {
        match segment {
            "multi_room" | "rtc_room" => Some(Self::Multi),
            "double_room" => Some(Self::Double),
            _ => None,
        }
    }
}

/// A user within an app (user ids are per sdkAppID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserKey {
    /// sdkAppID.
    pub app: u64,
    /// userID.
    pub user: UserId,
}

/// A room within an app.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomKey {
    /// sdkAppID.
    pub app: u64,
    /// roomID.
    pub room: RoomId,
}

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The opaque token.
    pub token: String,
    /// Who it belongs to.
    pub user: UserKey,
    /// When it lapses unless used.
    pub expires_at: Millis,
}

/// The rules a room operation applies, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RoomRules {
    /// Rooms allowed at once (all apps).
    pub max_rooms: usize,
    /// Rooms this room's app may hold at once.
    pub max_rooms_per_app: usize,
    /// Rooms one user may be a member of at once.
    pub max_rooms_per_user: usize,
    /// Members allowed in a room of this kind.
    pub capacity: usize,
    /// Creator leaving closes the room.
    pub creator_leave_closes_room: bool,
}

/// A new room's description.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// Where it lives.
    pub key: RoomKey,
    /// Its kind (capacity, listing).
    pub kind: RoomKind,
    /// Who asked for it.
    pub requested_by: UserId,
    /// Free-form info.
    pub info: String,
}

/// A member entering a room.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What others see.
    pub pusher: Pusher,
    /// Its RTMP push URL ("" for WebRTC members).
    pub push_url: String,
    /// Play URL of the mixed stream, used if this entry creates/activates the room.
    pub mixed_play_url: String,
    /// Room info, used if this entry creates the room.
    pub room_info: Option<String>,
}

/// What `add_member` did.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The room after the change.
    pub room: RoomSummary,
    /// False when the user was already a member (its details were updated).
    pub is_new: bool,
    /// Members to tell about the newcomer (everyone but the newcomer).
    pub others: Vec<UserId>,
}

/// What removing a member did.
#[derive(Debug, Clone)]
pub struct Departure {
    /// The room.
    pub room: RoomKey,
    /// The member who left.
    pub pusher: Pusher,
    /// Why.
    pub reason: QuitReason,
    /// Members still in the room (to be told of the quit).
    pub remaining: Vec<UserId>,
    /// When the departure closed the room: why, and who was still there.
    pub closed: Option<(CloseReason, Vec<UserId>)>,
}

/// Shared state of RoomService. Errors are protocol [`ApiError`]s.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a session; returns the user's previous session, now invalid.
    async fn put_session(&self, session: SessionRecord) -> Result<Option<SessionRecord>, ApiError>;
    /// Looks a token up and slides its expiry to `now + ttl`.
    async fn touch_session(
        &self,
        token: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<SessionRecord, ApiError>;
    /// The user's current (latest) session, if it has one that has not lapsed by `now`.
    async fn session_of_user(&self, user: &UserKey, now: Millis) -> Option<SessionRecord>;
    /// Ends a session.
    async fn remove_session(&self, token: &str) -> Option<SessionRecord>;
    /// Drops sessions that lapsed before `now`; returns them.
    async fn purge_sessions(&self, now: Millis) -> Vec<SessionRecord>;
    /// Sessions whose `expires_at` is in `[from, before)`, left in place.
    /// `put_session` and `touch_session` set it to last use + ttl, so with
    /// `from = now` and `before = now - idle + ttl` these are the live
    /// sessions unused for `idle`: the idle-session reaper's candidates (a
    /// store with an expiry index answers it with one range read).
    async fn sessions_expiring_between(&self, from: Millis, before: Millis) -> Vec<SessionRecord>;

    /// Creates an (inactive) room; fails with RoomExists / TooManyRooms / AppRoomQuota.
    async fn create_room(
        &self,
        room: NewRoom,
        now: Millis,
        rules: RoomRules,
    ) -> Result<(), ApiError>;
    /// Adds or updates a member, creating the room when it does not exist;
    /// fails with RoomFull, TooManyRoomsForUser, TooManyRooms or AppRoomQuota.
    async fn add_member(
        &self,
        key: &RoomKey,
        kind: RoomKind,
        entry: Entry,
        now: Millis,
        rules: RoomRules,
    ) -> Result<Joined, ApiError>;
    /// Removes a member. With `stale_before`, only if its last heartbeat is older
    /// (so a heartbeat racing the sweeper wins).
    async fn remove_member(
        &self,
        key: &RoomKey,
        user: &UserId,
        reason: QuitReason,
        stale_before: Option<Millis>,
        rules: RoomRules,
    ) -> Result<Departure, ApiError>;
    /// Destroys a room (creator only); returns the members who were in it.
    async fn destroy_room(&self, key: &RoomKey, by: &UserId) -> Result<Vec<UserId>, ApiError>;
    /// Records a member's heartbeat.
    async fn heartbeat(&self, key: &RoomKey, user: &UserId, now: Millis) -> Result<(), ApiError>;
    /// An active room with its members.
    async fn room(&self, key: &RoomKey) -> Result<RoomSummary, ApiError>;
    /// A room's members (cheap snapshot, for routing messages).
    async fn members(&self, key: &RoomKey) -> Result<Arc<[Pusher]>, ApiError>;
    /// A page of active rooms of one kind, oldest first, and the total.
    async fn list_rooms(
        &self,
        app: u64,
        kind: RoomKind,
        index: usize,
        count: usize,
    ) -> (Vec<RoomSummary>, usize);
    /// Rooms the user is a member of.
    async fn rooms_of(&self, user: &UserKey) -> Vec<RoomKey>;
    /// Members whose last heartbeat is older than `before`.
    async fn stale_members(&self, before: Millis) -> Vec<(RoomKey, UserId)>;
    /// Removes rooms created before `before` that nobody ever entered.
    async fn reap_idle_rooms(&self, before: Millis) -> Vec<RoomKey>;
    /// (rooms, members) held now.
    async fn counts(&self) -> (usize, usize);
}
