// Loads the Rust core (lib/rtcroom_bg.wasm) with WXWebAssembly, the
// mini-program's WebAssembly: it takes the .wasm file's absolute path inside
// the code package, not bytes or a URL. The wasm-bindgen glue
// (lib/rtcroom_bg.js, CommonJS) is the wasm's only import module; once the
// instance exists the glue is pointed at it and the core is started.

/** Where `npm` + "build npm" puts the file (package `rtcroom-miniprogram`). */
const DEFAULT_PATH = '/miniprogram_npm/rtcroom-miniprogram/lib/rtcroom_bg.wasm'

let loading = null

/**
 * The glue's exports (`RoomCore`, …) once the wasm runs. Loaded once and
 * shared (later paths are ignored); a failed load may be retried.
 * @param {string} [path] absolute path of rtcroom_bg.wasm in the code package
 * @returns {Promise<{RoomCore: any}>}
 */
function load(path) {
  const file = path || DEFAULT_PATH
  if (loading) return loading
  if (typeof WXWebAssembly === 'undefined') {
    return Promise.reject(new Error('WXWebAssembly is not available (base library 2.13.0 or later is needed)'))
  }
  const glue = require('./lib/rtcroom_bg.js')
  loading = WXWebAssembly.instantiate(file, { './rtcroom_bg.js': glue }).then(result => {
    // The typings say the promise gives the Instance; WebAssembly.instantiate
    // gives {instance, module}. Accept both.
    const r = /** @type {any} */ (result)
    const instance = r && r.instance ? r.instance : r
    glue.__wbg_set_wasm(instance.exports)
    instance.exports.__wbindgen_start()
    return glue
  })
  loading.catch(() => {
    loading = null
  })
  return loading
}

module.exports = { load, DEFAULT_PATH }
