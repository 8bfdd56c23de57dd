// A `wx` whose network is real: wx.request on node:http, wx.connectSocket
// on the `ws` package, and WXWebAssembly with the mini-program's file-path
// API over Node's WebAssembly (it reads the file from the fake code package
// root and instantiates it). live-pusher / live-player contexts record what
// the component asks of them.
//
// `hideNodeGlobals()` then removes what the mini-program runtime does not
// have (WebAssembly, fetch, WebSocket, TextEncoder, TextDecoder, …) from the
// global scope, so the adapter can only use what it really gets there.

const fs = require('fs')
const path = require('path')
const WebSocket = require('ws')
const { httpRequest } = require('./http.js')

// Taken before hideNodeGlobals(): the shim itself runs on Node.
const RealWebAssembly = globalThis.WebAssembly

/**
 * What the runtime lacks and the tests remove (see NOTES: the real one has WXWebAssembly only).
 * `queueMicrotask` is not promised by every base library either: the wasm's futures fall back to
 * promise jobs without it, and the tests run that way.
 */
const NOT_IN_MINIPROGRAM = ['WebAssembly', 'fetch', 'WebSocket', 'TextEncoder', 'TextDecoder', 'XMLHttpRequest', 'queueMicrotask']

function hideNodeGlobals() {
  for (const name of NOT_IN_MINIPROGRAM) {
    delete globalThis[name]
    if (typeof window !== 'undefined') delete window[name]
    if (name in globalThis) throw new Error(`could not hide ${name}`)
  }
}

/**
 * Installs the shim on `global.wx` (over miniprogram-simulate's mocks) and `global.WXWebAssembly`.
 * @param {{root: string}} opts root: the fake code package's directory
 */
function install({ root }) {
  const log = { requests: [], sockets: [], pusher: [], players: [], wasmPaths: [] }

  function request(o) {
    const method = o.method || 'GET'
    const header = o.header || {}
    const body = method === 'GET' || o.data === undefined ? undefined
      : typeof o.data === 'string' ? o.data : JSON.stringify(o.data)
    log.requests.push({ url: o.url, method, body })
    httpRequest(o.url, { method, headers: header, body, timeout: o.timeout })
      .then(res => {
        const text = res.text
        let data = text
        if (o.dataType === undefined || o.dataType === 'json') {
          try { data = JSON.parse(text) } catch (_) { /* wx.request keeps the text */ }
        }
        const r = { data, statusCode: res.status, header: res.headers, errMsg: 'request:ok' }
        if (o.success) o.success(r)
        if (o.complete) o.complete(r)
      })
      .catch(e => {
        const r = { errMsg: e && e.name === 'TimeoutError' ? 'request:fail timeout' : `request:fail ${e && e.message}` }
        if (o.fail) o.fail(r)
        if (o.complete) o.complete(r)
      })
    return { abort() {} }
  }

  function connectSocket(o) {
    const ws = new WebSocket(o.url)
    const cbs = { open: [], message: [], close: [], error: [] }
    const fire = (k, arg) => cbs[k].slice().forEach(cb => cb(arg))
    ws.on('open', () => fire('open', { header: {} }))
    ws.on('message', (data, isBinary) => {
      const payload = isBinary ? new Uint8Array(data).buffer : data.toString()
      fire('message', { data: payload })
    })
    ws.on('close', (code, reason) => fire('close', { code, reason: reason.toString() }))
    ws.on('error', err => fire('error', { errMsg: err.message }))
    const task = {
      url: o.url,
      send(s) {
        if (ws.readyState !== WebSocket.OPEN) {
          if (s.fail) s.fail({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' })
          return
        }
        ws.send(s.data, err => {
          if (err && s.fail) s.fail({ errMsg: err.message })
          else if (!err && s.success) s.success({})
        })
      },
      close(s) {
        ws.close((s && s.code) || 1000, (s && s.reason) || '')
        if (s && s.success) s.success({})
      },
      onOpen: cb => cbs.open.push(cb),
      onMessage: cb => cbs.message.push(cb),
      onClose: cb => cbs.close.push(cb),
      onError: cb => cbs.error.push(cb),
      /** Test hook: the network drops this socket. */
      _drop: () => ws.terminate(),
      _ws: ws,
    }
    log.sockets.push(task)
    return task
  }

  const recorder = (list, who) => new Proxy({}, {
    get: (_, method) => (opts = {}) => {
      list.push({ who, method })
      if (opts.success) opts.success({})
      if (opts.complete) opts.complete({})
    },
  })

  Object.assign(global.wx, {
    request,
    connectSocket,
    createLivePusherContext: () => recorder(log.pusher, 'pusher'),
    createLivePlayerContext: id => recorder(log.players, id),
  })

  global.WXWebAssembly = {
    instantiate(file, imports) {
      log.wasmPaths.push(file)
      if (typeof file !== 'string' || !file.startsWith('/')) {
        return Promise.reject(new Error(`WXWebAssembly.instantiate takes an absolute code-package path, got ${file}`))
      }
      let bytes
      try {
        bytes = fs.readFileSync(path.join(root, file))
      } catch (e) {
        return Promise.reject(e)
      }
      // The typings: a Promise of the Instance itself.
      return RealWebAssembly.instantiate(bytes, imports).then(r => r.instance)
    },
  }
  return log
}

module.exports = { install, hideNodeGlobals, NOT_IN_MINIPROGRAM, RealWebAssembly }
