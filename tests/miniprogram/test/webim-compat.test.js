// The 2018 demo's IM path on rtcroom: miniprogram-adapter/compat/webim_wx.js
// driven the way webim_handler.js / rtcroom.js drive it (support/compat-user.js),
// through the `wx` shim (real HTTP and WebSocket) against the real
// rtcroom-server binary; then a mixed room where the other member is the
// rtcroom <rtc-room> component on the wasm core.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const { setup } = require('../support/env.js')
const { startServer, loginInfo, waitFor } = require('../support/server.js')
const { CompatUser, COMPAT, loadWebim } = require('../support/compat-user.js')

let server
let env
const users = []

function user(userID, userName) {
  const u = new CompatUser(server, env.root, userID, userName)
  users.push(u)
  return u
}

/** The socket the shim opened last for `userID`'s IM login. */
function imSocketOf(userID) {
  const s = env.log.sockets.filter(t => t.url.includes('/weapp/im?') && t.url.includes(`identifier=${userID}&`))
  return s[s.length - 1]
}

before(async () => {
  server = await startServer()
  env = setup()
})

after(async () => {
  for (const u of users) await u.logout().catch(() => {})
  server.stop()
  env.cleanup()
})

describe('webim_wx.js drop-in', () => {
  test('has the SDK constants the demo reads, with the original values', () => {
    const w = loadWebim(env.root, 'constants', 'http://127.0.0.1:9')
    assert.equal(w.SESSION_TYPE.GROUP, 'GROUP')
    assert.equal(w.SESSION_TYPE.C2C, 'C2C')
    assert.deepEqual(w.GROUP_MSG_SUB_TYPE, { COMMON: 0, LOVEMSG: 1, TIP: 2, REDPACKET: 3 })
    assert.deepEqual(w.C2C_MSG_SUB_TYPE, { COMMON: 0 })
    assert.equal(w.MSG_ELEMENT_TYPE.TEXT, 'TIMTextElem')
    assert.equal(w.MSG_ELEMENT_TYPE.CUSTOM, 'TIMCustomElem')
    assert.equal(w.MSG_ELEMENT_TYPE.GROUP_TIP, 'TIMGroupTipElem')
    assert.deepEqual(w.CONNECTION_STATUS, { INIT: -1, ON: 0, RECONNECT: 1, OFF: 9999 })
    assert.deepEqual(w.MSG_MAX_LENGTH, { C2C: 12000, GROUP: 8898 })
    assert.deepEqual(w.TLS_ERROR_CODE, { OK: 0, SIGNATURE_EXPIRATION: 11 })
    assert.deepEqual(w.IMAGE_TYPE, { ORIGIN: 1, LARGE: 2, SMALL: 3 })
    assert.equal(w.GROUP_TIP_TYPE.MODIFY_GROUP_INFO, 6)
    assert.equal(w.GROUP_TIP_MODIFY_GROUP_INFO_TYPE.INTRODUCTION, 5)
    assert.equal(w.BROWSER_INFO, 'wechat')
    assert.equal(w.EmotionDataIndexs['[微笑]'], 14)
    assert.equal(w.EmotionDataIndexs['[晕]'], 34)
    assert.deepEqual(w.Emotions, {})
    assert.equal(w.Tool.getStrBytes('a你😀'), 1 + 3 + 3 + 3, 'per UTF-16 unit, as the original counts')
    assert.equal(w.Tool.formatHtml2Text('a&nbsp;b<br/>c'), 'a b\nc')
    assert.equal(w.Tool.formatTimeStamp(0), 0)
    assert.match(w.Tool.formatTimeStamp(1500000000), /^2017-07-1\d \d\d:\d\d:\d\d$/)
    w.Tool.setCookie('accountType', '0', 60)
    assert.equal(w.Tool.getCookie('accountType'), '0')
    assert.equal(w.Tool.getQueryString('identifier'), null)
    assert.equal(typeof w.Log.warn, 'function')
  })

  test('two users: join → 255 and re-fetch, text both ways with the original elements and echo, custom, reconnect, creator leaves → 5, logout', async () => {
    const room = 'room_compat'
    const a = user('alice', 'Alice')
    const b = user('bob', 'Bob')
    assert.deepEqual(await a.login(), { errCode: 0 })
    await a.enter(room)
    assert.deepEqual(a.pushers, [])
    assert.deepEqual(await b.login(), { errCode: 0 })
    await b.enter(room)
    assert.deepEqual(b.pushers.map(p => p.userID), ['alice'], 'B sees A in its first get_pushers')

    // A is told through a group system notification 255 and re-fetches.
    await waitFor(() => a.joins.includes('bob'), 'A sees B join')
    const n = a.notifies.find(x => x.type === 255).notify
    assert.deepEqual(Object.keys(n).sort(), ['GroupId', 'GroupName', 'MsgSeq', 'MsgTime', 'Operator_Account', 'ReportType', 'SrcFlag', 'UserDefinedField'])
    assert.equal(n.ReportType, 255)
    assert.equal(n.GroupId, room)
    assert.equal(n.UserDefinedField, '{"cmd":"notifyPusherChange","data":""}')
    assert.equal(a.pushers[0].userName, 'Bob')
    assert.deepEqual(a.conn, [0], 'onConnNotify ON once')

    // Text A → B: a Msg of [TIMCustomElem head, TIMTextElem], from alice.
    await a.sendText('hello <B> "你好"')
    const got = await b.waitText(t => t.textMsg.startsWith('hello'), 'A\'s text')
    assert.deepEqual(got, { userID: 'alice', isSend: false, textMsg: 'hello &lt;B&gt; &quot;你好&quot;', nickName: 'Alice', headPic: 'alice.png' },
      'the SDK\'s xss filter on text, as Tencent IM delivered it')
    const m = b.msgs.find(x => !x.getIsSend())
    assert.equal(m.getFromAccount(), 'alice')
    assert.equal(m.getFromAccountNick(), 'alice')
    assert.equal(m.getSession().type(), 'GROUP')
    assert.equal(m.getSession().id(), room)
    assert.equal(m.getSubType(), 0)
    assert.ok(Math.abs(m.getTime() - Date.now() / 1000) < 10, 'unix seconds')
    assert.deepEqual(m.getElems().map(e => e.getType()), ['TIMCustomElem', 'TIMTextElem'])
    assert.equal(m.getElems()[0].getContent().getData(), '{"cmd":"CustomTextMsg","data":{"nickName":"Alice","headPic":"alice.png"}}')
    // AVChatRoom echoes the sender's own message, on the server's ack.
    const echo = await a.waitText(t => t.isSend, 'A\'s echo')
    assert.deepEqual(echo, { userID: 'alice', isSend: true, textMsg: 'hello &lt;B&gt; &quot;你好&quot;', nickName: 'Alice', headPic: 'alice.png' })

    // Text B → A.
    await b.sendText('hi A }} [微笑]')
    const back = await a.waitText(t => !t.isSend, 'B\'s text')
    assert.deepEqual(back, { userID: 'bob', isSend: false, textMsg: 'hi A }} [微笑]', nickName: 'Bob', headPic: 'bob.png' })

    // Custom B → A: one TIMCustomElem in Android's CustomCmdMsg layout.
    await b.sendCustom('like', '{"n":3}')
    const custom = await waitFor(() => a.msgs.find(x => !x.getIsSend() && x.getElems().length === 1), 'B\'s custom message')
    assert.equal(custom.getElems()[0].getType(), 'TIMCustomElem')
    assert.deepEqual(JSON.parse(custom.getElems()[0].getContent().getData()),
      { cmd: 'CustomCmdMsg', data: { userName: 'Bob', userAvatar: 'bob.png', cmd: 'like', msg: '{"n":3}' } })

    // What the server cannot carry fails through the error callback.
    const w = a.webim
    const c2c = new w.Msg(new w.Session(w.SESSION_TYPE.C2C, 'bob', 'bob', '', 0), true, -1, -1, -1, 'alice', 0, 'alice')
    c2c.addText(new w.Msg.Elem.Text('psst'))
    await assert.rejects(a.send(c2c), e => e.ErrorCode === 1002 && /C2C/.test(e.ErrorInfo))
    const love = a.newMsg()
    love.subType = w.GROUP_MSG_SUB_TYPE.LOVEMSG
    love.addText(new w.Msg.Elem.Text('love_msg'))
    await assert.rejects(a.send(love), e => e.ErrorCode === 1002)
    const board = a.newMsg()
    board.addCustom(new w.Msg.Elem.Custom('{"board":1}', '', 'TXWhiteBoardExt'))
    await assert.rejects(a.send(board), e => e.ErrorCode === 1002)
    const elsewhere = a.newMsg()
    elsewhere.sess = new w.Session(w.SESSION_TYPE.GROUP, 'room_not_mine', 'x', '', 0)
    elsewhere.addText(new w.Msg.Elem.Text('x'))
    await assert.rejects(a.send(elsewhere), e => e.ErrorCode === 3, 'the server\'s code: no such room')
    const big = a.newMsg()
    big.addText(new w.Msg.Elem.Text('x'.repeat(5000)))
    await assert.rejects(a.send(big), e => e.ErrorCode === 1005, 'the server\'s size limit')

    // The network drops A's socket; B leaves meanwhile. A: OFF, reconnect, ON, 255, re-fetch.
    const before = a.notifies.length
    imSocketOf('alice')._drop()
    await b.exit()
    await waitFor(() => a.conn.includes(9999), 'onConnNotify OFF')
    await waitFor(() => a.conn.lastIndexOf(0) > a.conn.indexOf(9999), 'onConnNotify ON again')
    await waitFor(() => a.quits.includes('bob'), 'A learns B left while it was away')
    assert.ok(a.notifies.slice(before).some(x => x.type === 255), 'through a 255 after the reconnect')
    // The HTTP side was never disturbed: A's token still works.
    assert.equal((await a.cmd('pusher_heartbeat', { roomID: room, userID: 'alice' })).code, 0)

    // B comes back; then the creator (A) leaves: B gets notification 5.
    await b.enter(room)
    await waitFor(() => a.joins.filter(u => u === 'bob').length === 2, 'A sees B again')
    assert.equal((await a.exit()).code, 0)
    const closed = await waitFor(() => b.notifies.find(x => x.type === 5), 'B told the room closed')
    assert.equal(closed.notify.GroupId, room)
    assert.equal(closed.notify.ReportType, 5)
    assert.equal((await b.exit()).code, 5, 'delete_pusher on the closed room: 5, as the original')

    // Logout ends the IM side too.
    await a.logout()
    await assert.rejects(a.sendText('gone'), e => e.ErrorCode === 7)
  })

  test('a bad userSig fails the IM login (rtcroom.js reports -999); the server refuses with login\'s code', async () => {
    const m = user('mallory')
    const bobSig = (await loginInfo(server, 'bob')).userSig
    const r = await m.login(bobSig)
    assert.equal(r.errCode, -999)
    assert.equal(m.loginError.ErrorCode, 7006, 'userSig issued for another userID')
    assert.match(m.loginError.ErrorInfo, /another userID/)
  })
})

