//! SFU links: in a room in SFU mode our media goes through the media server
//! on two connections instead of one peer per member — a **publisher** (our
//! tracks, sent once; we offer with `sfu_publish`, the server answers) and one
//! multistream **subscriber** (everyone else's tracks; the server offers with
//! `sfu_offer`, we answer each offer in order). Trickle ICE goes both ways
//! with the frame's `link`; remote candidates are held until their link's
//! remote description, and the publisher's own until its answer (the server
//! opens its handle on `sfu_publish`).
//!
//! **Entering SFU mode.** `room_mode sfu` while entering makes the room start
//! in SFU mode (no mesh peer is ever made); in a mesh room it switches
//! **make-before-break**: both links open while the mesh peers stay. A mesh
//! peer carries both directions, so it closes only once **both** ends play
//! each other through the media server: when that member's video plays
//! through our subscriber ([`Input::SfuMedia`](super::Input::SfuMedia), from
//! the glue, which swaps the view's stream then) we tell it with
//! `mesh_release`, and the peer closes once its own `mesh_release` came too —
//! closing on our side alone would freeze our video on its side until its
//! subscriber plays. [`Config::sfu_switch_timeout_ms`](super::Config::sfu_switch_timeout_ms)
//! after the switch every mesh peer closes at the latest. Views are keyed by
//! member, so the glue only swaps their stream. A host that cannot open SFU links
//! ([`Config::sfu`](super::Config::sfu) off: the mini-program) ignores it.
//!
//! **Faults.** `sfu_state lost` closes both links and tells the application
//! ([`Event::SfuStateChange`]); mesh peers still open during a switch stay
//! until the media server is back. `sfu_state ready` opens both links afresh
//! (publish and subscribe again). A link whose ICE fails (or stays
//! `disconnected` past the grace time) restarts ICE — the publisher with a
//! fresh offer, the subscriber by asking the server for one
//! (`sfu_subscribe {restart: true}`) — again and again, the wait doubling up
//! to `media_retry_max_ms`. After
//! [`Config::sfu_ice_restarts`](super::Config::sfu_ice_restarts) failed
//! restarts of one link, both links **start afresh** instead: closed, opened
//! anew, the publisher's first offer sent as `sfu_publish {fresh: true}` and
//! the subscriber asked for with a plain `sfu_subscribe`, so the server drops
//! the member's old media-server handles and makes new ones; the application
//! gets an [`Event::Error`] with
//! [`ClientError::SfuFreshStart`](rtcroom_protocol::ClientError::SfuFreshStart)
//! (-1017) as a notice. Fresh starts that do not connect lengthen the waits
//! of the restarts after them; a link that connects resets the count.
//! Leaving closes both links before `delete_pusher`.

use super::client::Client;
use super::event::Event;
use super::input::SdpKind;
use super::output::PeerAction;
use super::peers::MAX_PENDING_ICE;
use super::recovery::PeerState;
use super::room::Phase;
use super::vecmap::VecMap;
use rtcroom_protocol::sfu::{
    RoomMode, SfuClientFrame, SfuLink, SfuServerEvent, SfuState, SfuStream,
};
use rtcroom_protocol::ws::{ClientFrame, IceCandidate};
use rtcroom_protocol::{ClientError, RoomId, UserId};

/// The two links of an SFU room and the switch from mesh.
#[derive(Debug, Default)]
pub(crate) struct SfuLinks {
    publisher: Link,
    subscriber: Link,
    /// Members whose mesh peer is still up during the switch.
    switching: VecMap<UserId, Switching>,
    /// `sfu_state lost` until `ready`: both links are closed.
    lost: bool,
    /// Fresh starts since a link last connected.
    fresh_starts: u32,
}

/// A member's mesh peer kept through the switch.
#[derive(Debug, Clone, Copy)]
struct Switching {
    /// When it closes even if the switch did not complete.
    until: u64,
    /// Its video plays through our subscriber (we sent `mesh_release`).
    playing: bool,
    /// It sent `mesh_release`: ours plays through its subscriber.
    released: bool,
}

impl Switching {
    fn new(until: u64) -> Self {
        Switching {
            until,
            playing: false,
            released: false,
        }
    }

    /// Both ends play each other through the media server.
    fn done(&self) -> bool {
        self.playing && self.released
    }
}

