// <rtc-room> rendered by miniprogram-simulate inside the original demo's room
// page, against the real RoomService on 127.0.0.1. The wasm core runs through
// the `wx` shim (real HTTP and WebSocket, WXWebAssembly over Node's
// WebAssembly) with Node's WebAssembly/fetch/WebSocket/TextEncoder/TextDecoder
// globals removed. Other members are protocol clients. The live-pusher's and
// live-player's status events are simulated (no camera, no RTMP here: the
// real RTMP path is server/tests/rtmp.rs).

const { describe, test, before, after, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const { setup } = require('../support/env.js')
const { startServer, loginInfo, Member, waitFor, txSecret, PUSH_HOST, PLAY_HOST, BIZID } = require('../support/server.js')
const { httpRequest } = require('../support/http.js')

const ME = 'mp_user'
const MY_NAME = '小程序 "me"'

let server
let env
let sdkAppID
const members = []
const views = []

async function login() {
  const info = await loginInfo(server, ME)
  sdkAppID = info.sdkAppID
  // Exactly the original demo's call shape (serverDomain with its trailing slash).
  await new Promise((resolve, reject) => env.rtcroom.login({
    data: { serverDomain: `${server.base}/`, sdkAppID: info.sdkAppID, accType: info.accType, userID: ME, userSig: info.userSig, userName: MY_NAME },
    success: resolve,
    fail: e => reject(new Error(`login failed: ${e.errCode} ${e.errMsg}`)),
  }))
}

async function member(userID, roomID) {
  const m = await Member.login(server, userID)
  members.push(m)
  if (roomID) await m.enter(roomID)
  return m
}

function render(data) {
  const v = env.renderRoom(data)
  views.push(v)
  return v
}

/** The bound attributes of a rendered built-in component. */
function attrs(wrapper) {
  return Object.fromEntries(wrapper.toJSON().attrs.map(a => [a.name, a.value]))
}

function pushState(v, code) {
  v.comp.querySelector('#rtcpusher').dispatchEvent('statechange', { detail: { code } })
}

function playState(v, userID, code) {
  const player = v.comp.querySelectorAll('.player').find(p => attrs(p).id === userID)
  assert.ok(player, `no player for ${userID}`)
  player.dispatchEvent('statechange', { detail: { code } })
}

function eventsTagged(v, tag) {
  return v.events().filter(e => e.tag === tag)
}

function waitEvent(v, tag, pred = () => true) {
  return waitFor(() => eventsTagged(v, tag).find(pred), `onRoomEvent ${tag}`)
}

async function serverMembers(m, roomID) {
  return (await m.pushers(roomID)).pushers.map(p => p.userID).sort()
}

/** Starts the component in `data.roomID` and takes it through 1002 into the room. */
async function enterWith(data) {
  const v = render(data)
  v.comp.instance.start()
  await waitFor(() => v.comp.data.pushURL, 'the push URL')
  pushState(v, 1002)
  await waitEvent(v, 'roomEntered')
  return v
}

/** The signed URL's parts. */
function parseRtmp(url) {
  const m = /^rtmp:\/\/([^/]+)\/live\/([^?]+)\?(.*)$/.exec(url)
  assert.ok(m, `not an RTMP live URL: ${url}`)
  return { host: m[1], stream: m[2], query: Object.fromEntries(new URLSearchParams(m[3])) }
}

/** A signed RTMP URL; play URLs' txSecret is checked against the play key, push URLs
 *  (signed per login session) only through on_publish. */
function assertSigned(url, host, stream, { play = true } = {}) {
  const u = parseRtmp(url)
  assert.equal(u.host, host)
  assert.equal(u.stream, stream)
  assert.equal(u.query.bizid, BIZID)
  assert.match(u.query.txTime, /^[0-9A-F]+$/)
  assert.ok(parseInt(u.query.txTime, 16) > Date.now() / 1000, 'txTime is the expiry, in the future')
  assert.match(u.query.txSecret, /^[0-9a-f]{32}$/)
  if (play) assert.equal(u.query.txSecret, txSecret(stream, u.query.txTime), 'txSecret = md5(playKey + stream + txTime)')
  return u
}

/** What nginx-rtmp's on_publish asks RoomService before accepting a push. */
async function onPublish(stream, query) {
  const form = new URLSearchParams(Object.assign({ app: 'live', name: stream, call: 'publish', addr: '127.0.0.1' }, query))
  const r = await httpRequest(`${server.http}/weapp/utils/rtmp_on_publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  })
  return r.status
}

before(async () => {
  server = await startServer()
  env = setup()
  await login()
})

afterEach(async () => {
  for (const v of views.splice(0)) {
    await v.comp.instance.exitRoom()
    v.page.detach()
  }
  for (const m of members.splice(0)) await m.close()
})

after(async () => {
  await env.rtcroom.logout({}).catch(() => {})
  server.stop()
  env.cleanup()
})

describe('the mini-program runtime', () => {
  test('the core runs without the globals the runtime lacks, loaded from the npm path', () => {
    for (const name of ['WebAssembly', 'fetch', 'WebSocket', 'TextEncoder', 'TextDecoder']) {
      assert.equal(typeof globalThis[name], 'undefined', `${name} must not exist here`)
    }
    assert.deepEqual(env.log.wasmPaths, ['/miniprogram_npm/rtcroom-miniprogram/lib/rtcroom_bg.wasm'])
    assert.equal(env.rtcroom.getAccountInfo().userID, ME)
    assert.equal(env.rtcroom.getAccountInfo().userName, MY_NAME)
  })
})

describe('<rtc-room> joining a room', () => {
  test('renders one pusher with a server-signed URL and one player per member, and enters only on 1002', async () => {
    const room = 'room_join'
    const alice = await member('alice', room)
    await member('bob', room)
    const v = render({ roomID: room, roomname: 'ignored when joining', template: '1v3' })
    assert.equal(v.pushers().length, 1)
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')

    // The push URL: RoomService's signature over this user's stream, accepted by on_publish.
    const url = v.comp.data.pushURL
    assert.equal(attrs(v.comp.querySelector('#rtcpusher')).url, url)
    const stream = `${BIZID}_${sdkAppID}_mp_5fuser`
    const u = assertSigned(url, PUSH_HOST, stream, { play: false })
    assert.equal(await onPublish(stream, u.query), 200)
    assert.equal(await onPublish(stream, Object.assign({}, u.query, { txSecret: '0'.repeat(32) })), 403)
    assert.equal(await onPublish(`${BIZID}_${sdkAppID}_alice`, u.query), 403, 'our signature does not cover alice')

    // The players come at once (get_pushers), as in the original; we are not in the room yet.
    await waitFor(() => v.players().length === 2, 'two players')
    assert.deepEqual(await serverMembers(alice, room), ['alice', 'bob'])
    assert.equal(eventsTagged(v, 'roomEntered').length, 0)

    // 1002: push started → add_pusher (with our push URL, so others get our accelerateURL).
    pushState(v, 1002)
    await waitEvent(v, 'roomEntered', e => e.detail === room)
    const list = (await alice.pushers(room)).pushers
    assert.deepEqual(list.map(p => p.userID).sort(), ['alice', 'bob', ME])
    const mine = list.find(p => p.userID === ME)
    assert.equal(mine.userName, MY_NAME)
    assertSigned(mine.accelerateURL, PLAY_HOST, stream)
    assert.equal(await onPublish(stream, parseRtmp(mine.accelerateURL).query), 403, 'a play URL is not a push URL')
    await waitFor(() => alice.got('pusher_join').some(f => f.pusher.userID === ME), 'alice hears of us')

    // Two players, each on that member's accelerateURL as RoomService hands it out.
    const players = v.comp.querySelectorAll('.player').map(attrs)
    assert.equal(players.length, 2)
    assert.equal(v.players().length, 2)
    for (const p of list.filter(x => x.userID !== ME)) {
      const player = players.find(x => x.id === p.userID)
      assert.ok(player, `a player for ${p.userID}`)
      assert.equal(player.src, p.accelerateURL)
      assertSigned(player.src, PLAY_HOST, `${BIZID}_${sdkAppID}_${p.userID}`)
      assert.equal(player.mode, 'live', 'plain RTMP live mode against a self-hosted server')
    }

    // A repeated 1002 (the pusher reconnected by itself) does not enter again.
    const adds = () => env.log.requests.filter(r => r.url.includes('/add_pusher?')).length
    const before = adds()
    pushState(v, 1002)
    await new Promise(r => setTimeout(r, 200))
    assert.equal(adds(), before)

    const info = v.comp.instance.getRoomInfo()
    assert.equal(info.roomID, room)
    assert.equal(info.roomCreator, 'alice')
    assert.deepEqual(info.pushers.map(p => p.userID).sort(), ['alice', 'bob'])
    assert.equal(v.comp.instance.getAccountInfo().userID, ME)
  })

  test('members joining and quitting, text and custom messages fire the onRoomEvent tags', async () => {
    const room = 'room_events'
    const alice = await member('alice', room)
    const bob = await member('bob', room)
    const v = await enterWith({ roomID: room, template: '1v3' })
    await waitFor(() => v.comp.data.members.length === 2, 'two members')

    const carol = await member('carol', room)
    const join = await waitEvent(v, 'pusherJoin')
    assert.equal(join.code, 0)
    const joined = JSON.parse(join.detail)
    assert.equal(joined.userID, 'carol')
    const carolListed = (await alice.pushers(room)).pushers.find(p => p.userID === 'carol')
    assert.equal(joined.accelerateURL, carolListed.accelerateURL)
    assertSigned(joined.accelerateURL, PLAY_HOST, `${BIZID}_${sdkAppID}_carol`)
    await waitFor(() => v.players().length === 3, 'three players')

    await bob.leave(room)
    const quit = await waitEvent(v, 'pusherQuit')
    assert.equal(JSON.parse(quit.detail).userID, 'bob')
    await waitFor(() => v.players().length === 2, 'two players again')
    assert.deepEqual(v.comp.data.members.map(m => m.userID).sort(), ['alice', 'carol'])

    await alice.text(room, 'hello "room" 你好')
    const text = JSON.parse((await waitEvent(v, 'recvTextMsg')).detail)
    assert.deepEqual(Object.keys(text).sort(), ['headPic', 'nickName', 'roomID', 'textMsg', 'time', 'userID'])
    assert.equal(text.roomID, room)
    assert.equal(text.userID, 'alice')
    assert.equal(text.nickName, 'alice-name')
    assert.equal(text.headPic, 'alice.png')
    assert.equal(text.textMsg, 'hello "room" 你好')
    assert.match(text.time, /^\d\d:\d\d:\d\d$/)

    await carol.custom(room, 'like', '{"n":3}')
    const custom = JSON.parse((await waitEvent(v, 'recvCustomMsg')).detail)
    assert.equal(custom.userID, 'carol')
    assert.equal(custom.userName, 'carol-name')
    assert.equal(custom.cmd, 'like')
    assert.equal(custom.msg, '{"n":3}')

    // And the other way: the component's messages reach the members, sender stamped by the server.
    await v.comp.instance.sendTextMsg('hi from the mini-program')
    const got = await waitFor(() => alice.got('room_text').find(f => f.userID === ME), 'alice gets our text')
    assert.equal(got.text, 'hi from the mini-program')
    assert.equal(got.head.data.nickName, MY_NAME)
    await v.comp.instance.sendCustomMsg('wave', 'hello')
    const gotCustom = await waitFor(() => carol.got('room_custom').find(f => f.userID === ME), 'carol gets our custom message')
    assert.equal(gotCustom.head.data.cmd, 'wave')
    assert.equal(gotCustom.head.data.msg, 'hello')
    assert.equal(eventsTagged(v, 'error').length, 0, JSON.stringify(v.events()))
  })

  test('exitRoom clears the players and leaves; start() enters again', async () => {
    const room = 'room_exit'
    const alice = await member('alice', room)
    await member('bob', room)
    const v = await enterWith({ roomID: room, template: 'grid' })
    await waitFor(() => v.players().length === 2, 'two players')

    await v.comp.instance.exitRoom()
    assert.deepEqual(v.comp.data.members, [])
    assert.equal(v.comp.data.pushURL, '')
    assert.equal(v.players().length, 0)
    assert.equal(attrs(v.comp.querySelector('#rtcpusher')).url, '')
    await waitFor(() => alice.got('pusher_quit').some(f => f.pusher.userID === ME), 'alice hears we left')
    assert.deepEqual(await serverMembers(alice, room), ['alice', 'bob'])

    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL again')
    pushState(v, 1002)
    await waitFor(() => eventsTagged(v, 'roomEntered').length === 2, 'entered again')
    assert.deepEqual(await serverMembers(alice, room), ['alice', 'bob', ME])
    await waitFor(() => v.players().length === 2, 'two players again')
  })

  test('the room closing under the component fires roomClosed and clears the players', async () => {
    const room = 'room_closing'
    const alice = await member('alice', room) // the creator: leaving closes the room
    await member('bob', room)
    const v = await enterWith({ roomID: room, template: '1v3' })
    await waitFor(() => v.players().length === 2, 'two players')
    await alice.leave(room)
    const closed = await waitEvent(v, 'roomClosed')
    assert.equal(closed.code, 0)
    assert.equal(v.players().length, 0)
    assert.equal(v.comp.data.pushURL, '')
    assert.equal(v.comp.instance.getRoomInfo().isDestory, true)
  })
})

describe('<rtc-room> creating a room', () => {
  test("roomID '' creates the room once the push runs, with roomInfo; stop() closes it", async () => {
    const v = render({ roomID: '', roomname: 'my "room"', template: 'float' })
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')
    const alice = await member('alice')
    const listed = async () => (await alice.ok('get_room_list', { index: 0, cnt: 100 })).rooms
    assert.equal((await listed()).filter(r => r.roomCreator === ME).length, 0, 'no room before 1002')

    pushState(v, 1002)
    const entered = await waitEvent(v, 'roomEntered')
    const room = entered.detail
    assert.match(room, /^room_/)
    const summary = await alice.pushers(room)
    assert.equal(summary.roomCreator, ME)
    assert.equal(summary.roomInfo, 'my "room"')
    assert.equal(v.comp.instance.getRoomInfo().roomID, room)
    assert.equal(v.comp.instance.getRoomInfo().roomCreator, ME)

    await alice.enter(room)
    const join = JSON.parse((await waitEvent(v, 'pusherJoin')).detail)
    assert.equal(join.userID, 'alice')
    await waitFor(() => v.players().length === 1, 'one player')
    assert.equal(v.comp.data.layout, 'float')
    assert.equal(attrs(v.comp.querySelectorAll('.player')[0]).src, join.accelerateURL)

    v.comp.instance.stop()
    assert.ok(env.log.pusher.some(c => c.method === 'stop'))
    await waitFor(() => alice.got('room_closed').some(f => f.roomID === room), 'the room closes with its creator')
  })
})

describe('<rtc-room> errors, as the original codes', () => {
  test('live-pusher codes -1301, -1302, -1307, 5000 and permission errors report and leave', async () => {
    const cases = [[-1301, -4], [-1302, -5], [-1307, -6], [5000, 5000]]
    for (const [state, code] of cases) {
      const v = render({ roomID: `room_push_${-state}`, template: '1v3' })
      v.comp.instance.start()
      await waitFor(() => v.comp.data.pushURL, 'the push URL')
      pushState(v, state)
      const e = await waitEvent(v, 'error')
      assert.equal(e.code, code, `live-pusher ${state}`)
      assert.equal(v.comp.data.pushURL, '', 'the push stops')
    }
    const v = render({ roomID: 'room_perm', template: '1v3' })
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')
    v.comp.querySelector('#rtcpusher').dispatchEvent('error', { detail: { errCode: 10001, errMsg: 'camera denied' } })
    assert.equal((await waitEvent(v, 'error')).code, -7)
  })

  test('a push disconnect in a room (-1307) leaves the room for the others too', async () => {
    const room = 'room_push_lost'
    const alice = await member('alice', room)
    const v = await enterWith({ roomID: room, template: '1v3' })
    pushState(v, -1307)
    assert.equal((await waitEvent(v, 'error')).code, -6)
    await waitFor(async () => !(await serverMembers(alice, room)).includes(ME), 'we are out of the room')
    assert.equal(v.players().length, 0)
  })

  test('a player that loses its stream (-2301) reports -9 and is restarted, up to three times', async () => {
    const room = 'room_play_lost'
    await member('alice', room)
    const v = await enterWith({ roomID: room, template: '1v3' })
    await waitFor(() => v.players().length === 1, 'one player')
    const url = v.comp.data.members[0].accelerateURL
    playState(v, 'alice', -2301)
    const e = await waitEvent(v, 'error')
    assert.equal(e.code, -9)
    assert.deepEqual(JSON.parse(e.detail), { userID: 'alice', retry: true, attempt: 1 })
    await waitFor(() => v.comp.data.members[0].playURL === '', 'the player stops')
    await waitFor(() => v.comp.data.members[0].playURL === url, 'and plays again', 3000)
    for (let i = 2; i <= 4; i++) {
      playState(v, 'alice', -2301)
      await waitFor(() => eventsTagged(v, 'error').length === i, `error ${i}`)
    }
    assert.deepEqual(JSON.parse(eventsTagged(v, 'error')[3].detail), { userID: 'alice', retry: false, attempt: 4 })
    playState(v, 'alice', 2004) // playing again resets the count
    playState(v, 'alice', -2301)
    await waitFor(() => eventsTagged(v, 'error').length === 5, 'error 5')
    assert.equal(JSON.parse(eventsTagged(v, 'error')[4].detail).attempt, 1)
    assert.ok(v.comp.data.members.length === 1, 'a player error does not leave the room')
  })

  test('server failures: push URL -1, create -2, enter -3, full room -8', async () => {
    // -8: more members than the template holds ('1v1' has one other).
    await member('alice', 'room_small')
    await member('bob', 'room_small')
    let v = render({ roomID: 'room_small', template: '1v1' })
    v.comp.instance.start()
    assert.equal((await waitEvent(v, 'error')).code, -8)

    // -8 also when the room fills between start() and 1002 (add_pusher answers 5001).
    const room = 'room_full'
    for (const who of ['carol', 'dave', 'erin']) await member(who, room)
    v = render({ roomID: room, template: '1v3' })
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL && v.comp.data.members.length === 3, 'URL and three players')
    await member('frank', room) // the fourth: the room is full
    pushState(v, 1002)
    assert.equal((await waitEvent(v, 'error')).code, -8)

    // -2: create_room refuses a roomInfo over 1024 bytes.
    v = render({ roomID: '', roomname: 'x'.repeat(2000), template: 'float' })
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')
    pushState(v, 1002)
    const create = await waitEvent(v, 'error')
    assert.equal(create.code, -2)
    assert.match(create.detail, /\(10\)/)

    // -3: entering fails (here: the session ended between the push URL and 1002).
    v = render({ roomID: 'room_enter', template: '1v3' })
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')
    await env.rtcroom.logout({})
    pushState(v, 1002)
    assert.equal((await waitEvent(v, 'error')).code, -3)

    // -1: no push URL without a session.
    v = render({ roomID: 'room_url', template: '1v3' })
    v.comp.instance.start()
    assert.equal((await waitEvent(v, 'error')).code, -1)
    await login()
  })
})

describe('<rtc-room> methods', () => {
  test('pause, resume, switchCamera and stop reach the pusher and players', async () => {
    const room = 'room_methods'
    await member('alice', room)
    const v = await enterWith({ roomID: room, template: '1v3', beauty: 7, muted: true, debug: true })
    await waitFor(() => v.players().length === 1, 'one player')
    const pusher = attrs(v.comp.querySelector('#rtcpusher'))
    assert.equal(pusher.beauty, 7)
    assert.equal(pusher.muted, true)
    assert.equal(pusher.debug, true)
    assert.equal(pusher.aspect, '3:4')
    assert.equal(pusher.minBitrate, 200)
    assert.equal(pusher.maxBitrate, 400)
    assert.equal(pusher.enableCamera, true)
    assert.equal(pusher.autopush, true)
    env.log.pusher.length = 0
    env.log.players.length = 0
    v.comp.instance.pause()
    v.comp.instance.resume()
    v.comp.instance.switchCamera()
    assert.deepEqual(env.log.pusher.map(c => c.method), ['pause', 'resume', 'switchCamera'])
    assert.deepEqual(env.log.players, [{ who: 'alice', method: 'pause' }, { who: 'alice', method: 'resume' }])
  })
})
