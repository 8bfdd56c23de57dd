// Init script of the SFU client tests: records every RTCPeerConnection the
// page makes (window.__pcs), so a test can count what a page sends with
// getStats() without reaching into the npm package, and measures remote
// video freezes: window.__gaps.watch() follows every remote <video> of the
// demo with requestVideoFrameCallback and keeps the longest gap between two
// frames per member (the element stays; only the video track it plays swaps).
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);

  /** How many connections are open (no getStats: cheap enough to poll while measuring freezes). */
  window.__open = () => window.__pcs.filter((pc) => pc.connectionState !== 'closed' && pc.signalingState !== 'closed').length;

  /** Outbound/inbound RTP streams over every open connection, and how many connections are open. */
  window.__rtp = async () => {
    const out = { open: 0, outboundVideo: 0, outboundAudio: 0, inboundVideo: 0, degradation: [] };
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed' || pc.signalingState === 'closed') continue;
      out.open++;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.bytesSent > 0) out.outboundVideo++;
        if (s.type === 'outbound-rtp' && s.kind === 'audio' && s.bytesSent > 0) out.outboundAudio++;
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) out.inboundVideo++;
      });
      for (const t of pc.getTransceivers()) {
        if (t.direction === 'sendonly' && t.sender.track && t.sender.track.kind === 'video') {
          out.degradation.push(t.sender.getParameters().degradationPreference ?? null);
        }
      }
    }
    return out;
  };

  /**
   * Remote members whose video element renders a new frame within `ms`
   * (requestVideoFrameCallback: a frozen stream, e.g. one whose connection
   * closed, gets none, even where its currentTime still advances).
   */
  window.__fresh = (ms = 1000) => Promise.all([...document.querySelectorAll('.tile.remote video')].map((v) => new Promise((ok) => {
    const user = v.closest('.tile').dataset.user;
    const t = setTimeout(() => ok(null), ms);
    v.requestVideoFrameCallback(() => { clearTimeout(t); ok(v.videoWidth > 0 ? user : null); });
  }))).then((users) => users.filter(Boolean).sort());

  const gaps = { max: {}, last: {}, at: {}, swaps: {}, on: false };
  window.__gaps = {
    watch() {
      gaps.on = true;
      const follow = (video) => {
        if (video.__watched) return;
        video.__watched = true;
        const user = video.closest('.tile').dataset.user;
        let track = null;
        const tick = () => {
          if (!gaps.on) return;
          const now = performance.now();
          // The first frame of another video track (a swap inside the stream the element plays).
          const current = video.srcObject && video.srcObject.getVideoTracks ? video.srcObject.getVideoTracks()[0]?.id : null;
          if (track !== null && current !== track) (gaps.swaps[user] ??= []).push(`track ${Math.round(now)}`);
          track = current;
          if (gaps.last[user] !== undefined && now - gaps.last[user] > (gaps.max[user] ?? 0)) {
            gaps.max[user] = now - gaps.last[user];
            gaps.at[user] = Math.round(gaps.last[user]);
          }
          gaps.last[user] = now;
          video.requestVideoFrameCallback(tick);
        };
        video.requestVideoFrameCallback(tick);
        video.addEventListener('loadstart', () => { (gaps.swaps[user] ??= []).push(`load ${Math.round(performance.now())}`); });
      };
      document.querySelectorAll('.tile.remote video').forEach(follow);
      gaps.timer = setInterval(() => document.querySelectorAll('.tile.remote video').forEach(follow), 200);
    },
    /** Stops; the longest gap per member, counting the time since each one's last frame. */
    stop() {
      gaps.on = false;
      clearInterval(gaps.timer);
      const now = performance.now();
      for (const [u, t] of Object.entries(gaps.last)) gaps.max[u] = Math.max(gaps.max[u] ?? 0, now - t);
      return gaps.max;
    },
    /** When each member's longest gap began, when its element loaded a new srcObject and when it showed the first frame of another video track (performance.now ms). */
    detail() {
      return { at: gaps.at, swaps: gaps.swaps };
    },
  };

  /** Mean brightness (0..255) of a remote member's video, drawn on a small canvas. */
  window.__brightness = (user) => {
    const v = document.querySelector(`.tile[data-user="${CSS.escape(user)}"] video`);
    if (!v || !v.videoWidth) return -1;
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, 64, 48);
    const d = g.getImageData(0, 0, 64, 48).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i + 1] + d[i + 2]) / 3;
    return sum / (d.length / 4);
  };
})();
