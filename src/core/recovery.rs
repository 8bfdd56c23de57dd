//! Media recovery: a peer connection whose media path broke (ICE `failed`,
//! or `disconnected` for longer than [`Config::media_disconnect_grace_ms`])
//! is repaired without the application doing anything.
//!
//! **The ladder.** 1. The offerer of the pair restarts ICE on the same peer
//! connection ([`PeerAction::RestartIce`]: a new offer with fresh ICE
//! credentials, answered like any offer); the answerer only waits for that
//! offer. 2. When ICE has not come back `ice_restart_timeout_ms` after the
//! restart (the answerer waits twice as long, so the offerer normally goes
//! first and the two never start over across each other), that side
//! re-creates its peer from scratch and sends `renegotiate`, as the re-sync
//! does (see [`signaling`](super::signaling)). 3. A peer started over that
//! does not connect is started over again, the wait doubling up to
//! `media_retry_max_ms`, for as long as the member stays.
//!
//! A negotiation that never settled skips step 1 (there is nothing to
//! restart). Whatever the step, ICE reporting `connected` ends the recovery.
//! The glue reports each peer connection's ICE state with
//! [`Input::PeerState`](super::Input::PeerState); nothing here needs a clock
//! of its own.

use super::client::Client;
use super::output::PeerAction;
use super::room::Phase;
use super::vecmap::VecMap;
use rtcroom_protocol::ws::ClientFrame;
use rtcroom_protocol::UserId;
use serde::{Deserialize, Serialize};

/// A peer connection's ICE state, as `RTCPeerConnection.iceConnectionState`
/// names it (`completed` counts as `connected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerState {
    /// Gathering, nothing checked yet.
    New,
    /// Checking candidate pairs.
    Checking,
    /// A working pair was found (also `completed`).
    #[serde(alias = "completed")]
    Connected,
    /// The working pair stopped answering; it may come back by itself.
    Disconnected,
    /// No pair works.
    Failed,
    /// Closed.
    Closed,
}

impl PeerState {
    /// Reads `iceConnectionState` (or `connectionState`) as the browser spells it.
    pub fn from_ice(s: &str) -> Option<Self> {
        Some(match s {
            "new" => Self::New,
            "checking" | "connecting" => Self::Checking,
            "connected" | "completed" => Self::Connected,
            "disconnected" => Self::Disconnected,
            "failed" => Self::Failed,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

/// Where one peer's recovery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Connecting or connected: nothing to do.
    Fine,
    /// ICE said `disconnected` at `since`; it may come back by itself.
    Disconnected { since: u64 },
    /// An ICE restart is under way (offerer) or awaited (answerer).
    Restarting { until: u64 },
    /// Started over from scratch; again at `until` unless connected.
    StartedOver { until: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Track {
    step: Step,
    /// Times started over since the last `connected`.
    attempts: u32,
}

/// Each peer's recovery, by member.
#[derive(Debug, Default)]
pub(crate) struct Recovery {
    tracks: VecMap<UserId, Track>,
}

impl Recovery {
    pub(crate) fn deadline(&self, grace_ms: u64) -> Option<u64> {
        self.tracks
            .values()
            .filter_map(|t| match t.step {
                Step::Fine => None,
                Step::Disconnected { since } => Some(since.saturating_add(grace_ms)),
                Step::Restarting { until } | Step::StartedOver { until } => Some(until),
            })
            .min()
    }

    /// The peer to `user` is gone.
    pub(crate) fn forget(&mut self, user: &UserId) {
        self.tracks.remove(user);
    }
}

impl Client {
    /// The glue reports the ICE state of the peer connection to `user`.
    pub(super) fn on_peer_state(&mut self, user: UserId, state: PeerState) {
        if !self.is_member(&user) {
            return self.debug(format_args!("ICE state of {user}: no peer"));
        }
        let track = self.recovery.tracks.get(&user).copied().unwrap_or(Track {
            step: Step::Fine,
            attempts: 0,
        });
        let step = match (state, track.step) {
            (PeerState::Connected, Step::Fine) => Step::Fine,
            (PeerState::Connected, _) => {
                self.debug(format_args!("media {user}: back"));
                self.recovery.tracks.remove(&user);
                return;
            }
            (PeerState::Disconnected, Step::Fine) => {
                self.debug(format_args!("media {user}: disconnected, waiting"));
                Step::Disconnected { since: self.now }
            }
            (PeerState::Failed, Step::Fine | Step::Disconnected { .. }) => {
                return self.restart_media(user, track.attempts);
            }
            // The ICE restart itself failed: start over now.
            (PeerState::Failed, Step::Restarting { .. }) => {
                return self.start_media_over(user, track.attempts);
            }
            (_, step) => step,
        };
        self.recovery.tracks.insert(user, Track { step, ..track });
    }

    pub(super) fn recovery_timers(&mut self) {
        let grace = self.cfg.media_disconnect_grace_ms;
        let due: Vec<(UserId, Track)> = self
            .recovery
            .tracks
            .iter()
            .filter(|(_, t)| match t.step {
                Step::Fine => false,
                Step::Disconnected { since } => self.now >= since.saturating_add(grace),
                Step::Restarting { until } | Step::StartedOver { until } => self.now >= until,
            })
            .map(|(u, t)| (u.clone(), *t))
            .collect();
        for (user, track) in due {
            if !self.is_member(&user) {
                self.recovery.forget(&user);
                continue;
            }
            match track.step {
                Step::Disconnected { .. } => self.restart_media(user, track.attempts),
                _ => self.start_media_over(user, track.attempts),
            }
        }
    }

    /// Step 1: the offerer restarts ICE, the answerer waits for its offer;
    /// a negotiation that never settled starts over at once.
    fn restart_media(&mut self, user: UserId, attempts: u32) {
        let Phase::InRoom(r) = &self.room.phase else {
            return;
        };
        let Some(m) = r.members.get(&user) else {
            return;
        };
        if !m.peer.is_settled() {
            return self.start_media_over(user, attempts);
        }
        let wait = self.cfg.ice_restart_timeout_ms;
        let until = if m.peer.is_offerer() {
            self.debug(format_args!("media {user}: lost, ICE restart"));
            self.peer(PeerAction::RestartIce { user: user.clone() });
            self.now.saturating_add(wait)
        } else {
            self.debug(format_args!("media {user}: lost, awaiting ICE restart"));
            self.now.saturating_add(wait.saturating_mul(2))
        };
        self.recovery.tracks.insert(
            user,
            Track {
                step: Step::Restarting { until },
                attempts,
            },
        );
    }

    /// Steps 2 and 3: a fresh peer connection and `renegotiate`.
    fn start_media_over(&mut self, user: UserId, attempts: u32) {
        let Some(room_id) = self.room.current().cloned() else {
            return;
        };
        self.debug(format_args!("media {user}: still lost, starting over"));
        self.restart_peer(&user);
        let frame = ClientFrame::Renegotiate {
            room_id,
            to: user.clone(),
        };
        self.send_frame(frame, None);
        let base = self.cfg.ice_restart_timeout_ms.max(1);
        let wait = base
            .saturating_mul(1u64 << attempts.min(16))
            .min(self.cfg.media_retry_max_ms.max(base));
        self.recovery.tracks.insert(
            user,
            Track {
                step: Step::StartedOver {
                    until: self.now.saturating_add(wait),
                },
                attempts: attempts.saturating_add(1),
            },
        );
    }

    fn is_member(&self, user: &UserId) -> bool {
        matches!(&self.room.phase, Phase::InRoom(r) if r.members.contains_key(user))
    }
}
