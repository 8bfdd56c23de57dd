// The receiving side of bench/janus-load.mjs, run in a Chromium page (one
// page per room): subscriber RTCPeerConnections that take Janus' offer and
// count what arrives without decoding it. Each received track goes through
// an encoded transform (encodedInsertableStreams) whose frames are counted
// and then dropped, so no decoder, jitter-buffer playout or rendering runs:
// the page pays for ICE, DTLS, SRTP and RTP depacketizing only. The RTP
// figures (packets received and lost) come from getStats().
(() => {
  /** id → {pc, frames: {mid: {kind, n}}} */
  const subs = new Map();

  /** Answers Janus' `offer` for subscriber `id`; resolves with the answer SDP, ICE gathered. */
  async function subscribe(id, offer) {
    const pc = new RTCPeerConnection({ encodedInsertableStreams: true });
    const frames = {};
    subs.set(id, { pc, frames });
    pc.ontrack = (e) => {
      const mid = e.transceiver.mid;
      const counter = (frames[mid] = { kind: e.track.kind, n: 0 });
      const reader = e.receiver.createEncodedStreams().readable.getReader();
      (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return;
          counter.n += 1;
        }
      })();
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    // No trickle: the answer carries Chromium's (loopback and veth) candidates.
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
        setTimeout(resolve, 5000);
      });
    }
    return pc.localDescription.sdp;
  }

  /** Per subscriber and received stream: frames counted so far and the RTP counters. */
  async function snapshot() {
    const out = {};
    for (const [id, { pc, frames }] of subs) {
      const streams = {};
      (await pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        streams[s.mid] = { kind: s.kind, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, frames: frames[s.mid]?.n ?? 0 };
      });
      out[id] = { state: pc.connectionState, streams };
    }
    return out;
  }

  window.janusLoad = { subscribe, snapshot };
})();
