// The loader: WXWebAssembly's file-path API, the glue needing nothing the
// mini-program lacks, and RoomCore's plain-object inputs and outputs.

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

function drain(core) {
  const out = []
  let o
  while ((o = core.poll()) !== undefined) out.push(o)
  return out
}

test('RoomCore takes plain objects and gives the core outputs back', () => {
  const core = new glue.RoomCore({ debug: false })
  core.handle({ type: 'call', id: 1, call: 'login', serverDomain: 'https://rs.example/weapp/rtc_room/', sdkAppID: 1400000001, userID: '用户', userSig: 'sig' }, 1000)
  const [http] = drain(core).filter(o => o.type === 'http')
  assert.equal(http.data.cmd, 'login')
  assert.equal(http.data.url, 'https://rs.example/weapp/rtc_room/login?sdkAppID=1400000001&accountType=&userID=%E7%94%A8%E6%88%B7&userSig=sig')
  assert.deepEqual(http.data.body, {})

  // A reply as wx.request gives it (parsed JSON); then the socket's welcome completes login.
  core.handle({ type: 'httpReply', id: http.data.id, statusCode: 200, data: { code: 0, message: 'ok', userID: '用户', token: 't', tokenTTL: 60, heartbeatInterval: 5 } }, 1001)
  const connect = drain(core).find(o => o.type === 'wsConnect')
  assert.equal(connect.data.url, 'wss://rs.example/weapp/rtc_room/ws?userID=%E7%94%A8%E6%88%B7&token=t')
  core.handle({ type: 'wsMessage', conn: connect.data.conn, data: JSON.stringify({ seq: 0, type: 'welcome', userID: '用户', resumed: false }) }, 1002)
  const done = drain(core).find(o => o.type === 'callDone')
  assert.deepEqual(done.data, { id: 1, result: { Ok: { type: 'loggedIn', userId: '用户' } } })

  // Errors: a {code, message} envelope, an HTTP status, a transport failure, a text body.
  const ask = id => {
    core.handle({ type: 'call', id, call: 'getPushUrl' }, 1003)
    return drain(core).find(o => o.type === 'http').data.id
  }
  const result = (input, id) => {
    core.handle(input, 1004)
    return drain(core).find(o => o.type === 'callDone' && o.data.id === id).data.result
  }
  assert.deepEqual(result({ type: 'httpReply', id: ask(2), statusCode: 200, data: { code: 1003, message: 'bad' } }, 2), { Err: { code: 1003, message: 'bad' } })
  assert.equal(result({ type: 'httpReply', id: ask(3), statusCode: 502, data: 'Bad Gateway' }, 3).Err.code, -1011)
  assert.equal(result({ type: 'httpFailed', id: ask(4), message: 'request:fail timeout' }, 4).Err.code, -1008)
  assert.equal(result({ type: 'httpFailed', id: ask(5), message: 'request:fail' }, 5).Err.code, -1009)
  assert.equal(result({ type: 'httpReply', id: ask(6), statusCode: 200, data: 'not json' }, 6).Err.code, -1010)
  assert.deepEqual(result({ type: 'httpReply', id: ask(7), statusCode: 200, data: '{"code":0,"message":"","pushURL":"rtmp://h/live/s"}' }, 7),
    { Ok: { type: 'pushUrl', pushUrl: 'rtmp://h/live/s' } })
})

test('malformed inputs throw an Error with code -1012 and change nothing', () => {
  const core = new glue.RoomCore({})
  for (const bad of [{ type: 'nope' }, { type: 'call', call: 'login' }, { type: 'call', id: 1, call: 'enterRoom', roomId: 'has space' }, { type: 'wsClosed' }, 42]) {
    assert.throws(() => core.handle(bad, 0), e => e.code === -1012, JSON.stringify(bad))
  }
  assert.equal(core.poll(), undefined)
})
