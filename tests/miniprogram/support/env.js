// The simulated mini-program: a DOM (global-jsdom) for miniprogram-simulate,
// a fake code package root laid out as "build npm" leaves it
// (miniprogram_npm/rtcroom-miniprogram = miniprogram-adapter/rtc-room, and the
// demo's room page), the real-network `wx` shim, and none of the Node globals
// the runtime lacks.

require('global-jsdom/register')
// Node has its own Event/CustomEvent, which jsdom's dispatchEvent refuses;
// j-component creates events through the globals.
global.Event = window.Event
global.CustomEvent = window.CustomEvent
const fs = require('fs')
const os = require('os')
const path = require('path')
const simulate = require('miniprogram-simulate')
const shim = require('./wx-shim.js')

const ADAPTER = path.resolve(__dirname, '../../../miniprogram-adapter')

function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true })
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name)
    const dst = path.join(to, e.name)
    if (e.isDirectory()) copyDir(src, dst)
    else fs.copyFileSync(src, dst)
  }
}

/** Lays out the code package and installs the shim; returns {root, log, renderRoom, cleanup}. */
function setup() {
  const wasm = path.join(ADAPTER, 'rtc-room/lib/rtcroom_bg.wasm')
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} missing: run scripts/build-miniprogram`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcroom-mp-root-'))
  // What the `miniprogram` field of miniprogram-adapter/package.json makes "build npm" copy.
  const pkg = JSON.parse(fs.readFileSync(path.join(ADAPTER, 'package.json'), 'utf8'))
  copyDir(path.join(ADAPTER, pkg.miniprogram), path.join(root, 'miniprogram_npm', pkg.name))
  copyDir(path.join(__dirname, '../fixtures/room'), path.join(root, 'pages/room'))

  const log = shim.install({ root })
  shim.hideNodeGlobals()

  let pageId = null
  /** Renders the demo room page with `data`; the <rtc-room> inside is `comp`. */
  function renderRoom(data) {
    if (!pageId) pageId = simulate.load(path.join(root, 'pages/room/room'), 'room-page', { rootPath: root })
    const page = simulate.render(pageId)
    page.attach(document.createElement('parent-wrapper'))
    if (data) page.setData(data)
    const comp = page.querySelector('#rtcroom')
    if (!comp) throw new Error('the page rendered no <rtc-room>')
    return {
      page,
      comp,
      /** Every onRoomEvent the page got, oldest first. */
      events: () => page.instance.events || [],
      pushers: () => comp.querySelectorAll('#rtcpusher'),
      players: () => comp.dom.querySelectorAll('wx-live-player'),
    }
  }

  return {
    root,
    log,
    renderRoom,
    /** The API module exactly as the page gets it from the package. */
    rtcroom: require(path.join(root, 'miniprogram_npm', pkg.name, 'rtcroom.js')),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  }
}

module.exports = { setup, simulate, ADAPTER }
