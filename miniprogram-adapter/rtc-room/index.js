// <rtc-room>: the original RTCRoom mini-program component on the Rust room
// core. One <live-pusher> pushes our camera to the server-signed RTMP URL;
// one <live-player> per other member plays its accelerateURL. A page written
// for the original works unchanged: same properties, methods and
// `onRoomEvent` {tag, code, detail}. Log in first with the API module
// (`require('./rtcroom.js').login(...)`), as the original demo did.
//
// Flow (as the original): start() → get_push_url → the pusher pushes → on its
// 1002 (push started) → enter (add_pusher, or create_room + add_pusher when
// roomID is '') → members arrive as events.

const rtcroom = require('./rtcroom.js')

/** The original error codes (`onRoomEvent` tag 'error'). */
const ERROR = {
  GET_PUSH_URL: -1,
  CREATE_ROOM: -2,
  ENTER_ROOM: -3,
  OPEN_CAMERA: -4,
  OPEN_MIC: -5,
  PUSH_DISCONNECT: -6,
  CAMERA_MIC_PERMISSION: -7,
  REACH_MAX_MEMBERS: -8,
  PLAY_DISCONNECT: -9,
  /** live-pusher 5000: the mini-program was hidden too long; the room is left. */
  PUSH_SUSPENDED: 5000,
}

/** RoomService's "room full". */
const ROOM_FULL = 5001
/** Other members each template has room for, and how it lays them out. */
const TEMPLATES = {
  '1v1': { layout: 'float', max: 1 },
  '1v3': { layout: 'grid', max: 3 },
  grid: { layout: 'grid', max: 3 },
  float: { layout: 'float', max: 3 },
}
/** A player that lost its stream (-2301) is restarted this many times, this long apart. */
const PLAY_RETRIES = 3
const PLAY_RETRY_MS = 1000

/**
 * Each component's own state, kept off `data` (nothing here is rendered).
 * `phase`: idle → pushing (URL asked / pusher starting) → entering → inRoom;
 * `run` counts start()s, so late answers of an earlier one are ignored.
 * @typedef {{phase: string, run: number, retries: Object<string, number>, timers: any[]}} State
 * @type {WeakMap<object, State>}
 */
const states = new WeakMap()

/** @returns {State} */
function state(component) {
  let s = states.get(component)
  if (!s) {
    s = { phase: 'idle', run: 0, retries: {}, timers: [] }
    states.set(component, s)
  }
  return s
}