/// One link's signaling and recovery state.
#[derive(Debug, Default)]
struct Link {
    /// Opened and not closed since.
    open: bool,
    /// A remote description was applied.
    remote_sdp: bool,
    /// Publisher: our offer is out and its answer has not come back.
    awaiting_answer: bool,
    /// Publisher: the next offer is the first of a new connection.
    fresh: bool,
    /// Subscriber: offers handed to the glue whose answers are still to come.
    answers_due: u32,
    /// Media-server candidates before the remote description.
    remote_ice: Vec<IceCandidate>,
    /// Publisher: our candidates before the answer.
    local_ice: Vec<IceCandidate>,
    repair: Repair,
}

/// Where a link's media recovery stands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Repair {
    /// Connecting or connected.
    #[default]
    Fine,
    /// ICE said `disconnected` at `since`.
    Disconnected { since: u64 },
    /// ICE restarted; again at `until` unless connected.
    Restarting { until: u64, attempts: u32 },
}

impl SfuLinks {
    /// Members whose mesh peer the switch still keeps.
    pub(crate) fn mesh_peers(&self) -> impl Iterator<Item = &UserId> {
        self.switching.keys()
    }

    fn link(&mut self, link: SfuLink) -> &mut Link {
        match link {
            SfuLink::Publisher => &mut self.publisher,
            SfuLink::Subscriber => &mut self.subscriber,
        }
    }

    /// The earliest switch fallback or link repair due.
    fn deadline(&self, grace_ms: u64) -> Option<u64> {
        let switch = if self.lost {
            None
        } else {
            self.switching.values().map(|s| s.until).min()
        };
        let repair = [&self.publisher, &self.subscriber]
            .into_iter()
            .filter_map(|l| match l.repair {
                Repair::Fine => None,
                Repair::Disconnected { since } => Some(since.saturating_add(grace_ms)),
                Repair::Restarting { until, .. } => Some(until),
            });
        switch.into_iter().chain(repair).min()
    }
}

impl Client {
    /// Whether the room we are in runs in SFU mode.
    pub(super) fn in_sfu_mode(&self) -> bool {
        matches!(&self.room.phase, Phase::InRoom(r) if r.sfu.is_some())
    }

    fn sfu_mut(&mut self) -> Option<(&RoomId, &mut SfuLinks)> {
        match &mut self.room.phase {
            Phase::InRoom(r) => r.sfu.as_mut().map(|s| (&r.room_id, s)),
            _ => None,
        }
    }

    pub(super) fn sfu_deadline(&self) -> Option<u64> {
        match &self.room.phase {
            Phase::InRoom(r) => r.sfu.as_ref()?.deadline(self.cfg.media_disconnect_grace_ms),
            _ => None,
        }
    }

    /// Puts the room into SFU mode and opens both links; with `switch`,
    /// every member's mesh peer stays until its SFU video plays.
    pub(super) fn start_sfu(&mut self, switch: bool) {
        let until = self.now.saturating_add(self.cfg.sfu_switch_timeout_ms);
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        if r.sfu.is_some() {
            return;
        }
        let mut links = SfuLinks::default();
        if switch {
            for user in r.members.keys() {
                links.switching.insert(user.clone(), Switching::new(until));
            }
        }
        r.sfu = Some(links);
        let room_id = r.room_id.clone();
        // The glue's spare becomes the SFU publisher (or is dropped).
        self.room.forget_spare();
        self.debug(format_args!("{room_id}: SFU, publishing and subscribing"));
        self.emit(Event::RoomMode {
            room_id,
            mode: RoomMode::Sfu,
        });
        self.open_sfu_links();
    }

    /// Opens both links afresh: publish (the glue's offer follows) and
    /// subscribe. The server replaces whatever it still holds for them.
    fn open_sfu_links(&mut self) {
        let ice_servers = self
            .session
            .auth()
            .map(|a| a.ice_servers.clone())
            .unwrap_or_default();
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        let room_id = room_id.clone();
        links.publisher = Link {
            open: true,
            fresh: true,
            ..Link::default()
        };
        links.subscriber = Link {
            open: true,
            ..Link::default()
        };
        for link in [SfuLink::Publisher, SfuLink::Subscriber] {
            let ice_servers = ice_servers.clone();
            self.peer(PeerAction::SfuOpen { link, ice_servers });
        }
        let frame = SfuClientFrame::SfuSubscribe {
            room_id,
            restart: false,
        };
        self.send_frame(frame, None);
    }

    /// Closes both links (leaving the room, or the media server is gone).
    pub(super) fn close_sfu_links(&mut self) {
        if let Some((_, links)) = self.sfu_mut() {
            links.publisher = Link::default();
            links.subscriber = Link::default();
        }
        for link in [SfuLink::Publisher, SfuLink::Subscriber] {
            self.peer(PeerAction::SfuClose { link });
        }
    }

