// A member on the 2018 demo's stack with rtcroom's drop-in webim_wx.js
// (miniprogram-adapter/compat/): our own small driver that makes the calls in
// the order the original utils/rtcroom.js and webim_handler.js make them
// (HTTP login → IM login + nick → add_pusher → applyJoinBigGroup →
// get_pushers; notification 255 → get_pushers again and diff; text as a
// CustomTextMsg head + text; exit = delete_pusher + quitBigGroup) and reads
// what arrives the way they read it.

const fs = require('fs')
const path = require('path')
const { loginInfo, post, waitFor } = require('./server.js')

const COMPAT = path.resolve(__dirname, '../../../miniprogram-adapter/compat/webim_wx.js')

/**
 * Lays the file out as the demo has it (utils/webim_wx.js next to ../config.js)
 * under `root/<name>/` and loads a fresh instance of it.
 */
function loadWebim(root, name, roomServiceUrl) {
  const dir = path.join(root, name)
  fs.mkdirSync(path.join(dir, 'utils'), { recursive: true })
  fs.copyFileSync(COMPAT, path.join(dir, 'utils/webim_wx.js'))
  fs.writeFileSync(path.join(dir, 'config.js'), `module.exports = { roomServiceUrl: ${JSON.stringify(roomServiceUrl)} }\n`)
  return require(path.join(dir, 'utils/webim_wx.js'))
}

class CompatUser {
  constructor(server, root, userID, userName) {
    this.server = server
    this.userID = userID
    this.userName = userName || `${userID}-name`
    this.userAvatar = `${userID}.png`
    this.webim = loadWebim(root, `compat-${userID}`, server.http)
    this.conn = [] // onConnNotify ErrorCodes
    this.notifies = [] // {type, notify}
    this.msgs = [] // raw webim.Msg objects as delivered
    this.texts = [] // what rtcroom.js's receiveMsg would hand to onRecvRoomTextMsg
    this.pushers = []
    this.joins = []
    this.quits = []
    this.roomID = ''
  }

  cmd(name, body, query) {
    const q = query || `userID=${encodeURIComponent(this.userID)}&token=${encodeURIComponent(this.token)}`
    return post(`${this.server.base}/${name}?${q}`, body)
  }

  async ok(name, body) {
    const r = await this.cmd(name, body)
    if (r.code !== 0) throw new Error(`${this.userID} ${name}: ${JSON.stringify(r)}`)
    return r
  }

  /** RoomService login, then IM login; resolves {errCode:0} or rtcroom.js's {errCode:-999}. */
  async login(sigOverride) {
    const info = await loginInfo(this.server, this.userID)
    const userSig = sigOverride || info.userSig
    const q = new URLSearchParams({ sdkAppID: String(info.sdkAppID), accountType: info.accType, userID: this.userID, userSig })
    if (!sigOverride) {
      const r = await this.cmd('login', {}, q.toString())
      if (r.code !== 0) throw new Error(`login: ${JSON.stringify(r)}`)
      this.token = r.token
    }
    const webim = this.webim
    const loginIM = {
      sdkAppID: info.sdkAppID, appIDAt3rd: info.sdkAppID, accountType: info.accType,
      identifier: this.userID, identifierNick: this.userID, userSig,
    }
    const listeners = {
      onConnNotify: resp => this.conn.push(resp.ErrorCode),
      onBigGroupMsgNotify: list => {
        for (let i = list.length - 1; i >= 0; i--) this.receive(list[i])
      },
      onMsgNotify: () => {},
      onGroupSystemNotifys: {
        5: n => this.notifies.push({ type: 5, notify: n }),
        255: n => {
          this.notifies.push({ type: 255, notify: n })
          const content = JSON.parse(n.UserDefinedField)
          if (content && content.cmd === 'notifyPusherChange') this.mergePushers()
        },
      },
      onGroupInfoChangeNotify: () => {},
    }
    return new Promise(resolve => {
      webim.login(loginIM, listeners, { isAccessFormalEnv: true, isLogOn: false }, () => {
        webim.setProfilePortrait({ ProfileItem: [{ Tag: 'Tag_Profile_IM_Nick', Value: loginIM.identifierNick }] },
          () => resolve({ errCode: 0 }),
          e => resolve({ errCode: e.ErrorCode, errMsg: e.ErrorInfo }))
      }, err => {
        this.loginError = err
        resolve({ errCode: -999, errMsg: 'IM登录失败' })
      })
    })
  }

