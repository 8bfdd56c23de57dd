// Page init script of bench/sfu_switch.mjs (loaded after tests/e2e/pc_spy.js):
// a timeline of what happens on the page around the mesh → SFU switch, without
// touching the code under test. Every entry is [absolute ms (timeOrigin + now,
// comparable across the pages of one browser and with Date.now()), label,
// detail]. Recorded once window.__probe.start() ran:
//   gap       a remote video's frames (requestVideoFrameCallback) stopped for
//             more than 150 ms: start, length, whether frames *arrived*
//             meanwhile (rVFC receiveTime of the first frame after it)
//   swap      a remote <video> loaded a new srcObject (loadstart)
//   track     a remote <video> showed the first frame of another video track
//   longtask  the main thread was busy > 50 ms (PerformanceObserver)
//   pc        RTCPeerConnection created / setRemoteDescription / close /
//             connection state; sender setParameters / replaceTrack
//   stats     every 250 ms per connection: outbound video (frames encoded /
//             sent, size, qualityLimitationReason) and inbound video (frames
//             received / decoded / dropped, freezes)
(() => {
  const events = [];
  let on = false;
  const now = () => performance.timeOrigin + performance.now();
  const mark = (label, detail) => { if (on) events.push([Math.round(now()), label, detail ?? null]); };
  let nextId = 0;
  const idOf = (pc) => (pc.__probeId ??= `pc${++nextId}`);
  /** The member a mesh connection goes to (read from the demo's package, for the timeline only). */
  const peerOf = (pc) => {
    for (const [user, peer] of window.demo?.room?.media?.peers ?? []) if (peer.pc === pc) return (pc.__probeUser = user);
    return pc.__probeUser ?? '';
  };
  const role = (pc) => {
    const dirs = pc.getTransceivers().map((t) => t.direction).join(',');
    if (/^(sendonly,?)+$/.test(dirs)) return 'publisher';
    if (/^(recvonly,?)+$/.test(dirs) || dirs === '') return 'subscriber?';
    return `mesh:${peerOf(pc)}`;
  };

  const Pc = window.RTCPeerConnection; // pc_spy's wrapper
  window.RTCPeerConnection = function (...args) {
    const t0 = performance.now();
    const pc = new Pc(...args);
    mark('pc new', `${idOf(pc)} blocked ${Math.round(performance.now() - t0)} ms`);
    pc.addEventListener('connectionstatechange', () => mark('pc state', `${idOf(pc)} ${role(pc)} ${pc.connectionState}`));
    return pc;
  };
  window.RTCPeerConnection.prototype = Pc.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Pc);
  const wrap = (proto, name, label) => {
    const orig = proto[name];
    proto[name] = function (...args) {
      const l = label(this, args);
      mark(`${l} start`);
      const r = orig.apply(this, args);
      if (r && r.then) r.then(() => mark(`${l} done`), (e) => mark(`${l} failed`, String(e)));
      return r;
    };
  };
  const P = Pc.prototype;
  wrap(P, 'setRemoteDescription', (pc, [d]) => `pc sRD(${d && d.type}) ${idOf(pc)} ${role(pc)}`);
  const close = P.close;
  P.close = function () {
    const what = `${idOf(this)} ${role(this)}`;
    const t0 = performance.now();
    close.call(this);
    mark('pc close', `${what} blocked ${Math.round(performance.now() - t0)} ms`);
  };
  // Synchronous calls that wait on WebRTC's own threads: how long each held the main thread.
  const timed = (proto, name, label) => {
    const orig = proto[name];
    proto[name] = function (...args) {
      const t0 = performance.now();
      try { return orig.apply(this, args); } finally {
        const ms = performance.now() - t0;
        if (ms >= 10) mark('sync', `${label} ${Math.round(ms)} ms`);
      }
    };
  };
  for (const m of ['addTransceiver', 'getTransceivers', 'getSenders', 'getReceivers']) timed(P, m, m);
  for (const m of ['getParameters']) timed(RTCRtpSender.prototype, m, `sender.${m}`);
  timed(RTCRtpTransceiver.prototype, 'setCodecPreferences', 'setCodecPreferences');
  const S = RTCRtpSender.prototype;
  wrap(S, 'setParameters', (s, [p]) => `sender setParameters ${s.track && s.track.kind} ${JSON.stringify((p.encodings ?? []).map((e) => e.scaleResolutionDownBy ?? 1))} ${p.degradationPreference ?? ''}`);
  wrap(S, 'replaceTrack', (s, [t]) => `sender replaceTrack ${t ? t.kind : 'null'}`);

  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (on) events.push([Math.round(performance.timeOrigin + e.startTime), 'longtask', Math.round(e.duration)]);
  }).observe({ entryTypes: ['longtask'] });

  const follow = (video) => {
    if (video.__probed) return;
    video.__probed = true;
    const user = video.closest('.tile').dataset.user;
    let last = null;
    let track = null;
    const tick = (t, meta) => {
      const abs = performance.timeOrigin + t;
      const current = video.srcObject && video.srcObject.getVideoTracks ? video.srcObject.getVideoTracks()[0]?.id : null;
      if (track !== null && current !== track) mark('track', user);
      track = current;
      if (on && last !== null && abs - last.at > 150) {
        // receiveTime: when the first frame after the gap arrived (network), vs when it was shown.
        const recv = meta.receiveTime !== undefined ? Math.round(performance.timeOrigin + meta.receiveTime) : null;
        events.push([Math.round(last.at), 'gap', { user, ms: Math.round(abs - last.at), recvLagMs: recv === null ? null : Math.round(abs - recv), frames: meta.presentedFrames - last.frames, w: meta.width }]);
      }
      last = { at: abs, frames: meta.presentedFrames };
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
    video.addEventListener('loadstart', () => mark('swap', user));
  };
  const scan = () => document.querySelectorAll('.tile.remote video').forEach(follow);
  setInterval(scan, 200);

  const poll = async () => {
    if (!on) return;
    const rows = [];
    for (const pc of window.__pcs) {
      if (pc.signalingState === 'closed') continue;
      const stats = await pc.getStats().catch(() => null);
      if (!stats) continue;
      stats.forEach((s) => {
        if (s.kind !== 'video') return;
        if (s.type === 'outbound-rtp') rows.push(`${idOf(pc)} ${role(pc)} out enc=${s.framesEncoded} sent=${s.framesSent} ${s.frameWidth}x${s.frameHeight} fps=${s.framesPerSecond ?? '-'} ql=${s.qualityLimitationReason} bwe=${Math.round((s.targetBitrate ?? 0) / 1000)}k`);
        if (s.type === 'inbound-rtp') rows.push(`${idOf(pc)} ${role(pc)} in mid=${s.mid} rcv=${s.framesReceived} dec=${s.framesDecoded} drop=${s.framesDropped} frz=${s.freezeCount} ${s.frameWidth}x${s.frameHeight}`);
      });
    }
    mark('stats', rows);
    setTimeout(poll, 250);
  };

  window.__probe = {
    start(withStats = true) { on = true; scan(); if (withStats) poll(); },
    stop() { on = false; return events; },
  };
})();
