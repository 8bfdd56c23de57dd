//! Negotiation state of the peer connection to one remote member.
//!
//! **Offerer rule** ([`offers_to`]): when both members carry a join order
//! (this client and our server), the later joiner creates the offer — the
//! newcomer, which offers as soon as `add_pusher`'s roster is in; otherwise
//! the one whose `userID` sorts first (byte-wise). The other only answers.
//! Both sides compute it from the same two ids and orders, so two offers for
//! the same pair can never cross (no glare), whichever side learns of the
//! other first.
//!
//! Remote ICE candidates that arrive before the remote description are held
//! and released right after its `SetRemoteSdp`.
//!
//! **Starting over.** A reconnect the server could not resume may have lost
//! an offer or answer. Each side knows only its own half: a peer is
//! [`settled`](Peer::is_settled) once its offer/answer exchange is done from
//! our side, and [`pristine`](Peer::is_pristine) while nothing of it has
//! happened yet, so a fresh offer still reaches the other side's fresh peer.

use super::input::SdpKind;
use super::output::PeerAction;
use rtcroom_protocol::http::{offers_to, Pusher};
use rtcroom_protocol::ws::IceCandidate;
use rtcroom_protocol::UserId;

/// Remote candidates held per peer before its remote description; more are dropped.
pub(crate) const MAX_PENDING_ICE: usize = 256;

/// Whether we (`me`, with our own join order) offer to the member `other`.
pub(crate) fn is_offerer(me: &UserId, my_order: Option<u64>, other: &Pusher) -> bool {
    offers_to(me, my_order, &other.user_id, other.join_order)
}

/// One peer connection's signaling state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    offerer: bool,
    /// Offerer: an offer went out and its answer has not come back.
    awaiting_answer: bool,
    /// Answerer: a remote offer came in and our answer has not gone out.
    answer_due: bool,
    /// A remote description has been applied.
    remote_sdp: bool,
    pending_ice: Vec<IceCandidate>,
    /// Answerer: the first offer came inside the member's `pusher_join`; its
    /// copy, due as an `offer` frame, is dropped.
    offer_copy: Option<String>,
}

impl Peer {
    pub(crate) fn new(offerer: bool) -> Self {
        Self {
            offerer,
            awaiting_answer: false,
            answer_due: false,
            remote_sdp: false,
            pending_ice: Vec::new(),
            offer_copy: None,
        }
    }

    /// Whether this side offers.
    pub(crate) fn is_offerer(&self) -> bool {
        self.offerer
    }

    /// Offerer: our offer went out by another way (`add_pusher`'s).
    pub(crate) fn offer_sent(&mut self) {
        self.awaiting_answer = self.offerer;
    }

    /// Offerer: an offer is out and its answer has not come back.
    pub(crate) fn is_awaiting_answer(&self) -> bool {
        self.awaiting_answer
    }

    /// Whether our side of the offer/answer exchange is done: the offerer
    /// applied the answer; the answerer applied the offer and sent its answer.
    pub(crate) fn is_settled(&self) -> bool {
        self.remote_sdp && !self.awaiting_answer && !self.answer_due
    }

    /// Whether nothing was negotiated yet: the offerer has not sent its offer,
    /// the answerer has not received one. Such a peer need not start over
    /// when the other side does: whatever it sends or applies from now on
    /// belongs to the other side's fresh peer.
    pub(crate) fn is_pristine(&self) -> bool {
        !self.remote_sdp && !self.awaiting_answer && !self.answer_due
    }