Component({
  properties: {
    roomID: { type: String, value: '' },
    roomInfo: { type: String, value: '' },
    template: {
      type: String,
      value: 'float',
      observer(name) {
        const t = TEMPLATES[name] || TEMPLATES.float
        this.setData({ layout: t.layout, maxMembers: t.max })
      },
    },
    beauty: { type: Number, value: 5 },
    aspect: { type: String, value: '3:4' },
    minBitrate: { type: Number, value: 200 },
    maxBitrate: { type: Number, value: 400 },
    muted: { type: Boolean, value: false },
    debug: { type: Boolean, value: false },
    enableCamera: { type: Boolean, value: true },
  },

  data: {
    pushURL: '',
    /** Other members: {userID, userName, userAvatar, accelerateURL, playURL}. */
    members: [],
    layout: 'float',
    maxMembers: 3,
  },

  lifetimes: {
    detached() {
      if (state(this).phase !== 'idle') this.exitRoom()
      this.clearTimers()
    },
  },

  methods: {
    /** Starts pushing and, once the push runs, enters `roomID` (or creates a room when it is ''). */
    start() {
      const st = state(this)
      if (st.phase !== 'idle') return
      st.phase = 'pushing'
      const run = ++st.run
      const roomID = this.data.roomID
      rtcroom.setListener(this.listener(run))
      rtcroom.getPushURL({ data: { roomID } }).then(({ pushURL }) => {
        if (st.run === run) this.setData({ pushURL })
      }, e => this.fail(run, ERROR.GET_PUSH_URL, `get push url failed: ${e.message}`))
      if (roomID) {
        // As the original: show who is there while our push starts.
        rtcroom.getPushers({ data: { roomID } }).then(r => {
          if (st.run === run && st.phase !== 'inRoom') this.setMembers(run, r.pushers)
        }, () => {}) // a room that does not exist yet is created by entering
      }
    },

    /** Leaves the room and stops the camera. */
    stop() {
      this.exitRoom()
      this.pusher().stop({ fail: () => {} })
    },

    pause() {
      this.pusher().pause({ fail: () => {} })
      this.data.members.forEach(m => this.player(m.userID).pause({ fail: () => {} }))
    },

    resume() {
      this.pusher().resume({ fail: () => {} })
      this.data.members.forEach(m => this.player(m.userID).resume({ fail: () => {} }))
    },

    switchCamera() {
      this.pusher().switchCamera({ fail: () => {} })
    },

    /** A text message to the room (others get tag 'recvTextMsg'). */
    sendTextMsg(msg) {
      return rtcroom.sendRoomTextMsg({ data: { msg }, fail: () => {} })
    },

    /** A custom message to the room (others get tag 'recvCustomMsg'). */
    sendCustomMsg(cmd, msg) {
      return rtcroom.sendRoomCustomMsg({ data: { cmd, msg }, fail: () => {} })
    },

    getAccountInfo() {
      return rtcroom.getAccountInfo()
    },

    getRoomInfo() {
      return rtcroom.getRoomInfo()
    },

    /** Leaves the room: the pusher stops, the players go. */
    exitRoom() {
      const { phase } = state(this)
      const wasIn = phase === 'entering' || phase === 'inRoom'
      this.reset()
      return wasIn ? rtcroom.exitRoom({ fail: () => {} }) : Promise.resolve({})
    },

    // ---- <live-pusher> / <live-player> ----

    onPush(e) {
      const code = e && e.detail ? e.detail.code : e
      const { run, phase } = state(this)
      switch (code) {
        case 1002: // push started: enter now (once per start)
          if (phase === 'pushing' && this.data.pushURL) this.enter(run)
          break
        case -1301:
          this.fail(run, ERROR.OPEN_CAMERA, 'failed to open the camera')
          break
        case -1302:
          this.fail(run, ERROR.OPEN_MIC, 'failed to open the microphone')
          break
        case -1307:
          this.fail(run, ERROR.PUSH_DISCONNECT, 'push disconnected after the pusher\'s own retries')
          break
        case 5000:
          this.fail(run, ERROR.PUSH_SUSPENDED, 'the mini-program was in the background too long')
          break
        default:
          break
      }
    },

    onPushError(e) {
      const code = e && e.detail ? e.detail.errCode : e
      if (code === 10001 || code === 10002) {
        this.fail(state(this).run, ERROR.CAMERA_MIC_PERMISSION, 'no permission for the camera or microphone')
      }
    },

    onPlay(e) {
      const userID = (e.currentTarget && (e.currentTarget.dataset.userid || e.currentTarget.id)) || ''
      const code = e.detail ? e.detail.code : 0
      const { retries } = state(this)
      if (code === 2004) {
        retries[userID] = 0 // playing again
      } else if (code === -2301) {
        const n = (retries[userID] || 0) + 1
        retries[userID] = n
        const retry = n <= PLAY_RETRIES
        this.event('error', ERROR.PLAY_DISCONNECT, JSON.stringify({ userID, retry, attempt: n }))
        if (retry) this.restartPlayer(userID)
      }
    },

    // ---- internals ----

    enter(run) {
      const st = state(this)
      st.phase = 'entering'
      const { roomID, roomInfo, pushURL } = this.data
      const creating = !roomID
      const entering = creating
        ? rtcroom.createRoom({ data: { roomInfo } })
        : rtcroom.enterRoom({ data: { roomID, roomInfo, pushURL } })
      entering.then(r => {
        if (st.run !== run) return
        st.phase = 'inRoom'
        this.event('roomEntered', 0, r.roomID)
      }, e => {
        if (st.run !== run) return
        const code = e.code === ROOM_FULL ? ERROR.REACH_MAX_MEMBERS
          : creating ? ERROR.CREATE_ROOM : ERROR.ENTER_ROOM
        this.fail(run, code, `${creating ? 'create' : 'enter'} room failed: ${e.message} (${e.code})`)
      })
    },

    listener(run) {
      const st = state(this)
      const mine = f => arg => {
        if (st.run === run && st.phase !== 'idle') f(arg)
      }
      return {
        onGetPusherList: mine(({ pushers }) => this.setMembers(run, pushers)),
        onPusherJoin: mine(({ pushers }) => {
          const others = this.data.members.filter(m => !pushers.some(p => p.userID === m.userID))
          this.showMembers(others.concat(pushers))
          pushers.forEach(p => this.event('pusherJoin', 0, JSON.stringify(p)))
        }),
        onPusherQuit: mine(({ pushers }) => {
          this.showMembers(this.data.members.filter(m => !pushers.some(p => p.userID === m.userID)))
          pushers.forEach(p => this.event('pusherQuit', 0, JSON.stringify(p)))
        }),
        onRoomClose: mine(() => {
          this.reset()
          this.event('roomClosed', 0, '')
        }),
        onRecvRoomTextMsg: mine(m => this.event('recvTextMsg', 0, JSON.stringify({
          roomID: m.roomID, userID: m.userID, nickName: m.nickName, headPic: m.headPic, textMsg: m.textMsg, time: m.time,
        }))),
        onRecvRoomCustomMsg: mine(m => this.event('recvCustomMsg', 0, JSON.stringify({
          roomID: m.roomID, userID: m.userID, userName: m.userName, userAvatar: m.userAvatar, cmd: m.cmd, msg: m.msg, time: m.time,
        }))),
        onError: mine(e => this.event('error', e.errCode, e.errMsg)),
        onResumeGap: mine(g => this.event('resumeGap', g.errCode, JSON.stringify({ errMsg: g.errMsg, missed: g.missed, lastSeq: g.lastSeq }))),
        onDebugLog: line => {
          if (this.data.debug) console.log('[rtc-room]', line)
        },
      }
    },

    /** The full member list (entering); more than the template holds is error -8. */
    setMembers(run, pushers) {
      if (pushers.length > this.data.maxMembers) {
        this.fail(run, ERROR.REACH_MAX_MEMBERS,
          `${pushers.length} members, the '${this.data.template}' template has room for ${this.data.maxMembers}`)
        return
      }
      this.showMembers(pushers)
    },

    showMembers(pushers) {
      const old = {}
      this.data.members.forEach(m => { old[m.userID] = m })
      const members = pushers.slice(0, this.data.maxMembers).map(p => ({
        userID: p.userID,
        userName: p.userName,
        userAvatar: p.userAvatar,
        accelerateURL: p.accelerateURL,
        playURL: old[p.userID] && old[p.userID].accelerateURL === p.accelerateURL ? old[p.userID].playURL : p.accelerateURL,
      }))
      this.setData({ members })
    },

    /** Restarts one player: its src goes away and comes back. */
    restartPlayer(userID) {
      const st = state(this)
      const blank = this.data.members.map(m => (m.userID === userID ? Object.assign({}, m, { playURL: '' }) : m))
      this.setData({ members: blank })
      const timer = setTimeout(() => {
        st.timers = st.timers.filter(t => t !== timer)
        const members = this.data.members.map(m => (m.userID === userID ? Object.assign({}, m, { playURL: m.accelerateURL }) : m))
        this.setData({ members })
      }, PLAY_RETRY_MS)
      st.timers.push(timer)
    },

    /** An error of this start: report it and leave the room, as the original did. */
    fail(run, code, detail) {
      const st = state(this)
      if (st.run !== run || st.phase === 'idle') return
      this.exitRoom()
      this.event('error', code, detail)
    },

    reset() {
      const st = state(this)
      st.phase = 'idle'
      st.run++
      st.retries = {}
      this.clearTimers()
      this.setData({ pushURL: '', members: [] })
    },

    clearTimers() {
      const st = state(this)
      st.timers.forEach(t => clearTimeout(t))
      st.timers = []
    },

    event(tag, code, detail) {
      this.triggerEvent('onRoomEvent', { tag, code, detail })
    },

    /** The page's one live-pusher (only one may exist per page). */
    pusher() {
      return wx.createLivePusherContext()
    },

    player(userID) {
      return wx.createLivePlayerContext(userID, this)
    },
  },
})
