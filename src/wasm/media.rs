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
    #[wasm_bindgen(method, catch, js_name = createPeer)]
    fn create_peer(
        this: &MediaGlue,
        user: &str,
        offerer: bool,
        ice_servers: JsValue,
        offered: bool,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = setRemoteSdp)]
    fn set_remote_sdp(this: &MediaGlue, user: &str, kind: &str, sdp: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = addIce)]
    fn add_ice(this: &MediaGlue, user: &str, candidate: JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = restartIce)]
    fn restart_ice(this: &MediaGlue, user: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = closePeer)]
    fn close_peer(this: &MediaGlue, user: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = preparePeer)]
    fn prepare_peer(this: &MediaGlue, ice_servers: JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = openSfu)]
    fn open_sfu(this: &MediaGlue, link: &str, ice_servers: JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = setSfuRemoteSdp)]
    fn set_sfu_remote_sdp(
        this: &MediaGlue,
        link: &str,
        kind: &str,
        sdp: &str,
        streams: JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = addSfuIce)]
    fn add_sfu_ice(this: &MediaGlue, link: &str, candidate: JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = restartSfuIce)]
    fn restart_sfu_ice(this: &MediaGlue, link: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = closeSfu)]
    fn close_sfu(this: &MediaGlue, link: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = setIceServers)]
    fn set_ice_servers(this: &MediaGlue, ice_servers: JsValue) -> Result<(), JsValue>;
}

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
        if let Some(result) = self.apply_sfu(glue, action) {
            return result.map_err(|e| format!("media glue failed: {}", js::describe(&e)));
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
            let servers = js::to_js(ice_servers);
            let result = match action {
                PeerAction::Prepare { .. } => glue.prepare_peer(servers),
                _ => glue.set_ice_servers(servers),
            };
            return result
                .map_err(|e| format!("media glue failed on {method}: {}", js::describe(&e)));
        }
        let (method, user) = match action {
            PeerAction::Create { user, .. } => (METHODS[0], user),
            PeerAction::SetRemoteSdp { user, .. } => (METHODS[1], user),
            PeerAction::AddIce { user, .. } => (METHODS[2], user),
            PeerAction::RestartIce { user } => (METHODS[3], user),
            PeerAction::Close { user } => (METHODS[4], user),
            _ => return Ok(()),
        };
        let result = match action {
            PeerAction::Create {
                user,
                offerer,
                ice_servers,
                offered,
            } => glue.create_peer(user.as_str(), *offerer, js::to_js(ice_servers), *offered),
            PeerAction::SetRemoteSdp { user, kind, sdp } => {
                glue.set_remote_sdp(user.as_str(), kind_name(*kind), sdp)
            }
            PeerAction::AddIce { user, candidate } => {
                glue.add_ice(user.as_str(), js::to_js(candidate))
            }
            PeerAction::RestartIce { user } => glue.restart_ice(user.as_str()),
            PeerAction::Close { user } => glue.close_peer(user.as_str()),
            _ => return Ok(()),
        };
        result.map_err(|e| {
            format!(
                "media glue failed on {method}({user}): {}",
                js::describe(&e)
            )
        })
    }
}

impl Media {
    /// An SFU action on the glue (`None` for the mesh ones); a glue without
    /// the SFU group never gets one (the core is not SFU-capable then).
    fn apply_sfu(&self, glue: &MediaGlue, action: &PeerAction) -> Option<Result<(), JsValue>> {
        Some(match action {
            PeerAction::SfuOpen { link, ice_servers } => {
                glue.open_sfu(link_name(*link), js::to_js(ice_servers))
            }
            PeerAction::SfuRemoteSdp {
                link,
                kind,
                sdp,
                streams,
            } => {
                glue.set_sfu_remote_sdp(link_name(*link), kind_name(*kind), sdp, js::to_js(streams))
            }
            PeerAction::SfuAddIce { link, candidate } => {
                glue.add_sfu_ice(link_name(*link), js::to_js(candidate))
            }
            PeerAction::SfuRestartIce { link } => glue.restart_sfu_ice(link_name(*link)),
            PeerAction::SfuClose { link } => glue.close_sfu(link_name(*link)),
            _ => return None,
        })
    }
}
