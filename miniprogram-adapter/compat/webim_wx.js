/*
 * rtcroom's drop-in for Tencent's web IM SDK file `webim_wx.js`, as the 2018
 * RTCRoom mini-program demo (`utils/webim_handler.js`, `utils/rtcroom.js`)
 * uses it. Put this file where the demo's `utils/webim_wx.js` was and point
 * `config.js`'s `roomServiceUrl` at rtcroom-server: that is the whole port.
 *
 * It speaks rtcroom's IM-style socket (`{roomServiceUrl}/weapp/im`, see
 * docs/PROTOCOL.md) with what the IM layer has (sdkAppID, identifier,
 * userSig), and delivers what Tencent IM delivered for a RoomService room:
 *   - a member entered or left → group system notification 255 with
 *     UserDefinedField '{"cmd":"notifyPusherChange","data":""}'
 *     (the app then re-fetches get_pushers);
 *   - the room closed → group system notification 5;
 *   - room text → an AVChatRoom Msg of a TIMCustomElem
 *     '{"cmd":"CustomTextMsg","data":{"nickName":..,"headPic":..}}' and a TIMTextElem;
 *   - room custom → one TIMCustomElem '{"cmd":"CustomCmdMsg","data":{userName,userAvatar,cmd,msg}}';
 *   - the sender's own group messages come back to it (as AVChatRoom did),
 *     once the server has accepted them;
 *   - a dropped connection → onConnNotify OFF, reconnect with back-off, ON,
 *     then a 255 notification per joined group (frames may have been missed).
 * Anything else (C2C, images, files, other custom payloads) fails through the
 * error callback with {ActionStatus:'FAIL', ErrorCode, ErrorInfo}.
 * Written for rtcroom; only the API shapes follow Tencent's SDK.
 */

// The app's own config.js (the demo's wxlite/config.js, next to utils/).
// @ts-ignore: it exists in the app, not in this package
var config = require('../config.js')

// ----- constants (the values of Tencent's webim_wx.js 1.7.0) -----

var SESSION_TYPE = { C2C: 'C2C', GROUP: 'GROUP' }
var MSG_MAX_LENGTH = { C2C: 12000, GROUP: 8898 }
var MSG_ELEMENT_TYPE = {
  TEXT: 'TIMTextElem', FACE: 'TIMFaceElem', IMAGE: 'TIMImageElem', CUSTOM: 'TIMCustomElem',
  SOUND: 'TIMSoundElem', FILE: 'TIMFileElem', LOCATION: 'TIMLocationElem', GROUP_TIP: 'TIMGroupTipElem',
}
var IMAGE_TYPE = { ORIGIN: 1, LARGE: 2, SMALL: 3 }
var C2C_MSG_SUB_TYPE = { COMMON: 0 }
var GROUP_MSG_SUB_TYPE = { COMMON: 0, LOVEMSG: 1, TIP: 2, REDPACKET: 3 }
var GROUP_TIP_TYPE = {
  JOIN: 1, QUIT: 2, KICK: 3, SET_ADMIN: 4, CANCEL_ADMIN: 5, MODIFY_GROUP_INFO: 6, MODIFY_MEMBER_INFO: 7,
}
var GROUP_TIP_MODIFY_GROUP_INFO_TYPE = { FACE_URL: 1, NAME: 2, OWNER: 3, NOTIFICATION: 4, INTRODUCTION: 5 }
var GROUP_SYSTEM_TYPE = {
  JOIN_GROUP_REQUEST: 1, JOIN_GROUP_ACCEPT: 2, JOIN_GROUP_REFUSE: 3, KICK: 4, DESTORY: 5, CREATE: 6,
  INVITED_JOIN_GROUP_REQUEST: 7, QUIT: 8, SET_ADMIN: 9, CANCEL_ADMIN: 10, REVOKE: 11, READED: 15, CUSTOM: 255,
}
var TLS_ERROR_CODE = { OK: 0, SIGNATURE_EXPIRATION: 11 }
var CONNECTION_STATUS = { INIT: -1, ON: 0, RECONNECT: 1, OFF: 9999 }
var ACTION_STATUS = { OK: 'OK', FAIL: 'FAIL' }
var EMOTION_DATA_INDEXS = {}
;['惊讶', '撇嘴', '色', '发呆', '得意', '流泪', '害羞', '闭嘴', '睡', '大哭', '尴尬', '发怒', '调皮', '龇牙', '微笑',
  '难过', '酷', '冷汗', '抓狂', '吐', '偷笑', '可爱', '白眼', '傲慢', '饿', '困', '惊恐', '流汗', '憨笑', '大兵',
  '奋斗', '咒骂', '疑问', '嘘', '晕'].forEach(function (name, i) { EMOTION_DATA_INDEXS['[' + name + ']'] = i })

