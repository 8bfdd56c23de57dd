// The rtcroom demo: log in, list/create/enter rooms, see and message each
// other. Plain ES modules on top of the npm package build (./pkg/).
import { RTCRoom } from './pkg/index.js';

const $ = (id) => document.getElementById(id);
// window.rtcroomDemoOptions (set before the page loads, e.g. by a test's init script) adds RTCRoom options.
const room = new RTCRoom({ debug: true, ...window.rtcroomDemoOptions });
const names = new Map(); // userID -> display name
const demo = { room, joinStartedAt: null, firstFrame: {}, log: [] };
window.demo = demo; // for end-to-end tests and the console

let me = null;
let currentRoom = null;

function showError(e) {
  const el = $('error');
  if (!e) { el.hidden = true; el.textContent = ''; return; }
  el.hidden = false;
  el.textContent = e.code !== undefined ? `Error ${e.code}: ${e.message}` : String(e.message || e);
}

async function guarded(fn) {
  showError(null);
  try { return await fn(); } catch (e) { showError(e); demo.log.push(['rejected', e.code, e.message]); return undefined; }
}

function view(name) {
  for (const id of ['login', 'lobby', 'room']) $(id).hidden = id !== name;
}

// ---- login ----

function serverDomain() {
  return $('server-domain').value.trim() || `${location.origin}/weapp/rtc_room`;
}

async function login(creds) {
  const userName = $('user-name').value.trim() || creds.userID;
  await room.login({ ...creds, serverDomain: creds.serverDomain || serverDomain(), userName });
  me = { userID: creds.userID, userName };
  names.set(me.userID, userName);
  $('who').textContent = `${userName} (${me.userID})`;
  view('lobby');
  await refresh();
}

$('debug-login').onclick = () => guarded(async () => {
  const userID = $('user-id').value.trim();
  const url = `${location.origin}/weapp/utils/get_login_info_debug${userID ? `?userID=${encodeURIComponent(userID)}` : ''}`;
  const info = await (await fetch(url)).json();
  if (info.code !== 0) throw info;
  await login({ sdkAppID: info.sdkAppID, accType: info.accType, userID: info.userID, userSig: info.userSig });
});

$('manual-login').onclick = () => guarded(() => login({
  serverDomain: serverDomain(),
  sdkAppID: $('sdk-app-id').value.trim(),
  userID: $('user-id').value.trim(),
  userSig: $('user-sig').value.trim(),
}));

$('logout').onclick = () => guarded(async () => {
  await room.logout();
  me = null;
  $('who').textContent = '';
  view('login');
});

// ---- lobby ----

function roomName(r) {
  try { return JSON.parse(r.roomInfo).name || r.roomID; } catch (_) { return r.roomInfo || r.roomID; }
}

async function refresh() {
  const { rooms } = await room.getRoomList({ index: 0, count: 50 });
  const list = $('rooms');
  list.replaceChildren(...rooms.map((r) => {
    const li = document.createElement('li');
    li.dataset.roomId = r.roomID;
    const name = Object.assign(document.createElement('span'), { className: 'name', textContent: roomName(r) });
    const meta = Object.assign(document.createElement('span'), { className: 'meta', textContent: `${r.memberCount} in call · by ${r.roomCreator}` });
    const enter = Object.assign(document.createElement('button'), { className: 'primary', textContent: 'Enter' });
    enter.onclick = () => guarded(() => enterRoom(r.roomID, roomName(r)));
    li.append(name, meta, enter);
    return li;
  }));
  $('no-rooms').hidden = rooms.length > 0;
}

$('refresh').onclick = () => guarded(refresh);

$('create').onsubmit = (e) => {
  e.preventDefault();
  guarded(async () => {
    const name = $('room-name').value.trim() || `${me.userName}'s room`;
    const roomID = $('room-id').value.trim() || undefined;
    demo.joinStartedAt = performance.now();
    const [, { roomID: id }] = await Promise.all([startPreview(), room.createRoom({ roomID, roomInfo: { name } })]);
    openRoom(id, name);
  });
};

async function startPreview() {
  try {
    await room.startLocalPreview($('local-video'));
  } catch (e) {
    showError({ message: `camera/microphone unavailable: ${e.message}` }); // the call still works receive-only
  }
}

async function enterRoom(roomID, name) {
  demo.joinStartedAt = performance.now();
  // Camera and room together: a peer made before the camera is ready gets
  // its tracks when they come (replaceTrack on its senders, no renegotiation).
  await Promise.all([startPreview(), room.enterRoom({ roomID })]);
  openRoom(roomID, name);
}

function openRoom(roomID, name) {
  currentRoom = roomID;
  $('room-title').textContent = name;
  $('messages').replaceChildren();
  view('room');
}

function closeRoom(note) {
  for (const tile of [...document.querySelectorAll('.tile.remote')]) removeTile(tile.dataset.user);
  room.stopLocalPreview();
  currentRoom = null;
  view('lobby');
  if (note) showError({ message: note });
  guarded(refresh);
}