    /// `user`'s mesh peer is closing: whether there is one (always in a
    /// mesh room; in SFU mode only while the switch keeps it).
    pub(super) fn forget_mesh_peer(&mut self, user: &UserId) -> bool {
        match self.sfu_mut() {
            Some((_, links)) => links.switching.remove(user).is_some(),
            None => true,
        }
    }

    /// An SFU frame for the room we are in or entering.
    pub(super) fn on_sfu_event(&mut self, event: SfuServerEvent) {
        if self.room.current() != Some(event.room_id()) {
            return self.debug(format_args!("SFU frame: not in room, ignored"));
        }
        match event {
            SfuServerEvent::RoomMode { mode, .. } => self.on_room_mode(mode),
            SfuServerEvent::SfuAnswer { sdp, .. } => self.on_sfu_answer(sdp),
            SfuServerEvent::SfuOffer { sdp, streams, .. } => self.on_sfu_offer(sdp, streams),
            SfuServerEvent::SfuCandidate {
                link, candidate, ..
            } => self.on_sfu_remote_ice(link, candidate),
            SfuServerEvent::SfuState { state, .. } => self.on_sfu_state(state),
        }
    }

    fn on_room_mode(&mut self, mode: RoomMode) {
        if mode != RoomMode::Sfu {
            return;
        }
        if !self.cfg.sfu {
            return self.debug(format_args!("room_mode sfu: no SFU links here (bridged)"));
        }
        match &mut self.room.phase {
            Phase::Entering(e) => e.sfu = true,
            // A re-join (our peers are closed) starts like an entry; else switch.
            Phase::InRoom(r) => {
                let rejoining = r.sync.as_ref().is_some_and(|s| s.rejoin_prev.is_some());
                self.start_sfu(!rejoining)
            }
            Phase::Idle | Phase::Creating { .. } => {}
        }
    }

    fn on_sfu_answer(&mut self, sdp: String) {
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        let room_id = room_id.clone();
        let p = &mut links.publisher;
        if !p.open || !p.awaiting_answer {
            return self.debug(format_args!("sfu_answer: no publish out, ignored"));
        }
        p.awaiting_answer = false;
        p.remote_sdp = true;
        let remote = std::mem::take(&mut p.remote_ice);
        let local = std::mem::take(&mut p.local_ice);
        let link = SfuLink::Publisher;
        self.apply_sfu_remote(link, SdpKind::Answer, sdp, Vec::new(), remote);
        for candidate in local {
            let room_id = room_id.clone();
            self.send_frame(
                SfuClientFrame::SfuCandidate {
                    room_id,
                    link,
                    candidate,
                },
                None,
            );
        }
    }

    fn on_sfu_offer(&mut self, sdp: String, streams: Vec<SfuStream>) {
        let Some((_, links)) = self.sfu_mut() else {
            return;
        };
        let s = &mut links.subscriber;
        if !s.open {
            return self.debug(format_args!("sfu_offer: subscriber closed, ignored"));
        }
        s.answers_due = s.answers_due.saturating_add(1);
        s.remote_sdp = true;
        let remote = std::mem::take(&mut s.remote_ice);
        self.apply_sfu_remote(SfuLink::Subscriber, SdpKind::Offer, sdp, streams, remote);
    }

    /// The media server's description to `link`, then the candidates held for it.
    fn apply_sfu_remote(
        &mut self,
        link: SfuLink,
        kind: SdpKind,
        sdp: String,
        streams: Vec<SfuStream>,
        held: Vec<IceCandidate>,
    ) {
        self.peer(PeerAction::SfuRemoteSdp {
            link,
            kind,
            sdp,
            streams,
        });
        for candidate in held {
            self.peer(PeerAction::SfuAddIce { link, candidate });
        }
    }

    fn on_sfu_remote_ice(&mut self, link: SfuLink, candidate: IceCandidate) {
        let Some((_, links)) = self.sfu_mut() else {
            return;
        };
        let l = links.link(link);
        if !l.open {
            return;
        }
        if l.remote_sdp {
            return self.peer(PeerAction::SfuAddIce { link, candidate });
        }
        if l.remote_ice.len() >= MAX_PENDING_ICE {
            return self.debug(format_args!("SFU candidates before remote SDP: too many"));
        }
        l.remote_ice.push(candidate);
    }