describe('webim_wx.js drop-in, failures', () => {
  test('an unreachable IM server fails the login through the error callback, once', async () => {
    const w = loadWebim(env.root, 'unreachable', 'http://127.0.0.1:9')
    const calls = []
    await new Promise(resolve => w.login({ sdkAppID: 1, identifier: 'x', userSig: 's', accountType: '0' }, {}, { isLogOn: false },
      r => { calls.push(['ok', r]); resolve() }, e => { calls.push(['err', e]); resolve() }))
    await new Promise(r => setTimeout(r, 1500))
    assert.equal(calls.length, 1, JSON.stringify(calls))
    assert.equal(calls[0][0], 'err')
    assert.equal(calls[0][1].ErrorCode, -1)
    assert.match(calls[0][1].ErrorInfo, /cannot reach the IM server at ws:\/\/127\.0\.0\.1:9\/weapp\/im/)
    // Not logged in: the other calls fail through their error callbacks too.
    const err = await new Promise(resolve => w.applyJoinBigGroup({ GroupId: 'r' }, () => resolve(null), resolve))
    assert.equal(err.ErrorCode, 7)
  })
})

describe('a mixed room: compat IM and the rtcroom <rtc-room> component', () => {
  const ME = 'mp_user'
  const MY_NAME = 'MP'

  function pushState(v, code) {
    v.comp.querySelector('#rtcpusher').dispatchEvent('statechange', { detail: { code } })
  }

  async function enterWith(data) {
    const v = env.renderRoom(data)
    v.comp.instance.start()
    await waitFor(() => v.comp.data.pushURL, 'the push URL')
    pushState(v, 1002)
    await waitFor(() => v.events().find(e => e.tag === 'roomEntered'), 'roomEntered')
    return v
  }

  const tagged = (v, tag) => v.events().filter(e => e.tag === tag)

  test('both see each other\'s join and quit, text and custom messages both ways', async () => {
    const info = await loginInfo(server, ME)
    await new Promise((resolve, reject) => env.rtcroom.login({
      data: { serverDomain: `${server.base}/`, sdkAppID: info.sdkAppID, accType: info.accType, userID: ME, userSig: info.userSig, userName: MY_NAME },
      success: resolve,
      fail: e => reject(new Error(`login failed: ${e.errCode} ${e.errMsg}`)),
    }))
    const a = user('carol', 'Carol')
    assert.deepEqual(await a.login(), { errCode: 0 })

    // The compat member enters first; the component joins: carol gets 255 and sees it.
    const room = 'room_mixed'
    await a.enter(room)
    const v = await enterWith({ roomID: room, template: '1v3' })
    await waitFor(() => a.joins.includes(ME), 'carol sees the component join')
    await waitFor(() => v.comp.data.members.length === 1, 'the component lists carol')

    // Text both ways, custom compat → component.
    await a.sendText('from carol')
    const t = await waitFor(() => tagged(v, 'recvTextMsg').map(e => JSON.parse(e.detail)).find(x => x.textMsg === 'from carol'), 'text at the component')
    assert.equal(t.userID, 'carol')
    assert.equal(t.nickName, 'Carol')
    assert.equal(t.headPic, 'carol.png')
    await v.comp.instance.sendTextMsg('from the component')
    const back = await a.waitText(x => x.textMsg === 'from the component', 'text at carol')
    assert.deepEqual(back, { userID: ME, isSend: false, textMsg: 'from the component', nickName: MY_NAME, headPic: back.headPic })
    await v.comp.instance.sendCustomMsg('wave', 'hello')
    const wave = await waitFor(() => a.msgs.find(x => x.getElems().length === 1 && /"wave"/.test(x.getElems()[0].getContent().getData())), 'custom at carol')
    assert.equal(wave.getFromAccount(), ME)
    assert.deepEqual(JSON.parse(wave.getElems()[0].getContent().getData()),
      { cmd: 'CustomCmdMsg', data: { userName: MY_NAME, userAvatar: back.headPic, cmd: 'wave', msg: 'hello' } })
    await a.sendCustom('gift', 'rose')
    const c = await waitFor(() => tagged(v, 'recvCustomMsg').map(e => JSON.parse(e.detail)).find(x => x.cmd === 'gift'), 'custom at the component')
    assert.equal(c.userID, 'carol')
    assert.equal(c.msg, 'rose')

    // The component leaves: carol's 255 → re-fetch → quit.
    await v.comp.instance.exitRoom()
    v.page.detach()
    await waitFor(() => a.quits.includes(ME), 'carol sees the component leave')
    await a.exit()

    // The other way round: the component first, carol joins and leaves.
    const room2 = 'room_mixed_2'
    const v2 = await enterWith({ roomID: room2, template: '1v3' })
    await a.enter(room2)
    const join = JSON.parse((await waitFor(() => tagged(v2, 'pusherJoin')[0], 'component sees carol join')).detail)
    assert.equal(join.userID, 'carol')
    await a.exit()
    const quit = JSON.parse((await waitFor(() => tagged(v2, 'pusherQuit')[0], 'component sees carol leave')).detail)
    assert.equal(quit.userID, 'carol')
    await v2.comp.instance.exitRoom()
    v2.page.detach()
    await env.rtcroom.logout({}).catch(() => {})
    assert.ok(fs.existsSync(COMPAT))
  })
})