    /// An offer from the remote member.
    pub(crate) fn remote_offer(
        &mut self,
        user: &UserId,
        sdp: String,
    ) -> Result<Vec<PeerAction>, &'static str> {
        if self.offerer {
            return Err("offer from a member that must answer us");
        }
        if self.offer_copy.as_ref() == Some(&sdp) {
            self.offer_copy = None;
            return Err("the copy of the offer its pusher_join carried");
        }
        self.answer_due = true;
        Ok(self.apply_remote(user, SdpKind::Offer, sdp))
    }

    /// The member's first offer, inside its `pusher_join`: applied like an
    /// `offer` frame, whose copy of it will then be dropped.
    pub(crate) fn join_offer(
        &mut self,
        user: &UserId,
        sdp: String,
    ) -> Result<Vec<PeerAction>, &'static str> {
        let actions = self.remote_offer(user, sdp.clone())?;
        self.offer_copy = Some(sdp);
        Ok(actions)
    }

    /// An answer from the remote member.
    pub(crate) fn remote_answer(
        &mut self,
        user: &UserId,
        sdp: String,
    ) -> Result<Vec<PeerAction>, &'static str> {
        if !self.offerer {
            return Err("answer from a member that must offer");
        }
        if !self.awaiting_answer {
            return Err("answer without an outstanding offer");
        }
        self.awaiting_answer = false;
        Ok(self.apply_remote(user, SdpKind::Answer, sdp))
    }

    /// A candidate from the remote member: `Some` to add now, `None` when held.
    pub(crate) fn remote_ice(
        &mut self,
        user: &UserId,
        candidate: IceCandidate,
    ) -> Result<Option<PeerAction>, &'static str> {
        if self.remote_sdp {
            return Ok(Some(PeerAction::AddIce {
                user: user.clone(),
                candidate,
            }));
        }
        if self.pending_ice.len() >= MAX_PENDING_ICE {
            return Err("too many candidates before the remote description");
        }
        self.pending_ice.push(candidate);
        Ok(None)
    }

    /// Our peer connection produced an offer or answer: `Ok` to send it.
    pub(crate) fn local_sdp(&mut self, kind: SdpKind) -> Result<(), &'static str> {
        match (kind, self.offerer) {
            (SdpKind::Offer, true) => {
                self.awaiting_answer = true;
                Ok(())
            }
            (SdpKind::Answer, false) if self.answer_due => {
                self.answer_due = false;
                Ok(())
            }
            (SdpKind::Answer, false) => Err("answer without a remote offer"),
            (SdpKind::Offer, false) => Err("local offer on the answering side"),
            (SdpKind::Answer, true) => Err("local answer on the offering side"),
        }
    }

    fn apply_remote(&mut self, user: &UserId, kind: SdpKind, sdp: String) -> Vec<PeerAction> {
        self.remote_sdp = true;
        let mut out = vec![PeerAction::SetRemoteSdp {
            user: user.clone(),
            kind,
            sdp,
        }];
        out.extend(
            self.pending_ice
                .drain(..)
                .map(|candidate| PeerAction::AddIce {
                    user: user.clone(),
                    candidate,
                }),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn u(s: &str) -> UserId {
        UserId::new(s).unwrap()
    }

    fn cand(c: &str) -> IceCandidate {
        IceCandidate {
            candidate: c.into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }
    }

    fn p(id: &str, join_order: Option<u64>) -> Pusher {
        Pusher {
            user_id: u(id),
            user_name: String::new(),
            user_avatar: String::new(),
            accelerate_url: String::new(),
            join_order,
        }
    }

    #[test]
    fn exactly_one_side_offers() {
        let orders = [None, Some(5), Some(7)];
        for (a, b) in [("alice", "bob"), ("b", "a"), ("u10", "u9"), ("A", "a")] {
            for (oa, ob) in orders
                .iter()
                .flat_map(|x| orders.iter().map(move |y| (*x, *y)))
            {
                assert_ne!(
                    is_offerer(&u(a), oa, &p(b, ob)),
                    is_offerer(&u(b), ob, &p(a, oa)),
                    "{a} {oa:?} {b} {ob:?}"
                );
            }
        }
    }

    #[test]
    fn with_join_orders_the_later_joiner_offers() {
        // "alice" sorts first, but "bob" joined later: bob offers.
        assert!(is_offerer(&u("bob"), Some(9), &p("alice", Some(3))));
        assert!(!is_offerer(&u("alice"), Some(3), &p("bob", Some(9))));
        // One side without an order (an original client or server): the ids decide.
        assert!(is_offerer(&u("alice"), Some(3), &p("bob", None)));
        assert!(!is_offerer(&u("bob"), None, &p("alice", Some(3))));
        // Equal orders (two servers): the ids decide.
        assert!(is_offerer(&u("alice"), Some(4), &p("bob", Some(4))));
    }

    #[test]
    fn candidates_wait_for_the_remote_description() {
        let bob = u("bob");
        let mut p = Peer::new(false);
        assert_eq!(p.remote_ice(&bob, cand("c1")), Ok(None));
        assert_eq!(p.remote_ice(&bob, cand("c2")), Ok(None));
        let acts = p.remote_offer(&bob, "o".into()).unwrap();
        assert_eq!(acts.len(), 3);
        assert!(matches!(
            &acts[0],
            PeerAction::SetRemoteSdp {
                kind: SdpKind::Offer,
                ..
            }
        ));
        assert!(
            matches!(&acts[2], PeerAction::AddIce { candidate, .. } if candidate.candidate == "c2")
        );
        assert!(matches!(
            p.remote_ice(&bob, cand("c3")),
            Ok(Some(PeerAction::AddIce { .. }))
        ));
    }

    #[test]
    fn roles_are_enforced() {
        let bob = u("bob");
        let mut offerer = Peer::new(true);
        assert!(offerer.remote_offer(&bob, "o".into()).is_err());
        assert!(
            offerer.remote_answer(&bob, "a".into()).is_err(),
            "no offer yet"
        );
        offerer.local_sdp(SdpKind::Offer).unwrap();
        assert!(offerer.remote_answer(&bob, "a".into()).is_ok());
        assert!(
            offerer.remote_answer(&bob, "a".into()).is_err(),
            "late duplicate"
        );

        let mut answerer = Peer::new(false);
        assert!(answerer.local_sdp(SdpKind::Offer).is_err());
        assert!(answerer.local_sdp(SdpKind::Answer).is_err());
        answerer.remote_offer(&bob, "o".into()).unwrap();
        assert!(answerer.local_sdp(SdpKind::Answer).is_ok());
    }

    #[test]
    fn settled_and_pristine() {
        let bob = u("bob");
        let mut offerer = Peer::new(true);
        assert!(offerer.is_pristine() && !offerer.is_settled());
        offerer.local_sdp(SdpKind::Offer).unwrap();
        assert!(!offerer.is_pristine() && !offerer.is_settled());
        offerer.remote_answer(&bob, "a".into()).unwrap();
        assert!(!offerer.is_pristine() && offerer.is_settled());

        let mut answerer = Peer::new(false);
        assert!(answerer.is_pristine() && !answerer.is_settled());
        answerer.remote_offer(&bob, "o".into()).unwrap();
        assert!(!answerer.is_pristine() && !answerer.is_settled());
        answerer.local_sdp(SdpKind::Answer).unwrap();
        assert!(!answerer.is_pristine() && answerer.is_settled());
    }

    #[test]
    fn held_candidates_are_bounded() {
        let bob = u("bob");
        let mut p = Peer::new(true);
        for _ in 0..MAX_PENDING_ICE {
            p.remote_ice(&bob, cand("c")).unwrap();
        }
        assert!(p.remote_ice(&bob, cand("c")).is_err());
    }
}