    fn on_sfu_state(&mut self, state: SfuState) {
        let until = self.now.saturating_add(self.cfg.sfu_switch_timeout_ms);
        let Some((_, links)) = self.sfu_mut() else {
            return;
        };
        match state {
            SfuState::Lost => {
                links.lost = true;
                // Both ends' SFU media is gone: each must play again (and say so).
                for (_, s) in links.switching.iter_mut() {
                    *s = Switching::new(s.until);
                }
                self.debug(format_args!("media server lost: SFU links closed"));
                self.close_sfu_links();
            }
            SfuState::Ready => {
                links.lost = false;
                // Mesh peers kept through the outage get a fresh fallback time.
                for (_, s) in links.switching.iter_mut() {
                    s.until = until;
                }
                self.debug(format_args!(
                    "media server back: publishing and subscribing"
                ));
                self.open_sfu_links();
            }
        }
        self.emit(Event::SfuStateChange(state));
    }

    pub(super) fn on_sfu_local_sdp(&mut self, link: SfuLink, kind: SdpKind, sdp: String) {
        let Some((room_id, links)) = self.sfu_mut() else {
            return self.debug(format_args!("local {kind:?} {link:?}: not SFU, ignored"));
        };
        let room_id = room_id.clone();
        let l = links.link(link);
        if !l.open {
            return self.debug(format_args!("local {kind:?} {link:?}: closed, ignored"));
        }
        let frame = match (link, kind) {
            (SfuLink::Publisher, SdpKind::Offer) => {
                l.awaiting_answer = true;
                let fresh = std::mem::take(&mut l.fresh);
                SfuClientFrame::SfuPublish {
                    room_id,
                    sdp,
                    fresh,
                }
            }
            (SfuLink::Subscriber, SdpKind::Answer) if l.answers_due > 0 => {
                l.answers_due -= 1;
                SfuClientFrame::SfuAnswer { room_id, sdp }
            }
            _ => return self.debug(format_args!("local {kind:?} {link:?}: not sent")),
        };
        self.send_frame(frame, None);
    }

    pub(super) fn on_sfu_local_ice(&mut self, link: SfuLink, candidate: IceCandidate) {
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        let room_id = room_id.clone();
        let l = links.link(link);
        if !l.open {
            return;
        }
        if link == SfuLink::Publisher && !l.remote_sdp {
            if l.local_ice.len() < MAX_PENDING_ICE {
                l.local_ice.push(candidate);
            }
            return;
        }
        let frame = SfuClientFrame::SfuCandidate {
            room_id,
            link,
            candidate,
        };
        self.send_frame(frame, None);
    }

    /// The glue reports a link's ICE state: a broken one is repaired.
    pub(super) fn on_sfu_link_state(&mut self, link: SfuLink, state: PeerState) {
        let now = self.now;
        let Some((_, links)) = self.sfu_mut() else {
            return;
        };
        if !links.link(link).open {
            return;
        }
        if state == PeerState::Connected {
            links.fresh_starts = 0;
        }
        let l = links.link(link);
        match (state, l.repair) {
            (PeerState::Connected, Repair::Fine) => {}
            (PeerState::Connected, _) => {
                l.repair = Repair::Fine;
                self.debug(format_args!("SFU {link:?}: back"));
            }
            (PeerState::Disconnected, Repair::Fine) => {
                l.repair = Repair::Disconnected { since: now };
            }
            (PeerState::Failed, Repair::Fine | Repair::Disconnected { .. }) => {
                self.restart_sfu_link(link, 0);
            }
            (PeerState::Failed, Repair::Restarting { attempts, .. }) => {
                self.restart_sfu_link(link, attempts);
            }
            _ => {}
        }
    }

    /// ICE restart of `link`; again after a doubling wait unless it
    /// connects; a fresh start of both links once the restarts are used up.
    fn restart_sfu_link(&mut self, link: SfuLink, attempts: u32) {
        let (base, max, restarts) = (
            self.cfg.ice_restart_timeout_ms.max(1),
            self.cfg.media_retry_max_ms,
            self.cfg.sfu_ice_restarts,
        );
        let now = self.now;
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        if links.lost {
            return;
        }
        if attempts >= restarts {
            return self.fresh_start_sfu(link);
        }
        let doublings = attempts.saturating_add(links.fresh_starts).min(16);
        let wait = base.saturating_mul(1u64 << doublings).min(max.max(base));
        let until = now.saturating_add(wait);
        let room_id = room_id.clone();
        links.link(link).repair = Repair::Restarting {
            until,
            attempts: attempts.saturating_add(1),
        };
        self.debug(format_args!("SFU {link:?}: lost, ICE restart"));
        match link {
            SfuLink::Publisher => self.peer(PeerAction::SfuRestartIce { link }),
            SfuLink::Subscriber => self.send_frame(
                SfuClientFrame::SfuSubscribe {
                    room_id,
                    restart: true,
                },
                None,
            ),
        }
    }

