// Page init script for bench/browser.mjs: timestamps what a join does on the
// page — getUserMedia, fetch (by command), WebSocket frames (by type),
// RTCPeerConnection calls and state changes — without touching the code under
// test. Each mark is [absolute ms (timeOrigin + now, comparable across pages
// of one browser), label]; only a label's first occurrence is kept.
(() => {
  const marks = [];
  const seen = new Set();
  const mark = (label) => {
    if (seen.has(label)) return;
    seen.add(label);
    marks.push([performance.timeOrigin + performance.now(), label]);
  };
  window.__timeline = { marks, mark, reset: () => { marks.length = 0; seen.clear(); } };
  const wrapAsync = (obj, name, label) => {
    const orig = obj[name];
    if (!orig) return;
    obj[name] = function (...args) {
      const l = typeof label === 'function' ? label(this, args) : label;
      mark(`${l} start`);
      const p = orig.apply(this, args);
      if (p && p.then) p.then(() => mark(`${l} done`), () => mark(`${l} failed`));
      return p;
    };
  };
  if (navigator.mediaDevices) wrapAsync(navigator.mediaDevices, 'getUserMedia', 'getUserMedia');
  wrapAsync(window, 'fetch', (_, [url]) => `http ${String(url && url.url ? url.url : url).split('?')[0].split('/').pop()}`);
  const typeOf = (text) => {
    try { return JSON.parse(text).type; } catch { return '?'; }
  };
  const OrigWs = window.WebSocket;
  window.WebSocket = class extends OrigWs {
    constructor(...args) {
      super(...args);
      mark('ws connect');
      this.addEventListener('open', () => mark('ws open'));
      this.addEventListener('message', (e) => mark(`ws recv ${typeOf(e.data)}`));
    }
    send(data) {
      mark(`ws send ${typeOf(data)}`);
      return super.send(data);
    }
  };
  const Pc = window.RTCPeerConnection;
  if (Pc) {
    for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription', 'addIceCandidate']) {
      wrapAsync(Pc.prototype, m, (pc, args) => (m === 'setRemoteDescription' || m === 'setLocalDescription') && args[0] && args[0].type ? `${m}(${args[0].type})` : m);
    }
    window.RTCPeerConnection = class extends Pc {
      constructor(...args) {
        super(...args);
        mark('new RTCPeerConnection');
        this.addEventListener('icecandidate', (e) => e.candidate && mark('local candidate'));
        this.addEventListener('iceconnectionstatechange', () => mark(`ice ${this.iceConnectionState}`));
        this.addEventListener('connectionstatechange', () => mark(`pc ${this.connectionState}`));
        this.addEventListener('track', (e) => {
          mark('track');
          // unmute: the first RTP packet of that track arrived.
          e.track.addEventListener('unmute', () => mark(`${e.track.kind} unmute`), { once: true });
        });
      }
    };
  }
})();