/** What Tencent IM's server fields carried for the RoomService's notifications. */
var NOTIFY_PUSHER_CHANGE = '{"cmd":"notifyPusherChange","data":""}'
var OPERATOR = 'admin'

// Our ErrorCodes (docs/PROTOCOL.md numbers where one fits; the server's own come through as they are).
var ERR_NOT_LOGGED_IN = 7
var ERR_UNSUPPORTED = 1002
var ERR_CONNECTION = -1

var RECONNECT_MIN_MS = 500
var RECONNECT_MAX_MS = 30000
var PING_EVERY_MS = 10000
var SEND_TIMEOUT_MS = 10000

// ----- Log and Tool -----

var Log = (function () {
  var on = true
  function out(kind) {
    return function (s) {
      try { if (on) console[kind](s) } catch (e) { /* no console */ }
    }
  }
  return {
    setOn: function (f) { on = f }, getOn: function () { return on },
    error: out('error'), warn: out('warn'), info: out('info'), debug: out('debug'),
  }
})()

function xssFilter(val) {
  return String(val).replace(/[<]/g, '&lt;').replace(/[>]/g, '&gt;').replace(/"/g, '&quot;')
}

var cookies = {}

var Tool = {
  formatTimeStamp: function (timestamp, format) {
    if (!timestamp) return 0
    format = format || 'yyyy-MM-dd hh:mm:ss'
    var d = new Date(timestamp * 1000)
    var pad = function (n) { return (n < 10 ? '0' : '') + n }
    var parts = { 'M+': d.getMonth() + 1, 'd+': d.getDate(), 'h+': d.getHours(), 'm+': d.getMinutes(), 's+': d.getSeconds() }
    var out = format.replace(/y+/, function (y) { return String(d.getFullYear()).substr(4 - y.length) })
    Object.keys(parts).forEach(function (k) {
      out = out.replace(new RegExp(k), function (m) { return m.length === 1 ? String(parts[k]) : pad(parts[k]) })
    })
    return out
  },
  formatText2Html: function (text) {
    return text ? xssFilter(text).replace(/ /g, '&nbsp;').replace(/\n/g, '<br/>') : text
  },
  formatHtml2Text: function (html) {
    return html ? html.replace(/&nbsp;/g, ' ').replace(/<br\/>/g, '\n') : html
  },
  getStrBytes: function (str) {
    if (typeof str !== 'string') return 0
    var total = 0
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i)
      total += c <= 0x7f ? 1 : c <= 0x7ff ? 2 : c <= 0xffff ? 3 : 4
    }
    return total
  },
  xssFilter: xssFilter,
  trimStr: function (s) { return s ? String(s).replace(/(^\s*)|(\s*$)/g, '') : '' },
  getReturnError: function (info, code) { return fail(code || -100, info) },
  // A mini-program has neither cookies nor a location: kept in memory / always null.
  setCookie: function (name, value) { cookies[name] = String(value) },
  getCookie: function (name) { return Object.prototype.hasOwnProperty.call(cookies, name) ? cookies[name] : null },
  delCookie: function (name) { delete cookies[name] },
  getQueryString: function () { return null },
}

function fail(code, info) {
  return { ActionStatus: ACTION_STATUS.FAIL, ErrorCode: code, ErrorInfo: info + '[' + code + ']' }
}

function ok(extra) {
  var r = { ActionStatus: ACTION_STATUS.OK, ErrorCode: 0, ErrorInfo: '' }
  for (var k in extra) r[k] = extra[k]
  return r
}

