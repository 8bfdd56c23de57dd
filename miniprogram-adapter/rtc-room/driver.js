// The mini-program driver of the Rust room core (RoomCore, see src/host.rs).
// It only carries out the core's outputs and feeds back what happens:
// HTTP on wx.request, the room socket on wx.connectSocket, one timer on
// setTimeout. Login, heartbeats, reconnects, the member list, room events and
// messages are the core's; this file holds no room state. The core's WebRTC
// peer actions are dropped: here media goes through <live-pusher> and
// <live-player> over RTMP.

/** How long one HTTP request may take (the Android client used 5 s). */
const HTTP_TIMEOUT_MS = 15000

class Driver {
  /**
   * @param {any} core a RoomCore
   * @param {(event: {type: string, data: any}) => void} onEvent the core's events
   */
  constructor(core, onEvent) {
    this.core = core
    this.onEvent = onEvent
    this.inbox = []
    this.pumping = false
    this.calls = new Map()
    this.nextCall = 1
    this.sockets = new Map()
    this.timer = null
    this.closed = false
  }

  /**
   * Starts a core call (`{call: 'login', ...}`); settles with its result.
   * @param {object} call
   * @returns {Promise<any>}
   */
  call(call) {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(Object.assign(new Error('the room core is shut down'), { code: -1001 }))
        return
      }
      const id = this.nextCall++
      this.calls.set(id, { resolve, reject })
      this.feed(Object.assign({}, call, { type: 'call', id }))
    })
  }

  /** Feeds one input; inputs that arrive while outputs are carried out wait their turn. */
  feed(input) {
    if (this.closed) return
    this.inbox.push(input)
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.inbox.length) {
        const next = this.inbox.shift()
        try {
          this.core.handle(next, Date.now())
        } catch (e) {
          // A malformed input changes nothing in the core; fail its call.
          const pending = next.type === 'call' && this.calls.get(next.id)
          if (pending) {
            this.calls.delete(next.id)
            pending.reject(e)
          } else {
            console.error('rtcroom: input refused', next.type, e)
          }
        }
        let out
        while ((out = this.core.poll()) !== undefined) this.perform(out)
      }
    } finally {
      this.pumping = false
    }
  }

  perform(out) {
    const d = out.data
    switch (out.type) {
      case 'http':
        wx.request({
          url: d.url,
          method: 'POST',
          data: d.body,
          header: { 'content-type': 'application/json' },
          timeout: HTTP_TIMEOUT_MS,
          success: res => this.feed({ type: 'httpReply', id: d.id, statusCode: res.statusCode, data: res.data }),
          fail: err => this.feed({ type: 'httpFailed', id: d.id, message: (err && err.errMsg) || 'request:fail' }),
        })
        break
      case 'wsConnect':
        this.connect(d.conn, d.url)
        break
      case 'wsSend': {
        const task = this.sockets.get(d.conn)
        // A send on a socket that is not open fails; the core hears of the close.
        if (task) task.send({ data: JSON.stringify(d.frame), fail: () => {} })
        break
      }
      case 'wsClose': {
        const task = this.sockets.get(d.conn)
        this.sockets.delete(d.conn)
        if (task) task.close({ fail: () => {} })
        break
      }
      case 'timer':
        if (this.timer !== null) clearTimeout(this.timer)
        this.timer = setTimeout(() => {
          this.timer = null
          this.feed({ type: 'timeout' })
        }, Math.max(0, d.atMs - Date.now()))
        break
      case 'callDone': {
        const pending = this.calls.get(d.id)
        if (!pending) break
        this.calls.delete(d.id)
        if (d.result.Ok !== undefined) pending.resolve(d.result.Ok)
        else pending.reject(Object.assign(new Error(d.result.Err.message), { code: d.result.Err.code }))
        break
      }
      case 'event':
        try {
          this.onEvent(d)
        } catch (e) {
          console.error('rtcroom: listener threw', e)
        }
        break
      case 'peer': // no RTCPeerConnection in a mini-program
      default:
        break
    }
  }

  /** Opens socket `conn`; its frames and its end (once) go to the core. */
  connect(conn, url) {
    const task = wx.connectSocket({ url, fail: () => {} })
    this.sockets.set(conn, task)
    const closed = reason => {
      if (this.sockets.get(conn) !== task) return // closed by the core, or reported already
      this.sockets.delete(conn)
      this.feed({ type: 'wsClosed', conn, reason })
    }
    task.onMessage(res => {
      if (this.sockets.get(conn) === task) this.feed({ type: 'wsMessage', conn, data: res.data })
    })
    task.onClose(res => closed(`closed: ${res && res.code} ${(res && res.reason) || ''}`))
    task.onError(err => {
      closed(`error: ${(err && err.errMsg) || ''}`)
      task.close({ fail: () => {} })
    })
  }

  /** Stops everything: sockets, the timer; pending calls fail. */
  shutdown() {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const task of this.sockets.values()) task.close({ fail: () => {} })
    this.sockets.clear()
    for (const pending of this.calls.values()) {
      pending.reject(Object.assign(new Error('cancelled'), { code: -1005 }))
    }
    this.calls.clear()
  }
}

module.exports = { Driver }
