//! The embedded in-memory [`Store`]: rooms, the user→rooms index and sessions
//! each live in a fixed set of mutex-guarded shards, so unrelated rooms never
//! contend and no lock is held across an `.await` (all methods are sync inside).
//! Lock order, where two are taken: a room shard, then a user shard (or the
//! per-app room counts). The user→rooms index is a set, so joining and
//! leaving are O(1) whatever the number of rooms a user is in.

use super::*;
use crate::shards::lock;
use crate::shards::Shards;
use rtcroom_protocol::ErrorCode;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

struct Member {
    pusher: Pusher,
    push_url: String,
    last_beat: Millis,
}

struct Room {
    kind: RoomKind,
    info: String,
    requested_by: UserId,
    /// Set when the first member enters (the room is listed from then on).
    creator: Option<UserId>,
    mixed_play_url: String,
    created_at: Millis,
    order: u64,
    members: Vec<Member>,
    /// Members as others see them, rebuilt on every membership change.
    snapshot: Arc<[Pusher]>,
}

impl Room {
    fn refresh_snapshot(&mut self) {
        self.snapshot = self.members.iter().map(|m| m.pusher.clone()).collect();
    }

    fn summary(&self, room_id: &RoomId) -> RoomSummary {
        RoomSummary {
            room_id: room_id.clone(),
            room_info: self.info.clone(),
            room_creator: self
                .creator
                .clone()
                .unwrap_or_else(|| self.requested_by.clone()),
            mixed_play_url: self.mixed_play_url.clone(),
            custom: "{}".into(),
            pushers: self.snapshot.to_vec(),
            member_count: self.members.len() as u32,
            create_time: self.created_at,
        }
    }

    fn user_ids(&self) -> Vec<UserId> {
        self.members
            .iter()
            .map(|m| m.pusher.user_id.clone())
            .collect()
    }
}

/// In-memory state for a single RoomService node.
pub struct MemoryStore {
    rooms: Shards<RoomKey, Room>,
    user_rooms: Shards<UserKey, HashSet<RoomId>>,
    /// Rooms held per app (for `max_rooms_per_app`).
    app_rooms: Mutex<HashMap<u64, usize>>,
    sessions: Shards<String, SessionRecord>,
    user_sessions: Shards<UserKey, String>,
    room_count: AtomicUsize,
    member_count: AtomicUsize,
    order: AtomicU64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            rooms: Shards::default(),
            user_rooms: Shards::default(),
            app_rooms: Mutex::new(HashMap::new()),
            sessions: Shards::default(),
            user_sessions: Shards::default(),
            room_count: AtomicUsize::new(0),
            member_count: AtomicUsize::new(0),
            order: AtomicU64::new(0),
        }
    }

    /// Takes one room from the server's and the app's budget.
    fn reserve_room(&self, app: u64, rules: RoomRules) -> Result<(), ApiError> {
        self.room_count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < rules.max_rooms).then_some(n + 1)
            })
            .map_err(|_| ApiError::from(ErrorCode::TooManyRooms))?;
        let mut apps = lock(&self.app_rooms);
        let held = apps.entry(app).or_default();
        if *held >= rules.max_rooms_per_app {
            drop(apps);
            self.room_count.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::with_message(
                ErrorCode::AppRoomQuota,
                format!(
                    "this app holds {} rooms, its quota",
                    rules.max_rooms_per_app
                ),
            ));
        }
        *held += 1;
        Ok(())
    }

    fn release_room(&self, app: u64) {
        self.room_count.fetch_sub(1, Ordering::AcqRel);
        let mut apps = lock(&self.app_rooms);
        if let Some(held) = apps.get_mut(&app) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                apps.remove(&app);
            }
        }
    }

    /// Adds `room` to the user's rooms unless it is in `cap` rooms already;
    /// true when it was not in `room` before.
    fn index_reserve(
        &self,
        app: u64,
        user: &UserId,
        room: &RoomId,
        cap: usize,
    ) -> Result<bool, ApiError> {
        let key = UserKey {
            app,
            user: user.clone(),
        };
        let mut shard = self.user_rooms.lock(&key);
        let rooms = shard.entry(key).or_default();
        if rooms.contains(room) {
            return Ok(false);
        }
        if rooms.len() >= cap {
            return Err(ApiError::with_message(
                ErrorCode::TooManyRoomsForUser,
                format!("already a member of {cap} rooms, the limit"),
            ));
        }
        rooms.insert(room.clone());
        Ok(true)
    }

    fn new_room(&self, kind: RoomKind, requested_by: UserId, info: String, now: Millis) -> Room {
        Room {
            kind,
            info,
            requested_by,
            creator: None,
            mixed_play_url: String::new(),
            created_at: now,
            order: self.order.fetch_add(1, Ordering::Relaxed),
            members: Vec::new(),
            snapshot: Arc::from(Vec::new()),
        }
    }

    fn index_remove(&self, app: u64, user: &UserId, room: &RoomId) {
        let key = UserKey {
            app,
            user: user.clone(),
        };
        let mut shard = self.user_rooms.lock(&key);
        if let Some(rooms) = shard.get_mut(&key) {
            rooms.remove(room);
            if rooms.is_empty() {
                shard.remove(&key);
            }
        }
    }

    /// Removes a whole room from its (locked) shard and the index.
    fn drop_room(&self, shard: &mut HashMap<RoomKey, Room>, key: &RoomKey) -> Option<Room> {
        let room = shard.remove(key)?;
        for m in &room.members {
            self.index_remove(key.app, &m.pusher.user_id, &key.room);
        }
        self.release_room(key.app);
        self.member_count
            .fetch_sub(room.members.len(), Ordering::AcqRel);
        Some(room)
    }
}