function unixtime() {
  return Math.round(Date.now() / 1000)
}

var curSeq = 0
function nextSeq() {
  curSeq = curSeq ? curSeq + 1 : Math.round(Math.random() * 10000000)
  return curSeq
}

function createRandom() {
  return Math.round(Math.random() * 4294967296)
}

// ----- Session, Msg, Msg.Elem (the SDK's classes and accessors) -----

function Session(type, id, name, icon, time, seq) {
  this._impl = {
    skey: type + id, type: type, id: id, name: name, icon: icon, unread: 0, isAutoRead: false,
    time: time >= 0 ? time : 0, curMaxMsgSeq: seq >= 0 ? seq : 0, msgs: [], isFinished: 1,
  }
}
Session.skey = function (type, id) { return type + id }
Session.prototype.type = function () { return this._impl.type }
Session.prototype.id = function () { return this._impl.id }
Session.prototype.name = function () { return this._impl.name }
Session.prototype.icon = function () { return this._impl.icon }
Session.prototype.time = function () { return this._impl.time }
Session.prototype.unread = function (v) { if (v === undefined) return this._impl.unread; this._impl.unread = v }
Session.prototype.isFinished = function (v) { if (v === undefined) return this._impl.isFinished; this._impl.isFinished = v }
Session.prototype.curMaxMsgSeq = function (v) { if (v === undefined) return this._impl.curMaxMsgSeq; this._impl.curMaxMsgSeq = v }
Session.prototype.msgCount = function () { return this._impl.msgs.length }
Session.prototype.msg = function (i) { return this._impl.msgs[i] }
Session.prototype.msgs = function () { return this._impl.msgs }

function Msg(sess, isSend, seq, random, time, fromAccount, subType, fromAccountNick) {
  this.sess = sess
  this.subType = subType >= 0 ? subType : 0
  this.fromAccount = fromAccount
  this.fromAccountNick = fromAccountNick || fromAccount
  this.isSend = Boolean(isSend)
  this.seq = seq >= 0 ? seq : nextSeq()
  this.random = random >= 0 ? random : createRandom()
  this.time = time >= 0 ? time : unixtime()
  this.elems = []
}
Msg.prototype.getSession = function () { return this.sess }
Msg.prototype.getType = function () { return this.subType }
Msg.prototype.getSubType = function () { return this.subType }
Msg.prototype.getFromAccount = function () { return this.fromAccount }
Msg.prototype.getFromAccountNick = function () { return this.fromAccountNick }
Msg.prototype.getIsSend = function () { return this.isSend }
Msg.prototype.getSeq = function () { return this.seq }
Msg.prototype.getTime = function () { return this.time }
Msg.prototype.getRandom = function () { return this.random }
Msg.prototype.getElems = function () { return this.elems }
Msg.prototype.addElem = function (elem) { this.elems.push(elem) }
Msg.prototype.addText = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.TEXT, c)) }
Msg.prototype.addFace = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.FACE, c)) }
Msg.prototype.addImage = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.IMAGE, c)) }
Msg.prototype.addLocation = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.LOCATION, c)) }
Msg.prototype.addFile = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.FILE, c)) }
Msg.prototype.addCustom = function (c) { this.addElem(new Msg.Elem(MSG_ELEMENT_TYPE.CUSTOM, c)) }
Msg.prototype.toHtml = function () { return this.elems.map(function (e) { return e.toHtml() }).join('') }

Msg.Elem = function (type, value) {
  this.type = type
  this.content = value
}
Msg.Elem.prototype.getType = function () { return this.type }
Msg.Elem.prototype.getContent = function () { return this.content }
Msg.Elem.prototype.toHtml = function () { return this.content.toHtml() }

Msg.Elem.Text = function (text) { this.text = xssFilter(text) }
Msg.Elem.Text.prototype.getText = function () { return this.text }
Msg.Elem.Text.prototype.toHtml = function () { return this.text }

