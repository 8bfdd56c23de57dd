// rtcroom WebRTC glue: the only code that touches RTCPeerConnection,
// MediaStream and <video>. The Rust core decides *what* happens (which peers
// exist, who offers, which SDP/ICE to apply); this file does it and reports
// local SDP and ICE back through onLocalSdp / onLocalIce, and each peer
// connection's ICE state through onPeerState (the core repairs a broken media
// path from it: restartIce, or a fresh createPeer).

/** Resolves a view argument (element, video element or CSS selector) to a <video>. */
function videoFor(view, muted) {
  let el = typeof view === 'string' ? document.querySelector(view) : view;
  if (!el) throw Object.assign(new Error('view not found'), { code: -1012 });
  if (el.tagName !== 'VIDEO') {
    let v = el.querySelector(':scope > video');
    if (!v) {
      v = document.createElement('video');
      v.style.width = '100%';
      v.style.height = '100%';
      v.style.objectFit = 'cover';
      el.appendChild(v);
    }
    el = v;
  }
  el.autoplay = true;
  el.playsInline = true;
  el.muted = muted;
  return el;
}

function show(video, stream) {
  if (video.srcObject !== stream) video.srcObject = stream;
  const p = video.play();
  if (p && p.catch) p.catch(() => {}); // autoplay may wait for a gesture
}

export class WebRtcMedia {
  constructor(options = {}) {
    this.constraints = options.constraints ?? { audio: true, video: { width: 640, height: 480 } };
    /** userID -> { pc, stream, chain } */
    this.peers = new Map();
    /** userID -> <video>; kept across peer re-creation until deleteRemoteView. */
    this.views = new Map();
    this.local = null;
    this.localVideo = null;
    this.facingMode = 'user';
    this.audioMuted = false;
    this.videoMuted = false;
    this.onLocalSdp = null;
    this.onLocalIce = null;
    this.onPeerState = null;
    this.onDebug = null;
    this.onRemoteStream = null;
    /** A peer connection with its offer made, for the next offering createPeer (preparePeer). */
    this.spare = null;
  }

  log(line) {
    if (this.onDebug) this.onDebug(line);
  }

  // ---- local media ----

  async startLocalPreview(view, constraints) {
    if (!this.local) {
      this.local = await navigator.mediaDevices.getUserMedia(constraints ?? this.constraints);
      this.applyMute();
    }
    if (view) {
      this.localVideo = videoFor(view, true);
      show(this.localVideo, this.local);
    }
    for (const [, peer] of this.peers) this.sendLocalTracks(peer);
    return this.local;
  }

  stopLocalPreview() {
    if (this.local) for (const t of this.local.getTracks()) t.stop();
    this.local = null;
    if (this.localVideo) this.localVideo.srcObject = null;
    this.localVideo = null;
    for (const [, peer] of this.peers) this.sendLocalTracks(peer);
  }

  applyMute() {
    if (!this.local) return;
    for (const t of this.local.getAudioTracks()) t.enabled = !this.audioMuted;
    for (const t of this.local.getVideoTracks()) t.enabled = !this.videoMuted;
  }

  muteLocalAudio(mute) {
    this.audioMuted = !!mute;
    this.applyMute();
  }

  muteLocalVideo(mute) {
    this.videoMuted = !!mute;
    this.applyMute();
  }

  async switchCamera() {
    if (!this.local) return;
    this.facingMode = this.facingMode === 'user' ? 'environment' : 'user';
    const video = { ...(typeof this.constraints.video === 'object' ? this.constraints.video : {}), facingMode: this.facingMode };
    const fresh = await navigator.mediaDevices.getUserMedia({ video });
    const [track] = fresh.getVideoTracks();
    for (const old of this.local.getVideoTracks()) {
      this.local.removeTrack(old);
      old.stop();
    }
    this.local.addTrack(track);
    this.applyMute();
    for (const [, peer] of this.peers) this.sendLocalTracks(peer);
    if (this.localVideo) show(this.localVideo, this.local);
  }

  /** Puts our current tracks (or none) on the peer's audio/video senders. */
  sendLocalTracks(peer) {
    for (const tr of peer.pc.getTransceivers()) {
      const kind = tr.receiver.track && tr.receiver.track.kind;
      if (!kind || tr.stopped || tr.currentDirection === 'stopped') continue;
      const track = this.local ? this.local.getTracks().find((t) => t.kind === kind) ?? null : null;
      if (tr.sender.track !== track) tr.sender.replaceTrack(track).catch((e) => this.log(`replaceTrack: ${e}`));
    }
  }

  // ---- peer actions from the core ----

  /**
   * The core's hint on entering a room: a peer connection with audio and video
   * transceivers whose offer is made (and candidates gathering) ahead, so the
   * next offering createPeer sends its offer without waiting for createOffer.
   */
  preparePeer(iceServers) {
    // Entering (no peers yet): one task later, so that the add_pusher the
    // core just issued leaves first. In a room: later, off the entry's own
    // signaling (its peers were just created).
    if (!this.peers.size) setTimeout(() => this.makeSpare(iceServers), 0);
    else setTimeout(() => this.makeSpare(iceServers), 300);
  }