fn not_found() -> ApiError {
    ErrorCode::RoomNotFound.into()
}

#[async_trait]
impl Store for MemoryStore {
    async fn put_session(&self, session: SessionRecord) -> Result<Option<SessionRecord>, ApiError> {
        let old_token = self
            .user_sessions
            .lock(&session.user)
            .insert(session.user.clone(), session.token.clone());
        let old = old_token.and_then(|t| self.sessions.lock(&t).remove(&t));
        self.sessions
            .lock(&session.token)
            .insert(session.token.clone(), session);
        Ok(old)
    }

    async fn touch_session(
        &self,
        token: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<SessionRecord, ApiError> {
        let mut shard = self.sessions.lock(token);
        let rec = shard
            .get_mut(token)
            .ok_or_else(|| ApiError::new(ErrorCode::AuthFailed))?;
        if rec.expires_at < now {
            return Err(ErrorCode::TokenExpired.into());
        }
        rec.expires_at = now.saturating_add(ttl);
        Ok(rec.clone())
    }

    async fn session_of_user(&self, user: &UserKey, now: Millis) -> Option<SessionRecord> {
        let token = self.user_sessions.lock(user).get(user).cloned()?;
        let rec = self.sessions.lock(&token).get(&token).cloned()?;
        (rec.expires_at >= now).then_some(rec)
    }

    async fn remove_session(&self, token: &str) -> Option<SessionRecord> {
        let rec = self.sessions.lock(token).remove(token)?;
        let mut users = self.user_sessions.lock(&rec.user);
        if users.get(&rec.user).is_some_and(|t| t == token) {
            users.remove(&rec.user);
        }
        Some(rec)
    }

    async fn purge_sessions(&self, now: Millis) -> Vec<SessionRecord> {
        let mut gone = Vec::new();
        for mut shard in self.sessions.all() {
            shard.retain(|_, s| {
                let keep = s.expires_at >= now;
                if !keep {
                    gone.push(s.clone());
                }
                keep
            });
        }
        for s in &gone {
            let mut users = self.user_sessions.lock(&s.user);
            if users.get(&s.user).is_some_and(|t| *t == s.token) {
                users.remove(&s.user);
            }
        }
        // Called by every sweep: the session maps give back what a peak left.
        self.sessions.shrink_sparse();
        self.user_sessions.shrink_sparse();
        gone
    }

    async fn sessions_expiring_between(&self, from: Millis, before: Millis) -> Vec<SessionRecord> {
        let mut found = Vec::new();
        for shard in self.sessions.all() {
            found.extend(
                shard
                    .values()
                    .filter(|s| (from..before).contains(&s.expires_at))
                    .cloned(),
            );
        }
        found
    }

    async fn create_room(
        &self,
        new: NewRoom,
        now: Millis,
        rules: RoomRules,
    ) -> Result<(), ApiError> {
        let mut shard = self.rooms.lock(&new.key);
        if shard.contains_key(&new.key) {
            return Err(ErrorCode::RoomExists.into());
        }
        self.reserve_room(new.key.app, rules)?;
        let room = self.new_room(new.kind, new.requested_by, new.info, now);
        shard.insert(new.key, room);
        Ok(())
    }

    async fn add_member(
        &self,
        key: &RoomKey,
        kind: RoomKind,
        entry: Entry,
        now: Millis,
        rules: RoomRules,
    ) -> Result<Joined, ApiError> {
        let mut shard = self.rooms.lock(key);
        let user = entry.pusher.user_id.clone();
        // The user's room budget first, so a refused entry creates nothing.
        let indexed = self.index_reserve(key.app, &user, &key.room, rules.max_rooms_per_user)?;
        let unindex = |e: ApiError| {
            if indexed {
                self.index_remove(key.app, &user, &key.room);
            }
            e
        };
        if !shard.contains_key(key) {
            self.reserve_room(key.app, rules).map_err(unindex)?;
            let info = entry.room_info.clone().unwrap_or_default();
            let room = self.new_room(kind, user.clone(), info, now);
            shard.insert(key.clone(), room);
        }
        let Some(room) = shard.get_mut(key) else {
            return Err(unindex(not_found()));
        };
        let is_new = match room.members.iter_mut().find(|m| m.pusher.user_id == user) {
            Some(m) => {
                // A repeated add_pusher keeps the member's place in the join
                // order: the others hold the one they were told.
                let join_order = m.pusher.join_order.or(entry.pusher.join_order);
                m.pusher = Pusher {
                    join_order,
                    ..entry.pusher
                };
                m.push_url = entry.push_url;
                m.last_beat = now;
                false
            }
            None => {
                let capacity = match room.kind {
                    RoomKind::Double => 2,
                    RoomKind::Multi => rules.capacity,
                };
                if room.members.len() >= capacity {
                    return Err(unindex(ErrorCode::RoomFull.into()));
                }
                room.members.push(Member {
                    pusher: entry.pusher,
                    push_url: entry.push_url,
                    last_beat: now,
                });
                self.member_count.fetch_add(1, Ordering::AcqRel);
                true
            }
        };
        if room.creator.is_none() {
            room.creator = Some(user.clone());
            room.mixed_play_url = entry.mixed_play_url;
        }
        room.refresh_snapshot();
        let others = room.user_ids().into_iter().filter(|u| *u != user).collect();
        let summary = room.summary(&key.room);
        Ok(Joined {
            room: summary,
            is_new,
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
        let mut shard = self.rooms.lock(key);
        let room = shard.get_mut(key).ok_or_else(not_found)?;
        let pos = room
            .members
            .iter()
            .position(|m| m.pusher.user_id == *user)
            .ok_or_else(|| ApiError::new(ErrorCode::NotMember))?;
        if stale_before.is_some_and(|t| room.members[pos].last_beat >= t) {
            return Err(ApiError::with_message(
                ErrorCode::NotMember,
                "member is alive",
            ));
        }
        let member = room.members.remove(pos);
        self.member_count.fetch_sub(1, Ordering::AcqRel);
        self.index_remove(key.app, user, &key.room);
        room.refresh_snapshot();
        let was_creator = room.creator.as_ref() == Some(user);
        let mut departure = Departure {
            room: key.clone(),
            pusher: member.pusher,
            reason,
            remaining: room.user_ids(),
            closed: None,
        };
        if room.members.is_empty() {
            self.drop_room(&mut shard, key);
            departure.remaining.clear();
        } else if was_creator && rules.creator_leave_closes_room {
            let left = std::mem::take(&mut departure.remaining);
            self.drop_room(&mut shard, key);
            departure.closed = Some((CloseReason::CreatorLeft, left));
        }
        Ok(departure)
    }

    async fn destroy_room(&self, key: &RoomKey, by: &UserId) -> Result<Vec<UserId>, ApiError> {
        let mut shard = self.rooms.lock(key);
        let room = shard.get(key).ok_or_else(not_found)?;
        let owner = room.creator.as_ref().unwrap_or(&room.requested_by);
        if owner != by {
            return Err(ErrorCode::NotRoomCreator.into());
        }
        let members = room.user_ids();
        self.drop_room(&mut shard, key);
        Ok(members)
    }

    async fn heartbeat(&self, key: &RoomKey, user: &UserId, now: Millis) -> Result<(), ApiError> {
        let mut shard = self.rooms.lock(key);
        let room = shard.get_mut(key).ok_or_else(not_found)?;
        let m = room
            .members
            .iter_mut()
            .find(|m| m.pusher.user_id == *user)
            .ok_or_else(|| ApiError::new(ErrorCode::NotMember))?;
        m.last_beat = m.last_beat.max(now);
        Ok(())
    }

    async fn room(&self, key: &RoomKey) -> Result<RoomSummary, ApiError> {
        let shard = self.rooms.lock(key);
        match shard.get(key) {
            Some(room) if room.creator.is_some() => Ok(room.summary(&key.room)),
            _ => Err(not_found()),
        }
    }

    async fn members(&self, key: &RoomKey) -> Result<Arc<[Pusher]>, ApiError> {
        let shard = self.rooms.lock(key);
        shard
            .get(key)
            .map(|r| r.snapshot.clone())
            .ok_or_else(not_found)
    }

    async fn list_rooms(
        &self,
        app: u64,
        kind: RoomKind,
        index: usize,
        count: usize,
    ) -> (Vec<RoomSummary>, usize) {
        let mut listed: Vec<(u64, RoomKey)> = Vec::new();
        for shard in self.rooms.all() {
            listed.extend(
                shard
                    .iter()
                    .filter(|(k, r)| k.app == app && r.kind == kind && r.creator.is_some())
                    .map(|(k, r)| (r.order, k.clone())),
            );
        }
        listed.sort_unstable_by_key(|(order, _)| *order);
        let total = listed.len();
        let page = listed
            .into_iter()
            .skip(index)
            .take(count)
            .filter_map(|(_, key)| {
                self.rooms
                    .lock(&key)
                    .get(&key)
                    .map(|r| r.summary(&key.room))
            })
            .collect();
        (page, total)
    }

    async fn rooms_of(&self, user: &UserKey) -> Vec<RoomKey> {
        let shard = self.user_rooms.lock(user);
        shard
            .get(user)
            .map(|rooms| {
                rooms
                    .iter()
                    .map(|r| RoomKey {
                        app: user.app,
                        room: r.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn stale_members(&self, before: Millis) -> Vec<(RoomKey, UserId)> {
        let mut stale = Vec::new();
        for shard in self.rooms.all() {
            for (key, room) in shard.iter() {
                for m in room.members.iter().filter(|m| m.last_beat < before) {
                    stale.push((key.clone(), m.pusher.user_id.clone()));
                }
            }
        }
        stale
    }

    async fn reap_idle_rooms(&self, before: Millis) -> Vec<RoomKey> {
        let mut reaped = Vec::new();
        for mut shard in self.rooms.all() {
            let idle: Vec<RoomKey> = shard
                .iter()
                .filter(|(_, r)| {
                    r.creator.is_none() && r.members.is_empty() && r.created_at < before
                })
                .map(|(k, _)| k.clone())
                .collect();
            for key in idle {
                self.drop_room(&mut shard, &key);
                reaped.push(key);
            }
        }
        // Called by every sweep: the room maps give back what a peak left.
        self.rooms.shrink_sparse();
        self.user_rooms.shrink_sparse();
        reaped
    }

    async fn counts(&self) -> (usize, usize) {
        (
            self.room_count.load(Ordering::Acquire),
            self.member_count.load(Ordering::Acquire),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RoomRules {
        RoomRules {
            max_rooms: 2,
            max_rooms_per_app: 2,
            max_rooms_per_user: 8,
            capacity: 2,
            creator_leave_closes_room: true,
        }
    }
    fn key(r: &str) -> RoomKey {
        RoomKey {
            app: 1,
            room: RoomId::new(r).unwrap(),
        }
    }
    fn uid(u: &str) -> UserId {
        UserId::new(u).unwrap()
    }
    fn entry(u: &str) -> Entry {
        Entry {
            pusher: Pusher {
                user_id: uid(u),
                user_name: u.into(),
                user_avatar: String::new(),
                accelerate_url: String::new(),
                join_order: None,
            },
            push_url: String::new(),
            mixed_play_url: String::new(),
            room_info: None,
        }
    }

    #[tokio::test]
    async fn first_member_activates_and_becomes_creator() {
        let s = MemoryStore::new();
        let new = NewRoom {
            key: key("r"),
            kind: RoomKind::Multi,
            requested_by: uid("a"),
            info: "i".into(),
        };
        s.create_room(new.clone(), 0, rules()).await.unwrap();
        assert_eq!(
            s.room(&key("r")).await.unwrap_err().code,
            3,
            "inactive rooms are hidden"
        );
        assert_eq!(s.create_room(new, 0, rules()).await.unwrap_err().code, 11);
        let j = s
            .add_member(&key("r"), RoomKind::Multi, entry("b"), 1, rules())
            .await
            .unwrap();
        assert!(j.is_new);
        assert_eq!(j.room.room_creator, uid("b"));
        assert_eq!(s.list_rooms(1, RoomKind::Multi, 0, 10).await.1, 1);
        assert_eq!(s.list_rooms(1, RoomKind::Double, 0, 10).await.1, 0);
    }

    #[tokio::test]
    async fn capacity_room_limit_and_last_one_out() {
        let s = MemoryStore::new();
        s.add_member(&key("r"), RoomKind::Multi, entry("a"), 0, rules())
            .await
            .unwrap();
        s.add_member(&key("r"), RoomKind::Multi, entry("b"), 0, rules())
            .await
            .unwrap();
        let full = s
            .add_member(&key("r"), RoomKind::Multi, entry("c"), 0, rules())
            .await
            .unwrap_err();
        assert_eq!(full.code, 5001);
        s.add_member(&key("r2"), RoomKind::Multi, entry("c"), 0, rules())
            .await
            .unwrap();
        let too_many = s
            .add_member(&key("r3"), RoomKind::Multi, entry("d"), 0, rules())
            .await
            .unwrap_err();
        assert_eq!(too_many.code, 1007);
        let d = s
            .remove_member(&key("r2"), &uid("c"), QuitReason::Left, None, rules())
            .await
            .unwrap();
        assert!(d.remaining.is_empty() && d.closed.is_none());
        assert_eq!(s.counts().await, (1, 2));
        assert!(s
            .rooms_of(&UserKey {
                app: 1,
                user: uid("c")
            })
            .await
            .is_empty());
    }

    #[tokio::test]
    async fn creator_leaving_closes_the_room_for_the_rest() {
        let s = MemoryStore::new();
        s.add_member(&key("r"), RoomKind::Multi, entry("a"), 0, rules())
            .await
            .unwrap();
        s.add_member(&key("r"), RoomKind::Multi, entry("b"), 0, rules())
            .await
            .unwrap();
        let d = s
            .remove_member(&key("r"), &uid("a"), QuitReason::Left, None, rules())
            .await
            .unwrap();
        assert_eq!(d.closed, Some((CloseReason::CreatorLeft, vec![uid("b")])));
        assert_eq!(s.counts().await, (0, 0));
        assert!(s
            .rooms_of(&UserKey {
                app: 1,
                user: uid("b")
            })
            .await
            .is_empty());
    }

    #[tokio::test]
    async fn heartbeat_racing_the_sweeper_wins() {
        let s = MemoryStore::new();
        s.add_member(&key("r"), RoomKind::Multi, entry("a"), 0, rules())
            .await
            .unwrap();
        assert_eq!(s.stale_members(10).await.len(), 1);
        s.heartbeat(&key("r"), &uid("a"), 20).await.unwrap();
        let alive = s
            .remove_member(&key("r"), &uid("a"), QuitReason::Timeout, Some(10), rules())
            .await;
        assert_eq!(alive.unwrap_err().code, 5);
    }

    #[tokio::test]
    async fn sessions_replace_and_expire() {
        let s = MemoryStore::new();
        let user = UserKey {
            app: 1,
            user: uid("a"),
        };
        let rec = |t: &str| SessionRecord {
            token: t.into(),
            user: user.clone(),
            expires_at: 100,
        };
        assert!(s.put_session(rec("t1")).await.unwrap().is_none());
        assert_eq!(s.put_session(rec("t2")).await.unwrap().unwrap().token, "t1");
        assert_eq!(s.touch_session("t1", 0, 10).await.unwrap_err().code, 7);
        assert_eq!(s.touch_session("t2", 50, 10).await.unwrap().expires_at, 60);
        assert_eq!(s.touch_session("t2", 61, 10).await.unwrap_err().code, 1004);
        assert_eq!(s.purge_sessions(61).await.len(), 1);
    }
}