Msg.Elem.Face = function (index, data) {
  this.index = index
  this.data = data
}
Msg.Elem.Face.prototype.getIndex = function () { return this.index }
Msg.Elem.Face.prototype.getData = function () { return this.data }
Msg.Elem.Face.prototype.toHtml = function () { return this.data }

Msg.Elem.Custom = function (data, desc, ext) {
  this.data = data
  this.desc = desc
  this.ext = ext
}
Msg.Elem.Custom.prototype.getData = function () { return this.data }
Msg.Elem.Custom.prototype.getDesc = function () { return this.desc }
Msg.Elem.Custom.prototype.getExt = function () { return this.ext }
Msg.Elem.Custom.prototype.toHtml = function () { return this.data }

// ----- the connection -----

var ctx = null // {loginInfo, listeners, url, task, reqs, groups, retryMs, timers, open, ...}

function imUrl(info) {
  var base = String(config.roomServiceUrl || '').replace(/\/+$/, '').replace(/^https:/i, 'wss:').replace(/^http:/i, 'ws:')
  return base + '/weapp/im?sdkAppID=' + encodeURIComponent(info.sdkAppID) +
    '&identifier=' + encodeURIComponent(info.identifier) + '&userSig=' + encodeURIComponent(info.userSig)
}

function listener(name) {
  var l = ctx && ctx.listeners && ctx.listeners[name]
  return typeof l === 'function' ? l : null
}

function connNotify(status, info) {
  var f = listener('onConnNotify')
  if (f) f({ ActionStatus: status === CONNECTION_STATUS.OFF ? ACTION_STATUS.FAIL : ACTION_STATUS.OK, ErrorCode: status, ErrorInfo: info })
}

function systemNotify(reportType, groupId, extra) {
  var cbs = ctx && ctx.listeners && ctx.listeners.onGroupSystemNotifys
  var f = cbs && cbs[reportType]
  if (typeof f !== 'function') return
  var n = { SrcFlag: 1, ReportType: reportType, GroupId: groupId, GroupName: groupId, Operator_Account: OPERATOR, MsgTime: unixtime() }
  for (var k in extra) n[k] = extra[k]
  f(n)
}

function pusherChanged(groupId) {
  systemNotify(GROUP_SYSTEM_TYPE.CUSTOM, groupId, { MsgSeq: nextSeq(), UserDefinedField: NOTIFY_PUSHER_CHANGE })
}

function bigGroupMsg(msg) {
  var f = listener('onBigGroupMsgNotify')
  if (f) f([msg])
}

function groupMsg(groupId, fromAccount, isSend, time) {
  var sess = new Session(SESSION_TYPE.GROUP, groupId, groupId, '', 0, 0)
  // The demo sets the IM nick to the userID, so Tencent IM's From_AccountNick was the userID.
  return new Msg(sess, isSend, nextSeq(), createRandom(), time, fromAccount, GROUP_MSG_SUB_TYPE.COMMON, fromAccount)
}

function onFrame(c, f) {
  if (c !== ctx) return
  c.lastFrameAt = Date.now()
  switch (f.type) {
    case 'welcome': {
      var first = !c.everOpen
      c.everOpen = true
      c.open = true
      c.retryMs = RECONNECT_MIN_MS
      if (first) {
        var done = c.onLogin
        c.onLogin = null
        if (done) done.ok(ok({ identifierNick: c.loginInfo.identifierNick || c.loginInfo.identifier }))
      }
      connNotify(CONNECTION_STATUS.ON, 'connection is ok...')
      // After a gap, member changes may have been missed: have the app re-fetch.
      if (!first) Object.keys(c.groups).forEach(pusherChanged)
      break
    }
    case 'pusher_join':
    case 'pusher_quit':
      if (c.groups[f.roomID]) pusherChanged(f.roomID)
      break
    case 'room_closed':
      if (c.groups[f.roomID]) {
        delete c.groups[f.roomID]
        systemNotify(GROUP_SYSTEM_TYPE.DESTORY, f.roomID, {})
      }
      break
    case 'room_text': {
      if (!c.groups[f.roomID]) break
      var m = groupMsg(f.roomID, f.userID, false, Math.round(f.time / 1000))
      m.addCustom(new Msg.Elem.Custom(JSON.stringify(f.head), '', ''))
      m.addText(new Msg.Elem.Text(f.text))
      bigGroupMsg(m)
      break
    }
    case 'room_custom': {
      if (!c.groups[f.roomID]) break
      var cm = groupMsg(f.roomID, f.userID, false, Math.round(f.time / 1000))
      cm.addCustom(new Msg.Elem.Custom(JSON.stringify(f.head), '', ''))
      bigGroupMsg(cm)
      break
    }
    case 'ack':
    case 'error': {
      var r = f.reqID !== undefined && c.reqs[f.reqID]
      if (!r) {
        if (f.type === 'error') Log.error('rtcroom IM: ' + f.code + ' ' + f.message)
        if (f.type === 'error' && !c.everOpen && c.onLogin) {
          // Refused at login (bad userSig): the server closes; report once.
          var l = c.onLogin
          c.onLogin = null
          c.closed = true
          l.err(fail(f.code, f.message))
        }
        break
      }
      delete c.reqs[f.reqID]
      clearTimeout(r.timer)
      if (f.type === 'ack') r.ok()
      else r.err(fail(f.code, f.message))
      break
    }
    default:
      break // pong, signaling: not the IM layer's business
  }
}

