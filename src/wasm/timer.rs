//! One `setTimeout` whose closure is owned: dropping the [`Timer`] clears it.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A pending `setTimeout`.
pub struct Timer {
    handle: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `f` after `delay_ms` (once), unless dropped first.
    pub fn after(delay_ms: u64, f: impl FnMut() + 'static) -> Option<Self> {
        let callback = Closure::<dyn FnMut()>::new(f);
        let delay = i32::try_from(delay_ms).unwrap_or(i32::MAX);
        let handle = set_timeout(callback.as_ref().unchecked_ref(), delay).ok()?;
        Some(Self {
            handle,
            _callback: callback,
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(self.handle);
    }
}

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout` (browsers and mini-programs alike).
    #[wasm_bindgen(js_name = setTimeout, catch)]
    pub fn set_timeout(f: &js_sys::Function, ms: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
}
