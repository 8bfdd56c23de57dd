// The RTCRoom API module of the mini-program, shaped like the original
// `utils/rtcroom.js`: one session per mini-program, every function takes
// `{data, success, fail}` (and also returns a Promise), `fail` gets
// `{errCode, errMsg}`. It runs the Rust room core (wasm, loaded with
// WXWebAssembly): the same RoomCore as in browsers, handed `wx` as its
// transport (wx.request, wx.connectSocket). This file only shapes arguments,
// results and events; <rtc-room> uses it too.
//
//   const rtcroom = require('rtcroom-miniprogram/rtcroom')
//   rtcroom.login({data: {serverDomain, sdkAppID, accType, userID, userSig, userName}, success, fail})
//
// Differences from the original: `createRoom` creates *and enters* (call it
// once the pusher is pushing, as <rtc-room> does); `enterRoom` announces the
// push URL from the last `getPushURL` (stream names are per user); and
// `sendRoomCustomMsg` / `onRecvRoomCustomMsg` exist, as on Android.

const wasm = require('./wasm.js')

const NOT_LOGGED_IN = -1001

let wasmPath = ''
let core = null
let account = null
let room = null
let listener = {}

function emptyRoom() {
  return { roomID: '', roomCreator: '', roomInfo: '', mixedPlayURL: '', pushers: [], isDestory: false }
}

function fail(code, message) {
  return Object.assign(new Error(message), { code })
}

/** Settles `options.success`/`options.fail` from `promise`; returns it. */
function settle(options, promise) {
  const o = options || {}
  promise.then(
    r => typeof o.success === 'function' && o.success(r),
    e => typeof o.fail === 'function' && o.fail({ errCode: e.code === undefined ? -1 : e.code, errMsg: e.message }))
  // Callers that use callbacks need not handle the promise too.
  if (typeof o.fail === 'function') promise.catch(() => {})
  return promise
}

/** The core's call `name(a, b)` when logged in. */
function call(name, a, b) {
  return core ? core.call(name, a, b) : Promise.reject(fail(NOT_LOGGED_IN, 'not logged in'))
}

/** Stops `c` at once (its socket and timer; pending calls fail) and frees it. */
function drop(c) {
  c.shutdown()
  c.free()
}

function notify(name, arg) {
  const f = listener && listener[name]
  if (typeof f === 'function') f(arg)
}

function pusherView(p) {
  return { userID: p.userID, userName: p.userName, userAvatar: p.userAvatar, accelerateURL: p.accelerateURL }
}

function hhmmss(ms) {
  const d = new Date(ms)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map(n => (n < 10 ? '0' : '') + n).join(':')
}

/**
 * The one event table: the core's events (`{type, data}`, fields in the
 * wire's casing: roomID, userID, …) as the original listener callbacks.
 */
function onEvent(e) {
  const d = e.data
  switch (e.type) {
    case 'getPusherList':
      if (room) room.pushers = d.map(pusherView)
      notify('onGetPusherList', { pushers: d.map(pusherView) })
      break
    case 'pusherJoin':
      if (room) room.pushers = room.pushers.filter(p => p.userID !== d.userID).concat([pusherView(d)])
      notify('onPusherJoin', { pushers: [pusherView(d)] })
      break
    case 'pusherQuit':
      if (room) room.pushers = room.pushers.filter(p => p.userID !== d.userID)
      notify('onPusherQuit', { pushers: [pusherView(d)] })
      break
    case 'roomClosed':
      if (room) room.isDestory = true
      notify('onRoomClose', { roomID: d.roomID })
      break
    case 'recvRoomTextMsg':
      notify('onRecvRoomTextMsg', {
        roomID: d.roomID, userID: d.userID, nickName: d.userName, headPic: d.userAvatar,
        textMsg: d.text, time: hhmmss(d.time),
      })
      break
    case 'recvRoomCustomMsg':
      notify('onRecvRoomCustomMsg', {
        roomID: d.roomID, userID: d.userID, userName: d.userName, userAvatar: d.userAvatar,
        cmd: d.cmd, msg: d.msg, time: hhmmss(d.time),
      })
      break
    case 'error':
      notify('onError', { errCode: d.code, errMsg: d.message })
      break
    case 'debugLog':
      notify('onDebugLog', d)
      break
    case 'resumeGap':
      // A reconnect past the replay window: frames (room messages among them) were lost for good.
      notify('onResumeGap', { errCode: d.code, errMsg: d.message, missed: d.missed, lastSeq: d.lastSeq })
      break
    default:
      break
  }
}

/** Where rtcroom_bg.wasm is in the code package, when not at wasm.DEFAULT_PATH. */
function setWasmPath(path) {
  wasmPath = path
}

