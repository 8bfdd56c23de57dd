//! The one typed entry point from the core's [`PeerAction`]s to the JS media
//! glue (`www/lib/media.js`, the only code that touches `RTCPeerConnection`).
//! A glue object must have every method of [`METHODS`]: one that lacks any is
//! refused when the `RoomCore` is made (code -1012), so a misspelt `addIce`
//! cannot drop candidates in silence. `null`/`undefined` means "this host has
//! no WebRTC" (the mini-program, whose media is RTMP): peer actions are dropped.
//!
//! The way back, glue → core, is one export, `feed` (`super::feed`): e.g.
//! `feed("peerState", userID, iceConnectionState)` becomes
//! `Input::PeerState`, which drives media recovery (ICE restart, then
//! starting over); an unknown state is refused.
//!
//! Two actions call optional methods, skipped when the glue lacks them:
//! [`PeerAction::Prepare`] (a hint) calls `preparePeer`, and
//! [`PeerAction::UpdateIceServers`] calls `setIceServers` (without it, peer
//! connections keep the TURN credentials they were created with).
//!
//! **SFU links** are a second, optional group, [`SFU_METHODS`]: a glue with
//! `openSfu` must have all of them (else -1012) and makes the core SFU-capable
//! ([`Config::sfu`](crate::core::Config::sfu)); a glue without any (or no glue:
//! the mini-program) keeps the room as it is. Back: `feed` with `sfuSdp`,
//! `sfuIce`, `sfuState` (a link's ICE state) and `sfuMedia` (a member's SFU
//! video decoded a frame).

use super::js;
use crate::core::{ClientError, PeerAction, SdpKind};
use rtcroom_protocol::sfu::SfuLink;
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;

/// The methods a media glue must have, as the core's peer actions call them.
pub const METHODS: [&str; 5] = [
    "createPeer",
    "setRemoteSdp",
    "addIce",
    "restartIce",
    "closePeer",
];

/// The SFU-link methods, all or none (see the module doc).
pub const SFU_METHODS: [&str; 5] = [
    "openSfu",
    "setSfuRemoteSdp",
    "addSfuIce",
    "restartSfuIce",
    "closeSfu",
];