// Debug servers with the RTMP bridge: a test mini-program member (an ffmpeg
// test pattern pushed over RTMP as <live-pusher> would) enters this room.
$('add-test-mp').onclick = () => guarded(async () => {
  const r = await (await fetch(`${location.origin}/weapp/utils/debug_add_test_member`, { method: 'POST', body: JSON.stringify({ roomID: currentRoom }) })).json();
  if (r.code !== 0) throw r;
  demo.log.push(['test-member', r.userID]);
});

$('leave').onclick = () => guarded(async () => {
  await room.exitRoom();
  closeRoom();
});

// ---- the call ----

/** A member as shown: display names are free text, so the userID always goes with it ("Alice (mallory)"). */
function label(userID, name) {
  return name && name !== userID ? `${name} (${userID})` : userID;
}

function addTile(pusher) {
  names.set(pusher.userID, pusher.userName || pusher.userID);
  if (document.querySelector(`.tile[data-user="${CSS.escape(pusher.userID)}"]`)) return;
  const fig = document.createElement('figure');
  fig.className = 'tile remote';
  fig.dataset.user = pusher.userID;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  const cap = Object.assign(document.createElement('figcaption'), { textContent: label(pusher.userID, pusher.userName) });
  fig.append(video, cap);
  $('grid').append(fig);
  room.addRemoteView(pusher, video);
  const onFrame = () => {
    if (demo.firstFrame[pusher.userID] === undefined) demo.firstFrame[pusher.userID] = performance.now();
  };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  else video.addEventListener('playing', onFrame, { once: true });
}

function removeTile(userID) {
  room.deleteRemoteView(userID);
  const tile = document.querySelector(`.tile[data-user="${CSS.escape(userID)}"]`);
  if (tile) tile.remove();
}

function addMessage(kind, from, text) {
  const li = document.createElement('li');
  li.className = kind;
  li.dataset.from = from || '';
  if (from) li.append(Object.assign(document.createElement('span'), { className: 'from', textContent: `${label(from, names.get(from))}:` }));
  li.append(document.createTextNode(text));
  $('messages').append(li);
  // In the next frame, where layout runs anyway: scrolling now forces one in this task (up to ~0.3 s
  // measured on a busy page with five videos, right as a member's entry switches the room to the SFU).
  requestAnimationFrame(() => li.scrollIntoView({ block: 'nearest' }));
}

room.on('getPusherList', (pushers) => pushers.forEach(addTile));
room.on('pusherJoin', (p) => { addTile(p); addMessage('system', '', `${label(p.userID, p.userName)} joined`); });
room.on('pusherQuit', (p) => { removeTile(p.userID); addMessage('system', '', `${label(p.userID, p.userName)} left`); });
room.on('recvRoomTextMsg', (roomID, userID, userName, _avatar, text) => {
  names.set(userID, userName || userID);
  addMessage('text', userID, text);
});
room.on('recvRoomCustomMsg', (roomID, userID, userName, _avatar, cmd, msg) => {
  names.set(userID, userName || userID);
  addMessage('custom', userID, cmd === 'like' ? 'likes this' : `[${cmd}] ${msg}`);
});
room.on('roomClosed', () => closeRoom('The room was closed by its creator.'));
room.on('connectionStateChange', (state) => {
  $('conn').textContent = state;
  $('conn').dataset.state = state;
});
room.on('error', (code, message) => showError({ code, message }));
room.on('debugLog', (line) => demo.log.push(['debug', line]));

$('chat').onsubmit = (e) => {
  e.preventDefault();
  const text = $('chat-text').value;
  if (!text.trim()) return;
  $('chat-text').value = '';
  addMessage('text mine', me.userID, text);
  guarded(() => room.sendRoomTextMsg(text));
};

$('like').onclick = () => {
  addMessage('custom mine', me.userID, 'likes this');
  guarded(() => room.sendRoomCustomMsg('like', JSON.stringify({ from: me.userID })));
};

const toggle = (button, apply, on, off) => {
  const pressed = button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(pressed));
  button.textContent = pressed ? on : off;
  apply(pressed);
};
$('mute-mic').onclick = (e) => toggle(e.target, (m) => room.muteLocalAudio(m), 'Unmute mic', 'Mute mic');
$('mute-cam').onclick = (e) => toggle(e.target, (m) => room.muteLocalVideo(m), 'Camera on', 'Camera off');
$('switch-cam').onclick = () => guarded(() => room.switchCamera());

$('server-domain').placeholder = serverDomain();
view('login');
// The package's wasm finished loading (its module awaits it) and every handler
// above is set: only now can a click do something. Until then the buttons stay
// disabled, so an early click is never silently lost.
for (const id of ['debug-login', 'manual-login']) $(id).disabled = false;
