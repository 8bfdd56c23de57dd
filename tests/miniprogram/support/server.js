// The real RoomService (the rtcroom-server binary) on 127.0.0.1 with an
// ephemeral port, debug mode (test identities) and a known push key, plus
// small protocol clients standing in for the other room members.

const { spawn } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const WebSocket = require('ws')
const { httpRequest, postJson } = require('./http.js')

const REPO = path.resolve(__dirname, '../../..')
const PUSH_KEY = 'mp-test-push-key'
const BIZID = '8888'
/** Nothing listens here: RoomService only signs URLs for these hosts. */
const PUSH_HOST = '127.0.0.1:19350'
const PLAY_HOST = '127.0.0.1:19351'

/** Starts RoomService (`extraToml` appended to its configuration); resolves with {base, http, stop}. */
async function startServer({ extraToml = '' } = {}) {
  const bin = process.env.RTCROOM_SERVER_BIN || path.join(REPO, 'target/debug/rtcroom-server')
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing: run scripts/test-miniprogram (it builds it)`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcroom-mp-'))
  const config = path.join(dir, 'rtcroom.toml')
  fs.writeFileSync(config, [
    'listen = "127.0.0.1:0"',
    'debug = true',
    '[live]',
    `bizid = "${BIZID}"`,
    `push_key = "${PUSH_KEY}"`,
    `push_host = "${PUSH_HOST}"`,
    `play_host = "${PLAY_HOST}"`,
    extraToml,
    '',
  ].join('\n'))
  const child = spawn(bin, ['--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.assign({}, process.env, { RUST_LOG: process.env.RUST_LOG || 'warn' }),
  })
  let out = ''
  child.stderr.on('data', d => { out += d })
  const http = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`RoomService did not start:\n${out}`)), 15000)
    child.stdout.on('data', d => {
      out += d
      const m = /RoomService on (http:\/\/[0-9.:]+)\//.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.on('exit', code => {
      clearTimeout(timer)
      reject(new Error(`RoomService exited (${code}):\n${out}`))
    })
  })
  return {
    http,
    /** The room API base the clients use (`serverDomain`). */
    base: `${http}/weapp/rtc_room`,
    output: () => out,
    stop() {
      child.removeAllListeners('exit')
      child.kill('SIGTERM')
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The server's anti-leech rule (docs/PROTOCOL.md): md5(key + stream + txTime). */
function txSecret(stream, txTime, key = playKey()) {
  return crypto.createHash('md5').update(key + stream + txTime).digest('hex')
}

/** The key RoomService signs play URLs (accelerateURL) with: hex md5(push_key + "\0play").
 *  Push URLs are signed per login session instead (see docs/PROTOCOL.md), checked through on_publish. */
function playKey() {
  return crypto.createHash('md5').update(PUSH_KEY + '\0play').digest('hex')
}

/** A debug-mode test identity: {userID, sdkAppID, accType, userSig}. */
async function loginInfo(server, userID) {
  const r = await httpRequest(`${server.http}/weapp/utils/get_login_info?userID=${encodeURIComponent(userID)}`)
  const j = JSON.parse(r.text)
  if (j.code !== 0) throw new Error(`get_login_info: ${JSON.stringify(j)}`)
  return j
}

const post = postJson

/** Another room member speaking the protocol directly (HTTP + WebSocket). */
class Member {
  static async login(server, userID, userName) {
    const info = await loginInfo(server, userID)
    const q = new URLSearchParams({
      sdkAppID: String(info.sdkAppID), accountType: info.accType, userID, userSig: info.userSig,
    })
    const r = await post(`${server.base}/login?${q}`, {})
    if (r.code !== 0) throw new Error(`login ${userID}: ${JSON.stringify(r)}`)
    const m = new Member(server, userID, userName || `${userID}-name`, r.token)
    await m.connect()
    return m
  }

  constructor(server, userID, userName, token) {
    Object.assign(this, { server, userID, userName, token, frames: [], nextReq: 1 })
  }

  connect() {
    const url = `${this.server.base.replace(/^http/, 'ws')}/ws?userID=${encodeURIComponent(this.userID)}&token=${encodeURIComponent(this.token)}`
    this.ws = new WebSocket(url)
    this.ws.on('message', d => this.frames.push(JSON.parse(d.toString())))
    return waitFor(() => this.frames.some(f => f.type === 'welcome'), `${this.userID} welcome`)
  }

  cmd(name, body) {
    const q = `userID=${encodeURIComponent(this.userID)}&token=${encodeURIComponent(this.token)}`
    return post(`${this.server.base}/${name}?${q}`, body)
  }

  async ok(name, body) {
    const r = await this.cmd(name, body)
    if (r.code !== 0) throw new Error(`${this.userID} ${name}: ${JSON.stringify(r)}`)
    return r
  }

  /** Enters `roomID` with an RTMP stream (get_push_url + add_pusher, as a mini-program does). */
  async enter(roomID) {
    this.pushURL = (await this.ok('get_push_url', { userID: this.userID, roomID })).pushURL
    return this.ok('add_pusher', {
      roomID, userID: this.userID, userName: this.userName, userAvatar: `${this.userID}.png`, pushURL: this.pushURL,
    })
  }

  leave(roomID) {
    return this.ok('delete_pusher', { roomID, userID: this.userID })
  }

  pushers(roomID) {
    return this.ok('get_pushers', { roomID })
  }

  send(frame) {
    const reqID = this.nextReq++
    this.ws.send(JSON.stringify(Object.assign({ reqID }, frame)))
    return waitFor(() => this.frames.find(f => (f.type === 'ack' || f.type === 'error') && f.reqID === reqID),
      `${this.userID} ack ${reqID}`).then(f => {
      if (f.type === 'error') throw new Error(`${frame.type}: ${f.code} ${f.message}`)
    })
  }

  text(roomID, text) {
    return this.send({ type: 'room_text', roomID, text })
  }

  custom(roomID, cmd, msg) {
    return this.send({ type: 'room_custom', roomID, cmd, msg })
  }

  /** Frames of `type` received so far. */
  got(type) {
    return this.frames.filter(f => f.type === type)
  }

  async close() {
    await this.cmd('logout', {}).catch(() => {})
    if (this.ws) this.ws.terminate()
  }
}

/** Polls `f` until it returns something truthy (or throws after `ms`). */
async function waitFor(f, what, ms = 8000) {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

module.exports = { startServer, loginInfo, Member, waitFor, txSecret, post, PUSH_HOST, PLAY_HOST, BIZID, REPO }