function failPending(c, code, info) {
  Object.keys(c.reqs).forEach(function (id) {
    var r = c.reqs[id]
    delete c.reqs[id]
    clearTimeout(r.timer)
    r.err(fail(code, info))
  })
}

function connect(c) {
  if (c !== ctx || c.closed) return
  var task = null
  var gone = false
  function down() {
    if (gone) return
    gone = true
    if (task && c.task === task) c.task = null
    var wasOpen = c.open
    c.open = false
    failPending(c, ERR_CONNECTION, 'IM connection lost')
    if (c !== ctx || c.closed) return
    if (!c.everOpen) {
      // Never got in: a network failure at login. Report it as the SDK did.
      var l = c.onLogin
      c.onLogin = null
      c.closed = true
      clearInterval(c.pingTimer)
      if (l) l.err(fail(ERR_CONNECTION, 'cannot reach the IM server at ' + c.url.split('?')[0]))
      return
    }
    if (wasOpen) connNotify(CONNECTION_STATUS.OFF, 'connection is lost, reconnecting...')
    var wait = c.retryMs
    c.retryMs = Math.min(c.retryMs * 2, RECONNECT_MAX_MS)
    c.retryTimer = setTimeout(function () { connect(c) }, wait)
  }
  try {
    // `fail`: e.g. the host is not among the mini-program's socket domains.
    task = wx.connectSocket({ url: c.url, fail: function () { setTimeout(down, 0) } })
  } catch (e) {
    task = null
  }
  if (!task) return setTimeout(down, 0)
  c.task = task
  task.onMessage(function (m) {
    if (typeof m.data !== 'string') return // the IM socket sends text frames only
    var f
    try { f = JSON.parse(m.data) } catch (e) { return }
    onFrame(c, f)
  })
  task.onClose(down)
  task.onError(down)
}

function startPing(c) {
  c.pingTimer = setInterval(function () {
    if (c !== ctx || !c.task || !c.open) return
    if (Date.now() - c.lastFrameAt > 2.5 * PING_EVERY_MS) {
      c.task.close({ code: 1000, reason: 'no answer' }) // the close handler reconnects
      return
    }
    c.task.send({ data: '{"type":"ping"}' })
  }, PING_EVERY_MS)
}

function stop(c) {
  c.closed = true
  clearTimeout(c.retryTimer)
  clearInterval(c.pingTimer)
  failPending(c, ERR_NOT_LOGGED_IN, 'logged out')
  if (c.task) c.task.close({ code: 1000, reason: 'logout' })
  c.task = null
}

// ----- the SDK's functions -----