  makeSpare(iceServers) {
    const key = JSON.stringify(iceServers ?? []);
    if (this.spare && this.spare.key === key) return;
    this.dropSpare();
    const pc = new RTCPeerConnection({ iceServers: iceServers ?? [] });
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
    const spare = { key, pc, ice: [] };
    pc.onicecandidate = (e) => spare.ice.push(e.candidate ? e.candidate.toJSON() : { candidate: '' });
    spare.ready = pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => { spare.set = true; });
    spare.ready.catch((e) => this.log(`spare offer: ${e}`));
    this.spare = spare;
  }

  dropSpare() {
    if (this.spare) this.spare.pc.close();
    this.spare = null;
  }

  createPeer(userID, offerer, iceServers) {
    this.closePeer(userID);
    const key = JSON.stringify(iceServers ?? []);
    const spare = offerer && this.spare && this.spare.key === key ? this.spare : null;
    if (spare) {
      this.spare = null;
      // The next newcomer's, made once this call has settled.
      setTimeout(() => { if (this.peers.size) this.makeSpare(iceServers); }, 2000);
    }
    const pc = spare ? spare.pc : new RTCPeerConnection({ iceServers: iceServers ?? [] });
    const peer = { pc, stream: new MediaStream(), chain: Promise.resolve() };
    this.peers.set(userID, peer);
    // A spare's candidates gathered so far go out after its offer.
    let held = spare ? spare.ice : null;
    const sendIce = (c) => { if (this.onLocalIce) this.onLocalIce(userID, c); };
    pc.onicecandidate = (e) => {
      const c = e.candidate ? e.candidate.toJSON() : { candidate: '' };
      if (held) held.push(c); else sendIce(c);
    };
    pc.ontrack = (e) => {
      if (!peer.stream.getTracks().includes(e.track)) peer.stream.addTrack(e.track);
      const video = this.views.get(userID);
      if (video) show(video, peer.stream);
      if (this.onRemoteStream) this.onRemoteStream(userID, peer.stream);
    };
    const report = (state) => {
      if (this.peers.get(userID) === peer && this.onPeerState) this.onPeerState(userID, state);
    };
    pc.oniceconnectionstatechange = () => report(pc.iceConnectionState);
    pc.onconnectionstatechange = () => {
      this.log(`peer ${userID}: ${pc.connectionState}`);
      if (pc.connectionState === 'failed') report('failed'); // e.g. DTLS failed over a working ICE pair
    };
    if (offerer) {
      if (!spare) {
        pc.addTransceiver('audio', { direction: 'sendrecv' });
        pc.addTransceiver('video', { direction: 'sendrecv' });
      }
      this.sendLocalTracks(peer);
      const sendOffer = () => {
        // A spare's description already lists the candidates gathered so far
        // (non-trickle for those): only the others follow it.
        const sdp = pc.localDescription.sdp;
        if (this.onLocalSdp) this.onLocalSdp(userID, 'offer', sdp);
        if (held) for (const c of held.splice(0)) if (!c.candidate || !sdp.includes(c.candidate)) sendIce(c);
        held = null;
      };
      // A spare whose offer is set sends it now, not a few microtasks later.
      if (spare && spare.set) sendOffer();
      else {
        this.queue(userID, async () => {
          if (spare) await spare.ready;
          else await pc.setLocalDescription(await pc.createOffer());
          sendOffer();
        });
      }
    }
  }

  setRemoteSdp(userID, kind, sdp) {
    this.queue(userID, async (peer) => {
      await peer.pc.setRemoteDescription({ type: kind, sdp });
      if (kind !== 'offer') return;
      for (const tr of peer.pc.getTransceivers()) tr.direction = 'sendrecv';
      this.sendLocalTracks(peer);
      await peer.pc.setLocalDescription(await peer.pc.createAnswer());
      if (this.onLocalSdp) this.onLocalSdp(userID, 'answer', peer.pc.localDescription.sdp);
    });
  }

  /** ICE restart on the same connection (we offer): a new offer with fresh ICE credentials. */
  restartIce(userID) {
    this.queue(userID, async (peer) => {
      if (peer.pc.restartIce) peer.pc.restartIce();
      await peer.pc.setLocalDescription(await peer.pc.createOffer({ iceRestart: true }));
      if (this.onLocalSdp) this.onLocalSdp(userID, 'offer', peer.pc.localDescription.sdp);
    });
  }

  addIce(userID, candidate) {
    if (!candidate || !candidate.candidate) return; // end of candidates
    this.queue(userID, (peer) => peer.pc.addIceCandidate(candidate));
  }

  closePeer(userID) {
    const peer = this.peers.get(userID);
    if (!peer) return;
    this.peers.delete(userID);
    peer.pc.close();
    const video = this.views.get(userID);
    if (video && video.srcObject === peer.stream) video.srcObject = null;
  }

  /** Runs peer operations one after another (remote SDP before its candidates). */
  queue(userID, op) {
    const peer = this.peers.get(userID);
    if (!peer) return;
    peer.chain = peer.chain
      .then(() => (this.peers.get(userID) === peer ? op(peer) : undefined))
      .catch((e) => this.log(`peer ${userID}: ${e && e.message ? e.message : e}`));
  }

  // ---- views ----

  addRemoteView(userID, view) {
    const video = videoFor(view, false);
    this.views.set(userID, video);
    const peer = this.peers.get(userID);
    if (peer && peer.stream.getTracks().length) show(video, peer.stream);
    return video;
  }

  deleteRemoteView(userID) {
    const video = this.views.get(userID);
    if (video) video.srcObject = null;
    this.views.delete(userID);
  }

  /** Remote stream of a member, if media arrived. */
  remoteStream(userID) {
    const peer = this.peers.get(userID);
    return peer ? peer.stream : null;
  }

  closeAll() {
    this.dropSpare();
    for (const id of [...this.peers.keys()]) this.closePeer(id);
  }
}
