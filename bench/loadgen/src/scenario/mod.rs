//! One module per scenario; each has `Opts` (its flags) and `run`.

pub mod conns;
pub mod fanout;
pub mod join;
pub mod members;
pub mod relay;

use crate::client::Rtcroom;
use crate::Target;

impl Target {
    /// The rtcroom client for this target.
    pub fn rtcroom(&self) -> Rtcroom {
        Rtcroom {
            addr: self.server,
            app: self.app,
            key: self.key.clone(),
        }
    }
}

/// Rounds to one decimal for the report.
pub fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