function login(loginInfo, listeners, options, cbOk, cbErr) {
  if (ctx) stop(ctx)
  ctx = null
  if (!loginInfo) return cbErr && cbErr(fail(-6, 'loginInfo is empty'))
  if (!loginInfo.sdkAppID) return cbErr && cbErr(fail(-7, 'loginInfo.sdkAppID is empty'))
  if (!loginInfo.identifier) return cbErr && cbErr(fail(-9, 'loginInfo.identifier is empty'))
  if (!loginInfo.userSig) return cbErr && cbErr(fail(-9, 'loginInfo.userSig is empty'))
  if (options && options.isLogOn === false) Log.setOn(false)
  var c = {
    loginInfo: loginInfo, listeners: listeners || {}, url: imUrl(loginInfo), task: null, reqs: {}, nextReq: 1,
    groups: {}, retryMs: RECONNECT_MIN_MS, open: false, everOpen: false, closed: false, lastFrameAt: Date.now(),
    onLogin: { ok: function (r) { if (cbOk) cbOk(r) }, err: function (e) { if (cbErr) cbErr(e) } },
  }
  ctx = c
  connect(c)
  startPing(c)
}

function logout(cbOk) {
  if (ctx) stop(ctx)
  ctx = null
  if (cbOk) cbOk(ok({}))
}

function loggedIn(cbErr) {
  if (ctx && ctx.everOpen && !ctx.closed) return true
  if (cbErr) cbErr(fail(ERR_NOT_LOGGED_IN, 'not logged in'))
  return false
}

function setProfilePortrait(options, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  ;((options && options.ProfileItem) || []).forEach(function (item) {
    if (item.Tag === 'Tag_Profile_IM_Nick') ctx.loginInfo.identifierNick = item.Value
  })
  if (cbOk) cbOk(ok({}))
}

// Rooms are RoomService's (add_pusher creates, the last delete_pusher removes):
// creating or destroying the IM group has nothing left to do.
function createGroup(options, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  if (cbOk) cbOk(ok({ GroupId: options && options.GroupId }))
}

function destroyGroup(options, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  if (options && options.GroupId) delete ctx.groups[options.GroupId]
  if (cbOk) cbOk(ok({}))
}

/** Joining subscribes to the room's events on the socket; the server checks membership when sending. */
function applyJoinBigGroup(options, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  var id = options && options.GroupId
  if (!id) return cbErr && cbErr(fail(-12, 'GroupId is empty'))
  ctx.groups[id] = true
  if (cbOk) cbOk(ok({ JoinedStatus: 'JoinedSuccess', LongPollingKey: 'rtcroom' }))
}

function quitBigGroup(options, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  if (options && options.GroupId) delete ctx.groups[options.GroupId]
  if (cbOk) cbOk(ok({}))
}

function parseJson(s) {
  try { return JSON.parse(s) } catch (e) { return null }
}

/**
 * The room frame for `msg`, or a reason it cannot be carried. Carried:
 * [Custom CustomTextMsg head,] Text/Face… → room_text (the server stamps the
 * head with the sender's add_pusher name and avatar); one Custom CustomCmdMsg → room_custom.
 */
function frameOf(msg) {
  if (!msg || !msg.sess || typeof msg.sess.type !== 'function') return { error: 'not a webim.Msg' }
  if (msg.sess.type() !== SESSION_TYPE.GROUP) return { error: 'C2C messages are not supported by rtcroom' }
  if (msg.subType !== GROUP_MSG_SUB_TYPE.COMMON) return { error: 'only common group messages are supported by rtcroom' }
  var roomID = String(msg.sess.id())
  var elems = msg.elems || []
  var i = 0
  var first = elems[0]
  var head = first && first.type === MSG_ELEMENT_TYPE.CUSTOM ? parseJson(first.content.data) : null
  if (head && head.cmd === 'CustomCmdMsg' && elems.length === 1) {
    var d = head.data || {}
    return { frame: { type: 'room_custom', roomID: roomID, cmd: String(d.cmd === undefined ? '' : d.cmd), msg: String(d.msg === undefined ? '' : d.msg) } }
  }
  if (head && head.cmd === 'CustomTextMsg') i = 1
  var text = ''
  for (; i < elems.length; i++) {
    var e = elems[i]
    if (e.type === MSG_ELEMENT_TYPE.TEXT) text += e.content.text
    else if (e.type === MSG_ELEMENT_TYPE.FACE) text += e.content.data
    else return { error: e.type + ' elements are not supported by rtcroom' }
  }
  if (i === 0 && elems.length === 0) return { error: 'the message is empty' }
  if (!text) return { error: 'custom messages other than CustomTextMsg / CustomCmdMsg are not supported by rtcroom' }
  return { frame: { type: 'room_text', roomID: roomID, text: text } }
}