  /** rtcroom.js's receive path: all elements' content, then the '}}' split of the head. */
  receive(msg) {
    this.msgs.push(msg)
    const T = this.webim.MSG_ELEMENT_TYPE
    let content = ''
    for (const e of msg.getElems()) {
      const c = e.getContent()
      if (e.getType() === T.TEXT) content += c.getText()
      else if (e.getType() === T.CUSTOM || e.getType() === T.FACE) content += c.getData()
    }
    content = this.webim.Tool.formatHtml2Text(content)
    const out = { userID: msg.getFromAccountNick(), isSend: msg.getIsSend(), textMsg: content }
    const parts = content.split('}}')
    const head = JSON.parse(parts[0] + '}}')
    if (head.cmd === 'CustomTextMsg') {
      out.nickName = head.data.nickName
      out.headPic = head.data.headPic
      out.textMsg = parts.slice(1).join('}}')
    }
    this.texts.push(out)
  }

  async enter(roomID) {
    const { pushURL } = await this.ok('get_push_url', { userID: this.userID, roomID })
    await this.ok('add_pusher', { roomID, userID: this.userID, userName: this.userName, userAvatar: this.userAvatar, pushURL })
    this.roomID = roomID
    await new Promise((resolve, reject) => this.webim.applyJoinBigGroup({ GroupId: roomID },
      r => (r.JoinedStatus === 'JoinedSuccess' ? resolve() : reject(new Error('not joined'))),
      e => reject(new Error(e.ErrorInfo))))
    await this.mergePushers()
  }

  /** get_pushers and the by-userID diff against the cached list (self excluded, as the component does). */
  async mergePushers() {
    if (!this.roomID) return
    const r = await this.cmd('get_pushers', { roomID: this.roomID })
    if (r.code !== 0) return
    const now = r.pushers.filter(p => p.userID !== this.userID)
    const had = new Set(this.pushers.map(p => p.userID))
    const has = new Set(now.map(p => p.userID))
    for (const p of now) if (!had.has(p.userID)) this.joins.push(p.userID)
    for (const p of this.pushers) if (!has.has(p.userID)) this.quits.push(p.userID)
    this.pushers = now
  }

  newMsg() {
    const w = this.webim
    const sess = new w.Session(w.SESSION_TYPE.GROUP, this.roomID, this.roomID, '', Math.round(Date.now() / 1000))
    return new w.Msg(sess, true, -1, Math.round(Math.random() * 4294967296), Math.round(Date.now() / 1000),
      this.userID, w.GROUP_MSG_SUB_TYPE.COMMON, this.userID)
  }

  send(msg) {
    return new Promise((resolve, reject) => this.webim.sendMsg(msg, resolve, e => reject(Object.assign(new Error(e.ErrorInfo), e))))
  }

  /** sendRoomTextMsg: the head by string concatenation, then the text, as rtcroom.js builds it. */
  sendText(text) {
    const w = this.webim
    const msg = this.newMsg()
    msg.addCustom(new w.Msg.Elem.Custom('{"cmd":"CustomTextMsg","data":{"nickName":"' + this.userName + '","headPic":"' + this.userAvatar + '"}}', '', ''))
    msg.addText(new w.Msg.Elem.Text(text))
    return this.send(msg)
  }

  /** Android's sendRoomCustomMsg layout. */
  sendCustom(cmd, payload) {
    const w = this.webim
    const msg = this.newMsg()
    msg.addCustom(new w.Msg.Elem.Custom(JSON.stringify({ cmd: 'CustomCmdMsg', data: { userName: this.userName, userAvatar: this.userAvatar, cmd, msg: payload } }), '', ''))
    return this.send(msg)
  }

  async exit() {
    const r = await this.cmd('delete_pusher', { roomID: this.roomID, userID: this.userID })
    this.webim.quitBigGroup({ GroupId: this.roomID }, () => {}, () => {})
    this.roomID = ''
    this.pushers = []
    return r
  }

  async logout() {
    await this.cmd('logout', {}).catch(() => {})
    await new Promise(resolve => this.webim.logout(resolve))
  }

  waitText(pred, what) {
    return waitFor(() => this.texts.find(pred), `${this.userID}: ${what}`)
  }
}

module.exports = { CompatUser, loadWebim, COMPAT }