function login(options) {
  const data = (options && options.data) || {}
  const run = async () => {
    if (core) await logout({})
    const glue = await wasm.load(data.wasmPath || wasmPath)
    const mine = new glue.RoomCore(wx, null, { debug: !!data.debug }, onEvent)
    core = mine
    try {
      const r = await mine.call('login', {
        serverDomain: data.serverDomain,
        sdkAppID: data.sdkAppID,
        accType: data.accType === undefined ? (data.accountType || '') : data.accType,
        userID: data.userID,
        userSig: data.userSig,
        userName: data.userName || '',
        userAvatar: data.userAvatar || '',
      })
      account = {
        userID: r.userID,
        userName: data.userName || r.userID,
        userAvatar: data.userAvatar || '',
        userSig: data.userSig,
        sdkAppID: data.sdkAppID,
        accountType: data.accType,
        accountMode: 0,
        serverDomain: data.serverDomain,
      }
      return { userID: account.userID, userName: account.userName }
    } catch (e) {
      if (core === mine) {
        drop(mine)
        core = null
      }
      throw e
    }
  }
  return settle(options, run())
}

function logout(options) {
  const run = async () => {
    const c = core
    if (!c) return {}
    try {
      await c.call('logout')
    } finally {
      if (core === c) core = null
      drop(c)
      account = null
      room = null
    }
    return {}
  }
  return settle(options, run())
}

function getRoomList(options) {
  const data = (options && options.data) || {}
  return settle(options, call('getRoomList', { index: data.index || 0, cnt: data.cnt || 20 })
    .then(r => ({ rooms: r.rooms, total: r.total })))
}

function getPushURL(options) {
  const data = (options && options.data) || {}
  return settle(options, call('getPushUrl', { roomID: data.roomID || '' })
    .then(r => ({ pushURL: r.pushURL })))
}

function getPushers(options) {
  const data = (options && options.data) || {}
  return settle(options, call('getPushers', { roomID: data.roomID }).then(r => ({
    roomID: r.roomID, roomInfo: r.roomInfo, roomCreator: r.roomCreator,
    mixedPlayURL: r.mixedPlayURL, custom: r.custom, pushers: r.pushers.map(pusherView),
  })))
}

/** After entering: the room's own fields (members come as events). */
function entered(roomID, roomInfo) {
  room = Object.assign(emptyRoom(), { roomID, roomInfo: roomInfo || '', pushers: room ? room.pushers : [] })
  return call('getPushers', { roomID }).then(r => {
    if (room && room.roomID === roomID) {
      Object.assign(room, { roomCreator: r.roomCreator, roomInfo: r.roomInfo, mixedPlayURL: r.mixedPlayURL })
    }
  }, () => {}).then(() => ({ roomID }))
}

function createRoom(options) {
  const data = (options && options.data) || {}
  room = emptyRoom()
  return settle(options, call('createRoom', { roomID: data.roomID || '', roomInfo: data.roomInfo || '', privateMapKey: data.privateMapKey })
    .then(r => entered(r.roomID, data.roomInfo)))
}

function enterRoom(options) {
  const data = (options && options.data) || {}
  room = emptyRoom()
  return settle(options, call('enterRoom', { roomID: data.roomID, privateMapKey: data.privateMapKey })
    .then(r => entered(r.roomID, data.roomInfo)))
}

function exitRoom(options) {
  const gone = room
  room = null
  return settle(options, call('exitRoom').then(() => ({}), e => {
    if (gone && gone.isDestory) return {} // the room closed under us: we are out
    throw e
  }))
}

function sendRoomTextMsg(options) {
  const data = (options && options.data) || {}
  return settle(options, call('sendRoomTextMsg', String(data.msg)).then(() => ({})))
}

function sendRoomCustomMsg(options) {
  const data = (options && options.data) || {}
  return settle(options, call('sendRoomCustomMsg', String(data.cmd), String(data.msg))
    .then(() => ({})))
}

/** `{onGetPusherList, onPusherJoin, onPusherQuit, onRoomClose, onRecvRoomTextMsg, onRecvRoomCustomMsg, onError, onDebugLog, onResumeGap}` */
function setListener(l) {
  listener = l || {}
}

function getAccountInfo() {
  return account ? Object.assign({}, account) : {}
}

function getRoomInfo() {
  return room ? Object.assign({}, room, { pushers: room.pushers.slice() }) : emptyRoom()
}

module.exports = {
  login, logout, getRoomList, getPushURL, createRoom, getPushers, enterRoom, exitRoom,
  sendRoomTextMsg, sendRoomCustomMsg, setListener, getAccountInfo, getRoomInfo, setWasmPath,
}