#[wasm_bindgen]
extern "C" {
    /// A JS object with the [`METHODS`].
    pub type MediaGlue;
    /// One of its methods.
    type Method;
    /// `method.call(glue, a, b, c, d)`: every peer action goes through this
    /// one import (a glue method gets `undefined` for the arguments it does
    /// not take) instead of one typed import per method, each a function in
    /// the JS glue (docs/client-size.md).
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call4(
        this: &Method,
        glue: &MediaGlue,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
        d: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// `glue[method](args…)`; what it throws is the `Err`.
fn invoke(glue: &MediaGlue, method: &str, [a, b, c, d]: [JsValue; 4]) -> Result<(), JsValue> {
    js::get(glue, method)
        .unchecked_into::<Method>()
        .call4(glue, &a, &b, &c, &d)
        .map(drop)
}

const NONE: JsValue = JsValue::UNDEFINED;

/// The host's media glue, checked.
pub struct Media {
    /// `None`: this host has no WebRTC.
    glue: Option<MediaGlue>,
    /// The glue has the SFU group.
    sfu: bool,
}

fn missing_method(glue: &JsValue, methods: &[&'static str]) -> Result<(), ApiError> {
    match methods.iter().find(|m| !js::get(glue, m).is_function()) {
        Some(missing) => Err(ClientError::InvalidArgument
            .with_message(format!("media glue has no {missing}() method"))),
        None => Ok(()),
    }
}

fn link_name(link: SfuLink) -> &'static str {
    match link {
        SfuLink::Publisher => "publisher",
        SfuLink::Subscriber => "subscriber",
    }
}

fn kind_name(kind: SdpKind) -> &'static str {
    match kind {
        SdpKind::Offer => "offer",
        SdpKind::Answer => "answer",
    }
}

impl Media {
    /// Checks `glue` has every method; `null`/`undefined` is "no WebRTC here".
    pub fn new(glue: JsValue) -> Result<Self, ApiError> {
        if glue.is_undefined() || glue.is_null() {
            return Ok(Media {
                glue: None,
                sfu: false,
            });
        }
        missing_method(&glue, &METHODS)?;
        let sfu = js::get(&glue, SFU_METHODS[0]).is_function();
        if sfu {
            missing_method(&glue, &SFU_METHODS)?;
        }
        Ok(Media {
            glue: Some(glue.unchecked_into()),
            sfu,
        })
    }

    /// Whether the glue opens SFU links.
    pub fn sfu(&self) -> bool {
        self.sfu
    }

    /// Whether the glue keeps spare peer connections (has `preparePeer`).
    pub fn keeps_spares(&self) -> bool {
        self.glue
            .as_ref()
            .is_some_and(|g| js::get(g, "preparePeer").is_function())
    }

    /// Runs `action` on the glue; its exception, if any, as a line for the console.
    pub fn apply(&self, action: &PeerAction) -> Result<(), String> {
        let Some(glue) = &self.glue else {
            return Ok(());
        };
        if let Some((method, args)) = sfu_call(action) {
            return invoke(glue, method, args)
                .map_err(|e| format!("media glue failed: {}", js::describe(&e)));
        }
        let optional = match action {
            PeerAction::Prepare { ice_servers } => Some(("preparePeer", ice_servers)),
            PeerAction::UpdateIceServers { ice_servers } => Some(("setIceServers", ice_servers)),
            _ => None,
        };
        if let Some((method, ice_servers)) = optional {
            if !js::get(glue, method).is_function() {
                return Ok(());
            }
            return invoke(glue, method, [js::to_js(ice_servers), NONE, NONE, NONE])
                .map_err(|e| format!("media glue failed on {method}: {}", js::describe(&e)));
        }
        let s = |t: &str| JsValue::from_str(t);
        let (method, user, args) = match action {
            PeerAction::Create {
                user,
                offerer,
                ice_servers,
                offered,
            } => (
                METHODS[0],
                user,
                [
                    JsValue::from_bool(*offerer),
                    js::to_js(ice_servers),
                    JsValue::from_bool(*offered),
                ],
            ),
            PeerAction::SetRemoteSdp { user, kind, sdp } => {
                (METHODS[1], user, [s(kind_name(*kind)), s(sdp), NONE])
            }
            PeerAction::AddIce { user, candidate } => {
                (METHODS[2], user, [js::to_js(candidate), NONE, NONE])
            }
            PeerAction::RestartIce { user } => (METHODS[3], user, [NONE, NONE, NONE]),
            PeerAction::Close { user } => (METHODS[4], user, [NONE, NONE, NONE]),
            _ => return Ok(()),
        };
        let [b, c, d] = args;
        invoke(glue, method, [s(user.as_str()), b, c, d]).map_err(|e| {
            format!(
                "media glue failed on {method}({user}): {}",
                js::describe(&e)
            )
        })
    }
}

/// An SFU action's method and arguments (`None` for the mesh ones); a glue
/// without the SFU group never gets one (the core is not SFU-capable then).
fn sfu_call(action: &PeerAction) -> Option<(&'static str, [JsValue; 4])> {
    let s = |t: &str| JsValue::from_str(t);
    Some(match action {
        PeerAction::SfuOpen { link, ice_servers } => (
            SFU_METHODS[0],
            [s(link_name(*link)), js::to_js(ice_servers), NONE, NONE],
        ),
        PeerAction::SfuRemoteSdp {
            link,
            kind,
            sdp,
            streams,
        } => (
            SFU_METHODS[1],
            [
                s(link_name(*link)),
                s(kind_name(*kind)),
                s(sdp),
                js::to_js(streams),
            ],
        ),
        PeerAction::SfuAddIce { link, candidate } => (
            SFU_METHODS[2],
            [s(link_name(*link)), js::to_js(candidate), NONE, NONE],
        ),
        PeerAction::SfuRestartIce { link } => {
            (SFU_METHODS[3], [s(link_name(*link)), NONE, NONE, NONE])
        }
        PeerAction::SfuClose { link } => (SFU_METHODS[4], [s(link_name(*link)), NONE, NONE, NONE]),
        _ => return None,
    })
}
