//! The one typed entry point from the core's [`PeerAction`]s to the JS media
//! glue (`www/lib/media.js`, the only code that touches `RTCPeerConnection`).
//! A glue object must have every method of [`METHODS`]: one that lacks any is
//! refused when the `RoomCore` is made (code -1012), so a misspelt `addIce`
//! cannot drop candidates in silence. `null`/`undefined` means "this host has
//! no WebRTC" (the mini-program, whose media is RTMP): peer actions are dropped.
//!
//! The way back, glue → core, is typed here too: `feedPeerState(userID,
//! iceConnectionState)` becomes [`Input::PeerState`], which drives media
//! recovery (ICE restart, then starting over); an unknown state is refused.
//!
//! Two actions call optional methods, skipped when the glue lacks them:
//! [`PeerAction::Prepare`] (a hint) calls `preparePeer`, and
//! [`PeerAction::UpdateIceServers`] calls `setIceServers` (without it, peer
//! connections keep the TURN credentials they were created with).

use super::api::RoomCore;
use super::driver::pump;
use super::js;
use crate::core::{ClientError, Input, PeerAction, PeerState, SdpKind};
use rtcroom_protocol::ApiError;
use rtcroom_protocol::UserId;
use wasm_bindgen::prelude::*;

/// The methods a media glue must have, as the core's peer actions call them.
pub const METHODS: [&str; 5] = [
    "createPeer",
    "setRemoteSdp",
    "addIce",
    "restartIce",
    "closePeer",
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
    #[wasm_bindgen(method, catch, js_name = setIceServers)]
    fn set_ice_servers(this: &MediaGlue, ice_servers: JsValue) -> Result<(), JsValue>;
}

/// The host's media glue, checked.
pub struct Media(Option<MediaGlue>);

impl Media {
    /// Checks `glue` has every method; `null`/`undefined` is "no WebRTC here".
    pub fn new(glue: JsValue) -> Result<Self, ApiError> {
        if glue.is_undefined() || glue.is_null() {
            return Ok(Media(None));
        }
        if let Some(missing) = METHODS.iter().find(|m| !js::get(&glue, m).is_function()) {
            return Err(ClientError::InvalidArgument
                .with_message(format!("media glue has no {missing}() method")));
        }
        Ok(Media(Some(glue.unchecked_into())))
    }

    /// Runs `action` on the glue; its exception, if any, as a line for the console.
    pub fn apply(&self, action: &PeerAction) -> Result<(), String> {
        let Some(glue) = &self.0 else {
            return Ok(());
        };
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
            PeerAction::Prepare { .. } | PeerAction::UpdateIceServers { .. } => return Ok(()),
        };
        let result = match action {
            PeerAction::Create {
                user,
                offerer,
                ice_servers,
            } => glue.create_peer(user.as_str(), *offerer, js::to_js(ice_servers)),
            PeerAction::SetRemoteSdp { user, kind, sdp } => {
                let kind = match kind {
                    SdpKind::Offer => "offer",
                    SdpKind::Answer => "answer",
                };
                glue.set_remote_sdp(user.as_str(), kind, sdp)
            }
            PeerAction::AddIce { user, candidate } => {
                glue.add_ice(user.as_str(), js::to_js(candidate))
            }
            PeerAction::RestartIce { user } => glue.restart_ice(user.as_str()),
            PeerAction::Close { user } => glue.close_peer(user.as_str()),
            PeerAction::Prepare { .. } | PeerAction::UpdateIceServers { .. } => return Ok(()),
        };
        result.map_err(|e| {
            format!(
                "media glue failed on {method}({user}): {}",
                js::describe(&e)
            )
        })
    }
}

#[wasm_bindgen]
impl RoomCore {
    /// Glue → core: the peer connection of `userID` changed its
    /// `iceConnectionState` (`connectionState`'s `failed` may be passed too).
    /// Throws (code -1012) on an unknown state or user id.
    #[wasm_bindgen(js_name = feedPeerState)]
    pub fn feed_peer_state(&self, user_id: &str, state: &str) -> Result<(), JsValue> {
        let user = UserId::new(user_id).map_err(|e| {
            js::error_value(&ClientError::InvalidArgument.with_message(format!("userID: {e}")))
        })?;
        let state = PeerState::from_ice(state).ok_or_else(|| {
            js::error_value(
                &ClientError::InvalidArgument.with_message(format!("unknown ICE state {state:?}")),
            )
        })?;
        pump(self.driver(), Input::PeerState { user, state });
        Ok(())
    }
}
