//! Glue → core: every report of the media glue through one export,
//! `feed(what, subject, a, b)`, instead of one export each. wasm-bindgen
//! writes a shim in the wasm and a wrapper in the JS glue for every export
//! (string passing, the `Result` as two values); seven of them weighed more
//! than this one dispatch (docs/client-size.md).
//!
//! | `what` | `subject` | `a` | `b` | becomes |
//! |---|---|---|---|---|
//! | `localSdp` | userID | `"offer"`/`"answer"` | SDP | [`Input::LocalSdp`] |
//! | `localIce` | userID | `RTCIceCandidate.toJSON()` | — | [`Input::LocalIce`] |
//! | `peerState` | userID | `iceConnectionState` (or `failed`) | — | [`Input::PeerState`] (drives media recovery) |
//! | `sfuSdp` | link | `"offer"`/`"answer"` | SDP | [`Input::SfuLocalSdp`] |
//! | `sfuIce` | link | candidate | — | [`Input::SfuLocalIce`] |
//! | `sfuState` | link | `iceConnectionState` | — | [`Input::SfuLinkState`] |
//! | `sfuMedia` | userID | — | — | [`Input::SfuMedia`] (its SFU video decoded a frame) |
//! | `spareOffer` | — | SDP | — | [`Input::SpareOffer`] (the spare peer's offer is set) |
//!
//! A link is `"publisher"` or `"subscriber"`. Bad arguments throw (code
//! -1012), except for the two local reports of a mesh peer, which are
//! dropped (a peer of a user id that cannot exist has no way into the core).

use super::api::RoomCore;
use super::driver::pump;
use super::js;
use crate::core::{ClientError, Input, PeerState, SdpKind};
use rtcroom_protocol::sfu::SfuLink;
use rtcroom_protocol::ws::IceCandidate;
use rtcroom_protocol::UserId;
use wasm_bindgen::prelude::*;

fn bad(message: String) -> JsValue {
    js::error_value(&ClientError::InvalidArgument.with_message(message))
}

fn link_arg(link: &str) -> Result<SfuLink, JsValue> {
    match link {
        "publisher" => Ok(SfuLink::Publisher),
        "subscriber" => Ok(SfuLink::Subscriber),
        other => Err(bad(format!("unknown SFU link \"{other}\""))),
    }
}

fn user_arg(user_id: &str) -> Result<UserId, JsValue> {
    UserId::new(user_id).map_err(|e| bad(format!("userID: {e}")))
}

fn state_arg(state: &JsValue) -> Result<PeerState, JsValue> {
    let state = state.as_string().unwrap_or_default();
    PeerState::from_ice(&state).ok_or_else(|| bad(format!("unknown ICE state \"{state}\"")))
}

fn sdp_kind(kind: &JsValue) -> SdpKind {
    if kind.as_string().as_deref() == Some("answer") {
        SdpKind::Answer
    } else {
        SdpKind::Offer
    }
}

fn candidate_arg(candidate: JsValue) -> Result<IceCandidate, JsValue> {
    super::decode::value(candidate).map_err(|e| bad(format!("candidate: {e}")))
}

fn sdp_arg(sdp: &JsValue) -> Result<String, JsValue> {
    sdp.as_string()
        .ok_or_else(|| bad("sdp must be a string".into()))
}

/// A mesh peer's local report, or `None` when its arguments are unusable.
fn local(what: &str, user_id: &str, a: JsValue, b: &JsValue) -> Option<Input> {
    let user = UserId::new(user_id).ok()?;
    Some(if what == "localSdp" {
        Input::LocalSdp {
            user,
            kind: sdp_kind(&a),
            sdp: b.as_string()?,
        }
    } else {
        Input::LocalIce {
            user,
            candidate: super::decode::value(a).ok()?,
        }
    })
}

/// A report as the core's input (see the module doc's table); `None` for a
/// mesh peer's unusable local report.
pub(super) fn input(
    what: &str,
    subject: &str,
    a: JsValue,
    b: &JsValue,
) -> Result<Option<Input>, JsValue> {
    Ok(Some(match what {
        "localSdp" | "localIce" => return Ok(local(what, subject, a, b)),
        "peerState" => Input::PeerState {
            user: user_arg(subject)?,
            state: state_arg(&a)?,
        },
        "sfuSdp" => Input::SfuLocalSdp {
            link: link_arg(subject)?,
            kind: sdp_kind(&a),
            sdp: sdp_arg(b)?,
        },
        "sfuIce" => Input::SfuLocalIce {
            link: link_arg(subject)?,
            candidate: candidate_arg(a)?,
        },
        "sfuState" => Input::SfuLinkState {
            link: link_arg(subject)?,
            state: state_arg(&a)?,
        },
        "sfuMedia" => Input::SfuMedia {
            user: user_arg(subject)?,
        },
        "spareOffer" => Input::SpareOffer { sdp: sdp_arg(&a)? },
        other => return Err(bad(format!("unknown report \"{other}\""))),
    }))
}

#[wasm_bindgen]
impl RoomCore {
    /// Glue → core: one report of the media glue (see the module doc's
    /// table). Throws (code -1012) on an unknown `what` or a bad argument.
    pub fn feed(&self, what: &str, subject: &str, a: JsValue, b: JsValue) -> Result<(), JsValue> {
        if let Some(input) = input(what, subject, a, &b)? {
            pump(self.driver(), input);
        }
        Ok(())
    }
}