/** The AVChatRoom echo of our own message: the same elements, as received. */
function echoOf(msg) {
  var m = groupMsg(String(msg.sess.id()), ctx.loginInfo.identifier, true, msg.time)
  msg.elems.forEach(function (e) {
    if (e.type === MSG_ELEMENT_TYPE.TEXT) m.addText(new Msg.Elem.Text(e.content.text))
    else if (e.type === MSG_ELEMENT_TYPE.FACE) m.addFace(new Msg.Elem.Face(e.content.index, e.content.data))
    else if (e.type === MSG_ELEMENT_TYPE.CUSTOM) m.addCustom(new Msg.Elem.Custom(e.content.data, e.content.desc, e.content.ext))
  })
  return m
}

function sendMsg(msg, cbOk, cbErr) {
  if (!loggedIn(cbErr)) return
  var c = ctx
  var f = frameOf(msg)
  if (f.error) return cbErr && cbErr(fail(ERR_UNSUPPORTED, f.error))
  if (!c.task || !c.open) return cbErr && cbErr(fail(ERR_CONNECTION, 'IM connection is down; reconnecting'))
  var reqID = c.nextReq++
  f.frame.reqID = reqID
  c.reqs[reqID] = {
    ok: function () {
      if (cbOk) cbOk(ok({ MsgTime: msg.time, MsgSeq: msg.seq }))
      if (c === ctx && c.groups[f.frame.roomID]) {
        var echo = echoOf(msg)
        setTimeout(function () { if (c === ctx) bigGroupMsg(echo) }, 0)
      }
    },
    err: function (e) { if (cbErr) cbErr(e) },
    timer: setTimeout(function () {
      if (!c.reqs[reqID]) return
      delete c.reqs[reqID]
      if (cbErr) cbErr(fail(ERR_CONNECTION, 'no answer from the IM server'))
    }, SEND_TIMEOUT_MS),
  }
  c.task.send({ data: JSON.stringify(f.frame) })
}

function c2CMsgReaded(options, cbOk) {
  if (cbOk) cbOk(ok({}))
}

module.exports = {
  SESSION_TYPE: SESSION_TYPE,
  MSG_MAX_LENGTH: MSG_MAX_LENGTH,
  MSG_ELEMENT_TYPE: MSG_ELEMENT_TYPE,
  IMAGE_TYPE: IMAGE_TYPE,
  C2C_MSG_SUB_TYPE: C2C_MSG_SUB_TYPE,
  GROUP_MSG_SUB_TYPE: GROUP_MSG_SUB_TYPE,
  GROUP_TIP_TYPE: GROUP_TIP_TYPE,
  GROUP_TIP_MODIFY_GROUP_INFO_TYPE: GROUP_TIP_MODIFY_GROUP_INFO_TYPE,
  GROUP_SYSTEM_TYPE: GROUP_SYSTEM_TYPE,
  TLS_ERROR_CODE: TLS_ERROR_CODE,
  CONNECTION_STATUS: CONNECTION_STATUS,
  BROWSER_INFO: 'wechat',
  Emotions: {},
  EmotionPicData: {},
  EmotionDataIndexs: EMOTION_DATA_INDEXS,
  EmotionPicDataIndex: EMOTION_DATA_INDEXS,
  Log: Log,
  Tool: Tool,
  Session: Session,
  Msg: Msg,
  login: login,
  init: login,
  logout: logout,
  offline: logout,
  setProfilePortrait: setProfilePortrait,
  createGroup: createGroup,
  destroyGroup: destroyGroup,
  applyJoinBigGroup: applyJoinBigGroup,
  quitBigGroup: quitBigGroup,
  sendMsg: sendMsg,
  c2CMsgReaded: c2CMsgReaded,
}
