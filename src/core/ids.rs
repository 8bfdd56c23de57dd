//! Small handles the core and its driver exchange: [`CallId`] (chosen by the
//! caller), [`RequestId`] and [`ConnId`] (chosen by the core).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Caller-chosen id of an API call; answered by exactly one
/// [`Output::CallDone`](super::Output::CallDone). Use each id once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

/// Id of one HTTP request the core asked for; the driver echoes it in
/// [`Input::HttpReply`](super::Input::HttpReply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

/// Id of one WebSocket connection the core asked for; the driver tags every
/// frame and the close of that socket with it, so late events of an old socket
/// can never be mistaken for the current one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ws#{}", self.0)
    }
}