    /// `link` did not come back through ICE restarts: both links close and
    /// open anew, and the server makes new handles for them.
    fn fresh_start_sfu(&mut self, link: SfuLink) {
        let Some((_, links)) = self.sfu_mut() else {
            return;
        };
        links.fresh_starts = links.fresh_starts.saturating_add(1);
        let n = links.fresh_starts;
        self.debug(format_args!("SFU {link:?}: still lost, fresh start {n}"));
        self.close_sfu_links();
        self.open_sfu_links();
        self.emit(Event::Error {
            code: ClientError::SfuFreshStart.code(),
            message: format!(
                "{} ({link:?} link, fresh start {n})",
                ClientError::SfuFreshStart.message()
            ),
        });
    }

    /// The glue saw `user`'s SFU video play: if the switch keeps a mesh peer
    /// to it, we tell it with `mesh_release`; the peer closes once `user`
    /// released it too.
    pub(super) fn on_sfu_media(&mut self, user: UserId) {
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        let Some(s) = links.switching.get_mut(&user) else {
            return;
        };
        if s.playing {
            return;
        }
        s.playing = true;
        let done = s.done();
        let room_id = room_id.clone();
        if self.mesh_peer_pristine(&user) {
            self.debug(format_args!(
                "{user} on SFU, mesh peer unused: closing mesh peer"
            ));
            return self.close_peer(&room_id, &user);
        }
        let frame = ClientFrame::MeshRelease {
            room_id: room_id.clone(),
            to: user.clone(),
        };
        self.send_frame(frame, None);
        if done {
            self.debug(format_args!("{user} on SFU both ways: closing mesh peer"));
            self.close_peer(&room_id, &user);
        } else {
            self.debug(format_args!(
                "{user} on SFU: mesh peer kept until it plays us"
            ));
        }
    }

    /// Nothing was negotiated on our mesh peer to `user` (a member who
    /// entered right as the room switched, straight into SFU mode): it
    /// carries no video either way, so it need not wait for a release.
    fn mesh_peer_pristine(&self, user: &UserId) -> bool {
        match &self.room.phase {
            Phase::InRoom(r) => r.members.get(user).is_some_and(|m| m.peer.is_pristine()),
            _ => false,
        }
    }

    /// `from` plays our video through the media server (`mesh_release`): the
    /// mesh peer the switch keeps to it closes if its video plays here too.
    pub(super) fn on_mesh_release(&mut self, from: UserId) {
        let Some((room_id, links)) = self.sfu_mut() else {
            return self.debug(format_args!("mesh_release from {from}: not SFU, ignored"));
        };
        let Some(s) = links.switching.get_mut(&from) else {
            return;
        };
        s.released = true;
        if s.done() {
            let room_id = room_id.clone();
            self.debug(format_args!("{from} plays us on SFU: closing mesh peer"));
            self.close_peer(&room_id, &from);
        }
    }

    /// Switch fallbacks and link repairs that are due.
    pub(super) fn sfu_timers(&mut self) {
        let (now, grace) = (self.now, self.cfg.media_disconnect_grace_ms);
        let Some((room_id, links)) = self.sfu_mut() else {
            return;
        };
        let room_id = room_id.clone();
        let late: Vec<UserId> = if links.lost {
            Vec::new()
        } else {
            links
                .switching
                .iter()
                .filter(|(_, s)| s.until <= now)
                .map(|(u, _)| u.clone())
                .collect()
        };
        let mut repairs = Vec::new();
        for link in [SfuLink::Publisher, SfuLink::Subscriber] {
            match links.link(link).repair {
                Repair::Disconnected { since } if now >= since.saturating_add(grace) => {
                    repairs.push((link, 0));
                }
                Repair::Restarting { until, attempts } if now >= until => {
                    repairs.push((link, attempts));
                }
                _ => {}
            }
        }
        for user in late {
            self.debug(format_args!("{user} SFU video late: closing mesh peer"));
            self.close_peer(&room_id, &user);
        }
        for (link, attempts) in repairs {
            self.restart_sfu_link(link, attempts);
        }
    }
}
