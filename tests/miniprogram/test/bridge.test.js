// <rtc-room> in a room bridged to the browsers (server/src/media/bridge.rs): a
// RoomService with the WebRTC ↔ RTMP bridge configured drives a real Janus
// (scripts/janus-server, WebSocket API on 127.0.0.1). The mini-program member
// (the component, its push simulated as in rtc-room.test.js) enters; a browser
// member enters through HTTP with an empty pushURL, as the npm client does.
// Checked: the room is SFU for the browser (room_mode sfu), the component
// renders a <live-player> for the browser member whose src is the bridge's
// play URL — that member's own stream on the play host, signed with the play
// key — as get_pushers and pusher_join hand it out. Not here: media. The
// browser's media published to Janus and that URL playing with ffmpeg are
// tests/e2e/bridge.test.mjs (Chromium, inside a network namespace).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const net = require('net')
const { setup } = require('../support/env.js')
const { startServer, loginInfo, Member, waitFor, txSecret, PLAY_HOST, BIZID, REPO } = require('../support/server.js')

const ME = 'mp_bridged'
const ROOM = 'bridged-room'
let janus
let server
let env

function startJanus() {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const apiSecret = crypto.randomBytes(12).toString('hex')
  const adminKey = crypto.randomBytes(12).toString('hex')
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcroom-mp-janus-'))
  const proc = spawn(path.join(REPO, 'scripts/janus-server'), [], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: Object.assign({}, process.env, {
      JANUS_WS_PORT: String(port), JANUS_API_SECRET: apiSecret, JANUS_ADMIN_KEY: adminKey,
      JANUS_RTP_PORTS: '41000-41099', JANUS_RUN_DIR: runDir,
    }),
  })
  let log = ''
  proc.stderr.on('data', d => { log += d })
  const listening = () => new Promise(r => {
    const c = net.connect({ host: '127.0.0.1', port }, () => { c.end(); r(true) })
    c.on('error', () => r(false))
  })
  return {
    port, apiSecret, adminKey, log: () => log,
    ready: waitFor(async () => proc.exitCode === null && await listening(), `janus on ${port}`, 15000),
    stop() { proc.kill('SIGKILL'); fs.rmSync(runDir, { recursive: true, force: true }) },
  }
}

function attrs(wrapper) {
  return Object.fromEntries(wrapper.toJSON().attrs.map(a => [a.name, a.value]))
}

before(async () => {
  janus = startJanus()
  await janus.ready
  server = await startServer({
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janus.port}"`, `api_secret = "${janus.apiSecret}"`,
      `admin_key = "${janus.adminKey}"`, 'ffmpeg = "ffmpeg"'].join('\n'),
  })
  env = setup()
  const info = await loginInfo(server, ME)
  await new Promise((resolve, reject) => env.rtcroom.login({
    data: { serverDomain: `${server.base}/`, sdkAppID: info.sdkAppID, accType: info.accType, userID: ME, userSig: info.userSig, userName: ME },
    success: resolve,
    fail: e => reject(new Error(`login failed: ${e.errCode} ${e.errMsg}`)),
  }))
})

after(async () => {
  await env?.rtcroom.logout({}).catch(() => {})
  server?.stop()
  janus?.stop()
  env?.cleanup()
})

test('a browser member appears in <rtc-room> with the bridge\'s signed play URL', async () => {
  const v = env.renderRoom({ roomID: ROOM, template: '1v3' })
  v.comp.instance.start()
  await waitFor(() => v.comp.data.pushURL, 'the push URL')
  v.comp.querySelector('#rtcpusher').dispatchEvent('statechange', { detail: { code: 1002 } })
  await waitFor(() => (v.page.instance.events || []).some(e => e.tag === 'roomEntered'), 'roomEntered', 15000)

  // A browser member: HTTP login and add_pusher with no pushURL (no RTMP of its own).
  const browser = await Member.login(server, 'browser1')
  const joined = await browser.ok('add_pusher', { roomID: ROOM, userName: 'browser1', userAvatar: '', pushURL: '' })
  await waitFor(() => browser.got('room_mode').some(f => f.mode === 'sfu'), 'room_mode sfu for the browser member', 10000)
  const listed = joined.pushers.find(p => p.userID === 'browser1')
  const sdkAppID = (await loginInfo(server, ME)).sdkAppID
  const stream = `${BIZID}_${sdkAppID}_browser1`
  const m = /^rtmp:\/\/([^/]+)\/live\/([^?]+)\?bizid=(\d+)&txSecret=([0-9a-f]{32})&txTime=([0-9A-F]+)$/.exec(listed.accelerateURL)
  assert.ok(m, `the browser member's accelerateURL is the bridge's play URL: ${listed.accelerateURL}`)
  assert.deepEqual([m[1], m[2], m[3]], [PLAY_HOST, stream, BIZID])
  assert.equal(m[4], txSecret(stream, m[5]), 'signed with the play key, as nginx-rtmp players get it')

  // The component plays it: a <live-player> on exactly that URL.
  await waitFor(() => v.comp.querySelectorAll('.player').some(p => attrs(p).id === 'browser1'), 'a player for browser1', 10000)
  const player = attrs(v.comp.querySelectorAll('.player').find(p => attrs(p).id === 'browser1'))
  assert.equal(player.src, listed.accelerateURL)

  await browser.close()
  await v.comp.instance.exitRoom()
  v.page.detach()
})
