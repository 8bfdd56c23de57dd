// The loader: WXWebAssembly's file-path API, the glue needing nothing the
// mini-program lacks, and RoomCore (the same class as in browsers) on a
// scripted `wx`-style host object: what it asks of wx.request and
// wx.connectSocket, and how it reads their answers.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { setup } = require('../support/env.js')

let env
let glue

before(async () => {
  env = setup() // the Node globals the runtime lacks are gone from here on
  const wasm = require(`${env.root}/miniprogram_npm/rtcroom-miniprogram/wasm.js`)
  glue = await wasm.load()
})

after(() => env.cleanup())

test('instantiates from the default npm path with WXWebAssembly alone', () => {
  assert.equal(typeof WebAssembly, 'undefined')
  assert.equal(typeof TextDecoder, 'undefined')
  assert.deepEqual(env.log.wasmPaths, ['/miniprogram_npm/rtcroom-miniprogram/lib/rtcroom_bg.wasm'])
  assert.equal(typeof glue.RoomCore, 'function')
})

/** A `wx`-style host that records requests and sockets; the test answers them. */
function scriptedHost() {
  const host = { requests: [], sockets: [] }
  host.request = o => { host.requests.push(o); return { abort() {} } }
  host.connectSocket = o => {
    const task = { url: o.url, sent: [], handlers: {} }
    for (const k of ['onOpen', 'onMessage', 'onClose', 'onError']) task[k] = cb => { task.handlers[k] = cb }
    task.send = s => task.sent.push(s.data)
    task.close = () => task.handlers.onClose && task.handlers.onClose({ code: 1000, reason: '' })
    host.sockets.push(task)
    return task
  }
  return host
}

const tick = () => new Promise(r => setTimeout(r, 0))

test('RoomCore on a wx host: login over wx.request and wx.connectSocket', async () => {
  const host = scriptedHost()
  const events = []
  const core = new glue.RoomCore(host, null, { debug: false }, e => events.push(e))
  const login = core.call('login', { serverDomain: 'https://rs.example/weapp/rtc_room/', sdkAppID: 1400000001, userID: '用户', userSig: 'sig' })
  await tick()
  const [req] = host.requests
  assert.equal(req.url, 'https://rs.example/weapp/rtc_room/login?sdkAppID=1400000001&accountType=&userID=%E7%94%A8%E6%88%B7&userSig=sig')
  assert.equal(req.method, 'POST')
  assert.equal(req.data, '{}')
  assert.equal(req.dataType, 'text')
  req.success({ statusCode: 200, data: JSON.stringify({ code: 0, message: 'ok', userID: '用户', token: 't', tokenTTL: 60, heartbeatInterval: 5 }) })
  // Logged in at the HTTP answer; the socket opens on a timer turn of its own after it (what the
  // app does on the answer goes first), asking for the session's frames from the first one.
  assert.deepEqual(await login, { type: 'loggedIn', userID: '用户' })
  assert.equal(host.sockets.length, 0, 'no socket in the answer\'s own turn')
  for (let i = 0; i < 50 && !host.sockets.length; i++) await tick()
  const [socket] = host.sockets
  assert.equal(socket.url, 'wss://rs.example/weapp/rtc_room/ws?userID=%E7%94%A8%E6%88%B7&token=t&lastSeq=0')
  socket.handlers.onMessage({ data: JSON.stringify({ seq: 1, type: 'welcome', userID: '用户', resumed: false }) })
  assert.ok(events.some(e => e.type === 'connectionStateChange' && e.data === 'connected'), JSON.stringify(events))

  // Errors: a {code, message} envelope, an HTTP status, a transport failure, a text body.
  const ask = async answer => {
    const p = core.call('getPushUrl', {})
    await tick()
    answer(host.requests[host.requests.length - 1])
    return p.then(r => ({ Ok: r }), e => ({ Err: { code: e.code, message: e.message } }))
  }
  assert.deepEqual(await ask(r => r.success({ statusCode: 200, data: '{"code":1003,"message":"bad"}' })), { Err: { code: 1003, message: 'bad' } })
  assert.equal((await ask(r => r.success({ statusCode: 502, data: 'Bad Gateway' }))).Err.code, -1011)
  assert.equal((await ask(r => r.fail({ errMsg: 'request:fail timeout' }))).Err.code, -1008)
  assert.equal((await ask(r => r.fail({ errMsg: 'request:fail' }))).Err.code, -1009)
  assert.equal((await ask(r => r.success({ statusCode: 200, data: 'not json' }))).Err.code, -1010)
  assert.deepEqual(await ask(r => r.success({ statusCode: 200, data: '{"code":0,"message":"","pushURL":"rtmp://h/live/s"}' })),
    { Ok: { type: 'pushUrl', pushURL: 'rtmp://h/live/s' } })
  core.shutdown()
  await assert.rejects(core.call('logout'), e => e.code === -1001)
  core.free()
})

test('a host or media glue missing a method is refused at construction with code -1012', () => {
  const host = scriptedHost()
  assert.throws(() => new glue.RoomCore({ request() {} }, null, {}, () => {}), e => e.code === -1012 && /connectSocket/.test(e.message))
  const media = { createPeer() {}, setRemoteSdp() {}, adIce() {}, closePeer() {} }
  assert.throws(() => new glue.RoomCore(host, media, {}, () => {}), e => e.code === -1012 && /addIce/.test(e.message))
})

test('bad arguments reject with code -1012 and send nothing', async () => {
  const host = scriptedHost()
  const core = new glue.RoomCore(host, null, {}, () => {})
  await assert.rejects(core.call('login', { serverDomain: 'https://h' }), e => e.code === -1012)
  await assert.rejects(core.call('enterRoom', { roomID: 'has space' }), e => e.code === -1012)
  await assert.rejects(core.call('enterRom', { roomID: 'r' }), e => e.code === -1012 && /enterRom/.test(e.message))
  assert.equal(host.requests.length, 0)
  core.free()
})
