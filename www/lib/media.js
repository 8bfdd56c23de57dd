// rtcroom WebRTC glue: the only code that touches RTCPeerConnection,
// MediaStream and <video>. The Rust core decides *what* happens (which peers
// exist, who offers, which SDP/ICE to apply); this file does it and reports
// local SDP and ICE back through onLocalSdp / onLocalIce, and each peer
// connection's ICE state through onPeerState (the core repairs a broken media
// path from it: restartIce, or a fresh createPeer).
//
// In an SFU room the core asks for two more connections instead (openSfu):
// the publisher (our tracks, sent once) and one multistream subscriber (every
// other member's tracks, mapped mid -> userID by the `streams` of each offer).
// A view is keyed by userID and only swaps its source: to a member's SFU
// stream once its video decoded a frame (reported with onSfuMedia, so the core
// closes that member's mesh peer once both ends play through the SFU), back to
// the mesh stream if the SFU goes. A remote view plays a MediaStream of its
// own whose tracks follow its source: a new srcObject would reload the
// element (hundreds of ms without a frame on a busy page), a track swapped
// inside the stream it plays does not.
//
// The switch paces its synchronous WebRTC calls (new RTCPeerConnection,
// addTransceiver, setCodecPreferences, getParameters, close: each holds the
// main thread while WebRTC's signaling thread answers, 20-250 ms on a busy
// page): one per rendered frame, so the page presents its videos between
// them (requestVideoFrameCallback runs only when the main thread is free).

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

/** Remote view -> { stream (what it plays), source (whose tracks it shows) }. */
const viewed = new WeakMap();

/**
 * Shows `source`'s tracks in a remote view without a new srcObject: they go
 * into the view's own stream (the new ones first, so it never lacks a video
 * track while the old one leaves).
 */
function showRemote(video, source) {
  let v = viewed.get(video);
  // An inactive stream (every track ended: its connection closed, e.g. the media server died) has
  // ended the element's playback; tracks added to it would not restart it: a new stream does.
  if (!v || video.srcObject !== v.stream || !v.stream.active) {
    v = { stream: new MediaStream(), source: null };
    viewed.set(video, v);
  }
  v.source = source;
  const want = source.getTracks();
  for (const t of want) if (!v.stream.getTracks().includes(t)) v.stream.addTrack(t);
  for (const t of v.stream.getTracks()) if (!want.includes(t)) v.stream.removeTrack(t);
  show(video, v.stream);
}

/** The stream whose tracks a remote view shows (null when none). */
function viewSource(video) {
  const v = viewed.get(video);
  return v && video.srcObject === v.stream ? v.source : null;
}

/**
 * Resolves in a task after the page's next rendered frame, or 100 ms after
 * the current task (a hidden page renders none; counted from the task's end,
 * which may hold a long blocking call). Yielding alone is not enough on a
 * busy page: the next step's task ran before any frame did.
 */
function afterFrame() {
  return new Promise((resolve) => {
    setTimeout(() => setTimeout(resolve, 100), 0);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

/** The frame rate of the mesh copies still sent while the SFU links come up (fake and real cameras send 30). */
const SWITCH_MESH_FPS = 15;

/**
 * Whether `sdp` lists candidate `c` already. A candidate's string carries its `ufrag`, which the
 * description's a=candidate line leaves out: compared without it (a plain `includes` never matched,
 * and every candidate went out again, each a blocking addIceCandidate on the other side).
 */
function listed(sdp, c) {
  return !!c.candidate && sdp.includes(c.candidate.replace(/ ufrag \S+/, ''));
}

/**
 * A mesh connection's configuration: one transport for audio and video from the start (every browser
 * and Janus bundle), so half the candidates to gather, send and check.
 */
function meshConfig(iceServers, pool) {
  return { iceServers: iceServers ?? [], bundlePolicy: 'max-bundle', ...(pool ? { iceCandidatePoolSize: 1 } : {}) };
}

function clearView(video) {
  video.srcObject = null;
  viewed.delete(video);
}

/** H.264 (constrained baseline, packetization-mode 1) first: SFU rooms with mini-program members take H.264 only. */
function preferH264(transceiver) {
  if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
  const codecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  const rank = (c) => {
    if (!/h264/i.test(c.mimeType)) return 2;
    const f = c.sdpFmtpLine ?? '';
    return /packetization-mode=1/.test(f) && /profile-level-id=42e01f/.test(f) ? 0 : 1;
  };
  try { transceiver.setCodecPreferences([...codecs].sort((a, b) => rank(a) - rank(b))); } catch (_) { /* keep the default order */ }
}

/**
 * Keeps the video sender's resolution fixed under congestion (frames drop instead): the RTMP bridge needs
 * a fixed size. Resolves true once set. getParameters() holds the main thread until WebRTC's signaling
 * thread answers (100-300 ms measured, once 3 s, on a busy page while the switch negotiates): called as
 * seldom as possible.
 */
async function keepResolution(sender) {
  try {
    const params = sender.getParameters();
    if (params.degradationPreference === 'maintain-resolution') return true;
    params.degradationPreference = 'maintain-resolution';
    await sender.setParameters(params);
    return true;
  } catch (_) {
    return false; // not before negotiation in some browsers: set again after the answer
  }
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
    /** Reports the spare's offer once set (the core sends it with enterRoom's add_pusher). */
    this.onSpareOffer = null;
    /** { key, pc }: a bare connection, its candidates gathered (a pool of one), for the next answering createPeer. */
    this.answerer = null;
    /** link ('publisher' | 'subscriber') -> { pc, chain } */
    this.sfu = new Map();
    /** subscriber mid -> { userID, kind }, from the latest offer's streams */
    this.mids = new Map();
    /** userID -> { audio, video, stream, live }: a member's tracks through the SFU */
    this.sfuMembers = new Map();
    this.onSfuSdp = null;
    this.onSfuIce = null;
    this.onSfuState = null;
    this.onSfuMedia = null;
    /** subscriber video track id -> { link, base, then, since }: waiting for its first decoded frame */
    this.decoding = new Map();
    this.decodePolling = false;
    /** Connections the switch no longer needs, still to close (retire). */
    this.retiring = new Set();
    /** The latest paced step (pace). */
    this.paced = Promise.resolve();
  }

  /**
   * Resolves when the caller may make its next blocking WebRTC call: a frame
   * after the previous caller's turn, whichever link or peer it was for.
   */
  pace() {
    const turn = this.paced.then(afterFrame);
    this.paced = turn;
    return turn;
  }

  /** Every connection that sends our tracks: mesh peers and the SFU publisher. */
  senders() {
    const out = [...this.peers.values()];
    const pub = this.sfu.get('publisher');
    if (pub) out.push(pub);
    return out;
  }

  log(line) {
    if (this.onDebug) this.onDebug(line);
  }

  // ---- local media ----

  async startLocalPreview(view, constraints) {
    if (!this.local) {
      this.local = await navigator.mediaDevices.getUserMedia(constraints ?? this.constraints);
      this.applyMute();
      this.answererTracksSoon();
    }
    if (view) {
      this.localVideo = videoFor(view, true);
      show(this.localVideo, this.local);
    }
    for (const peer of this.senders()) this.sendLocalTracks(peer);
    return this.local;
  }

  stopLocalPreview() {
    if (this.local) for (const t of this.local.getTracks()) t.stop();
    this.local = null;
    if (this.localVideo) this.localVideo.srcObject = null;
    this.localVideo = null;
    for (const peer of this.senders()) this.sendLocalTracks(peer);
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
    for (const peer of this.senders()) this.sendLocalTracks(peer);
    if (this.localVideo) show(this.localVideo, this.local);
  }

  /** Puts our current tracks (or none) on the peer's audio/video senders. */
  sendLocalTracks(peer) {
    if (!peer.pc) return; // an SFU link not made yet: it takes them when it is
    for (const tr of peer.pc.getTransceivers()) {
      const kind = tr.receiver.track && tr.receiver.track.kind;
      if (!kind || tr.stopped || tr.currentDirection === 'stopped') continue;
      const track = this.local ? this.local.getTracks().find((t) => t.kind === kind) ?? null : null;
      if (tr.sender.track !== track) tr.sender.replaceTrack(track).catch((e) => this.log(`replaceTrack: ${e}`));
    }
  }

  // ---- peer actions from the core ----

  /**
   * The core's hint when it is made, at login and on entering a room: a peer connection with
   * audio and video transceivers whose offer is made (and candidates gathering)
   * ahead; its offer is reported (onSpareOffer) for enterRoom's add_pusher, and
   * the next offering createPeer uses it without waiting for createOffer.
   */
  preparePeer(iceServers) {
    // Entering (no peers yet): one task later, so that the add_pusher the
    // core just issued leaves first. In a room: later, off the entry's own
    // signaling (its peers were just created).
    if (!this.peers.size) setTimeout(() => this.makeSpare(iceServers), 0);
    else setTimeout(() => this.makeSpare(iceServers), 300);
  }

  makeSpare(iceServers) {
    if (this.sfu.size) return; // an SFU room makes no more mesh peers
    const key = JSON.stringify(iceServers ?? []);
    // The answering side's, after the offering side's (whose offer add_pusher may wait for).
    setTimeout(() => this.makeAnswerer(iceServers, key), 0);
    if (this.spare && this.spare.key === key) return;
    // Other servers (login's, after the spare made at its call): a new spare
    // gathers from them; the core forgets the old one's offer.
    this.dropSpare();
    const pc = new RTCPeerConnection(meshConfig(iceServers));
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
    const spare = { key, pc, ice: [] };
    const report = () => { if (this.spare === spare && this.onSpareOffer) this.onSpareOffer('', pc.localDescription.sdp); };
    pc.onicecandidate = (e) => {
      spare.ice.push(e.candidate ? e.candidate.toJSON() : { candidate: '' });
      // Gathered while unused (made ahead, at start): the offer again, now
      // listing its candidates, so add_pusher's needs no trickle after them.
      // At each one: the UDP host candidates come within ~10 ms, the last
      // (TCP) ~120 ms later, and an entry may take the offer in between.
      if (spare.set) report();
    };
    spare.ready = pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => {
      spare.set = true;
      report();
    });
    spare.ready.catch((e) => this.log(`spare offer: ${e}`));
    this.spare = spare;
  }

  /**
   * A connection for the next member whose offer comes to us: made (~3-10 ms of main thread) and its
   * candidates gathered ahead, so the answer goes out sooner and its candidates follow it at once.
   */
  makeAnswerer(iceServers, key) {
    if (this.sfu.size || (this.answerer && this.answerer.key === key)) return;
    this.dropAnswerer();
    this.answerer = { key, pc: new RTCPeerConnection(meshConfig(iceServers, true)) };
    this.answererTracks();
  }

  /**
   * Our tracks on the answerer by addTrack, once there are any: an offer's audio and video then take
   * its senders as they are (as a connection made for the call would), with no replaceTrack after the
   * answer (a blocking call while WebRTC starts the call's transports).
   */
  answererTracks() {
    const a = this.answerer;
    if (!a || a.tracked || !this.local) return;
    a.tracked = true;
    for (const t of this.local.getTracks()) a.pc.addTrack(t, this.local);
  }

  /**
   * answererTracks, deferred while a call of ours is starting (a camera started with enterRoom): then
   * each addTrack held the main thread 8-14 ms, in the way of the answer coming in.
   */
  answererTracksSoon() {
    clearTimeout(this.answererWait);
    if (![...this.peers.values()].some((p) => p.pc.connectionState !== 'connected')) return this.answererTracks();
    this.answererWait = setTimeout(() => this.answererTracksSoon(), 300);
  }

  dropAnswerer() {
    if (this.answerer) this.answerer.pc.close();
    this.answerer = null;
  }

  /**
   * `conn` ({ pc, key }) takes new STUN/TURN servers (for its gathering from now on and its ICE
   * restarts); nothing when they are its own (setConfiguration holds the main thread while WebRTC's
   * signaling thread answers, and a welcome brings the same servers on every connect).
   */
  retarget(conn, iceServers, key, label) {
    if (conn.key === key) return;
    try {
      conn.pc.setConfiguration({ ...conn.pc.getConfiguration(), iceServers: iceServers ?? [] });
    } catch (e) {
      this.log(`setConfiguration(${label}): ${e}`);
    }
    conn.key = key;
  }

  /**
   * Fresh STUN/TURN servers (new TURN credentials came with a `welcome`): every
   * peer connection takes them for its next ICE restart, the spare too (its
   * offer may be on its way with add_pusher, so it is kept).
   */
  setIceServers(iceServers) {
    const key = JSON.stringify(iceServers ?? []);
    for (const [userID, peer] of this.peers) this.retarget(peer, iceServers, key, userID);
    if (this.spare) this.retarget(this.spare, iceServers, key, 'spare');
    if (this.answerer) this.retarget(this.answerer, iceServers, key, 'answerer');
  }

  dropSpare() {
    if (this.spare) this.spare.pc.close();
    this.spare = null;
    this.dropAnswerer();
  }

  /**
   * A peer connection to `userID`. `offered`: the spare's offer already went
   * to this member (with add_pusher): use the spare and do not report it again.
   */
  createPeer(userID, offerer, iceServers, offered = false) {
    this.closePeer(userID);
    const key = JSON.stringify(iceServers ?? []);
    if (offered && this.spare) this.retarget(this.spare, iceServers, key, 'spare');
    const spare = offerer && this.spare && (offered || this.spare.key === key) ? this.spare : null;
    const answerer = !offerer && this.answerer && this.answerer.key === key ? this.answerer : null;
    if (spare) this.spare = null;
    if (answerer) this.answerer = null;
    // The next newcomer's, made once this call has settled.
    if (spare || answerer) setTimeout(() => { if (this.peers.size) this.makeSpare(iceServers); }, 2000);
    // A connection made here starts gathering at once (a pool of one), not at its setLocalDescription:
    // an answer's candidates are ready as soon as it is set, ~50 ms sooner on a busy page.
    const pc = spare ? spare.pc : answerer ? answerer.pc
      : new RTCPeerConnection(meshConfig(iceServers, true));
    const peer = { pc, key, stream: new MediaStream(), chain: Promise.resolve() };
    this.peers.set(userID, peer);
    // A spare's candidates gathered so far go out after its offer.
    let held = spare ? spare.ice : null;
    // No end-of-candidates: a mesh peer adds nothing for it, and each frame costs both busy pages a
    // send or a receive (and its ack) in the middle of the call's start.
    const sendIce = (c) => { if (c.candidate && this.onLocalIce) this.onLocalIce(userID, c); };
    pc.onicecandidate = (e) => {
      const c = e.candidate ? e.candidate.toJSON() : { candidate: '' };
      if (held) held.push(c); else sendIce(c);
    };
    pc.ontrack = (e) => {
      if (!peer.stream.getTracks().includes(e.track)) peer.stream.addTrack(e.track);
      // The view (a player made for it, a few ms of main thread) in a task of its own: the
      // description's next step (our answer, or the ICE checks after it) does not wait for it, and
      // the first frame is tens of ms away.
      if (peer.showing) return;
      peer.showing = setTimeout(() => {
        peer.showing = 0;
        if (this.peers.get(userID) !== peer) return;
        const video = this.views.get(userID);
        if (video && !this.sfuLive(userID)) showRemote(video, peer.stream);
        if (this.onRemoteStream) this.onRemoteStream(userID, peer.stream);
      }, 0);
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
      const sendOffer = () => {
        // A spare's description already lists the candidates gathered so far
        // (non-trickle for those): only the others follow it.
        const sdp = pc.localDescription.sdp;
        if (this.onLocalSdp && !(offered && spare)) this.onLocalSdp(userID, 'offer', sdp);
        if (held) for (const c of held.splice(0)) if (!listed(sdp, c)) sendIce(c);
        held = null;
      };
      // A spare whose offer is set sends it now, not a few microtasks later;
      // our tracks go on its senders after that (replaceTrack needs no new
      // offer), off the offer's way (~2.5 ms on this machine).
      if (spare && spare.set) {
        sendOffer();
        this.sendLocalTracks(peer);
      } else {
        this.sendLocalTracks(peer);
        this.queue(userID, async () => {
          if (spare) {
            await spare.ready;
            sendOffer();
          } else await this.sendAndSet(userID, pc, await pc.createOffer());
        });
      }
    }
  }

  setRemoteSdp(userID, kind, sdp) {
    this.queue(userID, async (peer) => {
      await peer.pc.setRemoteDescription({ type: kind, sdp });
      if (kind !== 'offer') return;
      // Only where it differs (a connection made for the offer): setting it is a blocking call, and
      // the answerer's transceivers (our tracks added) already send.
      for (const tr of peer.pc.getTransceivers()) if (tr.direction !== 'sendrecv') tr.direction = 'sendrecv';
      // The answer first, our tracks once it is set (replaceTrack needs no new
      // offer): the other side and our ICE checks do not wait for them.
      await this.sendAndSet(userID, peer.pc, await peer.pc.createAnswer());
      this.sendLocalTracks(peer);
    });
  }

  /**
   * Sends a mesh peer's new description at once and applies it meanwhile, so the
   * other side works on it while our setLocalDescription runs (~8 ms an answer on
   * this machine). Candidates still follow it: they are gathered only once it is
   * set. If it cannot be set, the peer is reported failed and recovery takes over.
   */
  async sendAndSet(userID, pc, description) {
    if (this.onLocalSdp) this.onLocalSdp(userID, description.type, description.sdp);
    try {
      await pc.setLocalDescription(description);
    } catch (e) {
      const peer = this.peers.get(userID);
      if (peer && peer.pc === pc && this.onPeerState) this.onPeerState(userID, 'failed');
      throw e;
    }
  }

  /** ICE restart on the same connection (we offer): a new offer with fresh ICE credentials. */
  restartIce(userID) {
    this.queue(userID, async (peer) => {
      if (peer.pc.restartIce) peer.pc.restartIce();
      await this.sendAndSet(userID, peer.pc, await peer.pc.createOffer({ iceRestart: true }));
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
    // Through the switch, closes come close together (both ends released, or the fallback for every
    // member at once): they are paced (retire). A mesh room closes at once (createPeer's replacement).
    if (this.sfu.size) this.retire(peer.pc);
    else peer.pc.close();
    const video = this.views.get(userID);
    if (video && viewSource(video) === peer.stream) clearView(video);
  }

  /**
   * Closes `pc` at its turn (pace): close() holds the main thread while WebRTC
   * tears the connection down. Its senders stop at once (replaceTrack does not
   * block), so it encodes nothing meanwhile.
   */
  retire(pc) {
    for (const s of pc.getSenders()) if (s.track) s.replaceTrack(null).catch(() => {});
    this.retiring.add(pc);
    this.pace().then(() => {
      if (this.retiring.delete(pc)) pc.close();
    });
  }

  /** Closes every retired connection now (leaving). */
  flushRetired() {
    for (const pc of this.retiring) pc.close();
    this.retiring.clear();
  }

  /** Runs peer operations one after another (remote SDP before its candidates). */
  queue(userID, op) {
    this.chain(this.peers, userID, op, `peer ${userID}`);
  }

  /** Chains `op` on the connection `key` of `map`, skipped if that connection was replaced meanwhile. */
  chain(map, key, op, label) {
    const conn = map.get(key);
    if (!conn) return;
    conn.chain = conn.chain
      .then(() => (map.get(key) === conn ? op(conn) : undefined))
      .catch((e) => this.log(`${label}: ${e && e.message ? e.message : e}`));
  }

  // ---- views ----

  addRemoteView(userID, view) {
    const video = videoFor(view, false);
    this.views.set(userID, video);
    const stream = this.remoteStream(userID);
    if (stream && stream.getTracks().length) showRemote(video, stream);
    return video;
  }

  deleteRemoteView(userID) {
    const video = this.views.get(userID);
    if (video) clearView(video);
    this.views.delete(userID);
  }

  /** Remote stream of a member, if media arrived: through the SFU once it plays, else the mesh peer's. */
  remoteStream(userID) {
    const m = this.sfuMembers.get(userID);
    if (m && m.live) return m.stream;
    const peer = this.peers.get(userID);
    return peer ? peer.stream : null;
  }

  // ---- SFU links from the core ----

  sfuLive(userID) {
    const m = this.sfuMembers.get(userID);
    return !!(m && m.live);
  }

  /**
   * Opens an SFU link. Its connection is made later and set up one blocking
   * call per turn (sfuSetup, pace); whatever the core asks of the link
   * meanwhile waits in its chain. A mesh room's spare connection (its audio
   * and video transceivers made, its candidates gathered) becomes the
   * publisher: three blocking calls fewer at the switch, and no close.
   */
  openSfu(link, iceServers) {
    this.closeSfu(link);
    if (this.answerer) this.retire(this.answerer.pc);
    this.answerer = null;
    let spare = this.spare;
    this.spare = null;
    if (spare && (link !== 'publisher' || spare.key !== JSON.stringify(iceServers ?? []))) {
      this.retire(spare.pc);
      spare = null;
    }
    const l = { pc: null, chain: Promise.resolve(), closed: false };
    this.sfu.set(link, l);
    this.sfuQueue(link, () => this.sfuSetup(link, l, iceServers, spare));
  }

  /** Makes `l`'s connection (or takes `spare`'s) and, for the publisher, its offer: each blocking step at its own turn. */
  async sfuSetup(link, l, iceServers, spare) {
    const gone = () => l.closed || this.sfu.get(link) !== l;
    // Waits for the next step's turn; false once the link was closed or replaced meanwhile.
    const next = async () => { await this.pace(); return !gone(); };
    if (spare) {
      const ready = await spare.ready.then(() => true, () => false);
      if (!ready || gone()) {
        this.retire(spare.pc);
        spare = null;
      }
    }
    if (!(await next())) return spare && this.retire(spare.pc);
    const pc = spare ? spare.pc : new RTCPeerConnection({ iceServers: iceServers ?? [] });
    l.pc = pc;
    pc.onicecandidate = (e) => {
      if (!gone() && this.onSfuIce) this.onSfuIce(link, e.candidate ? e.candidate.toJSON() : { candidate: '' });
    };
    const report = (state) => { if (!gone() && this.onSfuState) this.onSfuState(link, state); };
    pc.oniceconnectionstatechange = () => report(pc.iceConnectionState);
    pc.onconnectionstatechange = () => {
      this.log(`sfu ${link}: ${pc.connectionState}`);
      if (pc.connectionState === 'failed') report('failed');
    };
    if (link !== 'publisher') {
      pc.ontrack = (e) => this.sfuTrack(e);
      return;
    }
    let video;
    if (spare) {
      // Its offer (sendrecv) is still pending: the publisher's replaces it (allowed in have-local-offer).
      for (const t of pc.getTransceivers()) t.direction = 'sendonly';
      video = pc.getTransceivers().find((t) => t.receiver.track.kind === 'video');
    } else {
      if (!(await next())) return;
      pc.addTransceiver('audio', { direction: 'sendonly' });
      if (!(await next())) return;
      video = pc.addTransceiver('video', { direction: 'sendonly' });
    }
    if (!(await next())) return;
    preferH264(video);
    this.sendLocalTracks(l);
    if (!(await next())) return;
    l.resolutionKept = await keepResolution(video.sender);
    if (!(await next())) return;
    await pc.setLocalDescription(await pc.createOffer());
    if (gone()) return;
    const sdp = pc.localDescription.sdp;
    if (this.onSfuSdp) this.onSfuSdp(link, 'offer', sdp);
    // The spare's candidates gathered before: those its description does not list follow it.
    if (spare && this.onSfuIce) for (const c of spare.ice) if (!listed(sdp, c)) this.onSfuIce(link, c);
    // Publishing: the mesh copies still sent during the switch go at half size and frame rate from
    // now on, so no page is starved encoding and decoding them while the SFU video starts. Not
    // awaited: the link's chain (the answer) does not wait for it.
    this.shrinkMesh().catch((e) => this.log(`mesh senders: ${e}`));
  }

  setSfuRemoteSdp(link, kind, sdp, streams) {
    this.sfuQueue(link, async (l) => {
      // Before the description: its ontrack events look their mid up here.
      if (link === 'subscriber') this.mids = new Map((streams ?? []).map((s) => [s.mid, s]));
      await l.pc.setRemoteDescription({ type: kind, sdp });
      if (kind !== 'offer') {
        if (l.resolutionKept) return;
        const video = l.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video');
        if (video) l.resolutionKept = await keepResolution(video.sender);
        return;
      }
      await l.pc.setLocalDescription(await l.pc.createAnswer());
      if (this.onSfuSdp) this.onSfuSdp(link, 'answer', l.pc.localDescription.sdp);
      // Members no longer carried (they left) lose their SFU entry.
      const carried = new Set([...this.mids.values()].map((s) => s.userID));
      for (const id of [...this.sfuMembers.keys()]) if (!carried.has(id)) this.sfuMembers.delete(id);
    });
  }

  addSfuIce(link, candidate) {
    if (!candidate || !candidate.candidate) return;
    this.sfuQueue(link, (l) => l.pc.addIceCandidate(candidate));
  }

  /** ICE restart of the publisher: a new offer with fresh ICE credentials. */
  restartSfuIce(link) {
    this.sfuQueue(link, async (l) => {
      if (l.pc.restartIce) l.pc.restartIce();
      await l.pc.setLocalDescription(await l.pc.createOffer({ iceRestart: true }));
      if (this.onSfuSdp) this.onSfuSdp(link, 'offer', l.pc.localDescription.sdp);
    });
  }

  closeSfu(link) {
    const l = this.sfu.get(link);
    if (!l) return;
    this.sfu.delete(link);
    l.closed = true;
    if (l.pc) l.pc.close();
    if (link !== 'subscriber') return;
    // Views go back to a mesh stream where one still plays (a switch under way).
    for (const [userID, m] of this.sfuMembers) {
      const video = this.views.get(userID);
      const peer = this.peers.get(userID);
      if (video && viewSource(video) === m.stream && peer && peer.stream.getTracks().length) showRemote(video, peer.stream);
    }
    this.sfuMembers.clear();
    this.mids = new Map();
  }

  /**
   * Halves the mesh peers' video in size and frame rate (a quarter of the pixels to encode, and to
   * decode on the other end, at half the rate), one sender per turn (pace): getParameters blocks like the
   * calls above.
   */
  async shrinkMesh() {
    const senders = [...this.peers.values()].flatMap((peer) => peer.pc.getSenders());
    for (const sender of senders) {
      if (!sender.track || sender.track.kind !== 'video') continue;
      await this.pace();
      if (!sender.track || sender.transport?.state === 'closed') continue; // retired meanwhile
      const params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) continue;
      for (const e of params.encodings) Object.assign(e, { scaleResolutionDownBy: 2, maxFramerate: SWITCH_MESH_FPS });
      sender.setParameters(params).catch((e) => this.log(`mesh sender: ${e}`));
    }
  }

  sfuQueue(link, op) {
    this.chain(this.sfu, link, op, `sfu ${link}`);
  }

  /** A subscriber track: file it under its member; a video goes live on its first decoded frame. */
  sfuTrack(e) {
    const info = this.mids.get(e.transceiver.mid);
    if (!info) return this.log(`sfu track on unknown mid ${e.transceiver.mid}`);
    let m = this.sfuMembers.get(info.userID);
    if (!m) {
      m = { audio: null, video: null, stream: null, live: false };
      this.sfuMembers.set(info.userID, m);
    }
    m[info.kind] = e.track;
    if (info.kind === 'video') {
      m.live = false;
      this.whenDecoding(e.track, () => {
        if (this.sfuMembers.get(info.userID) !== m || m.video !== e.track) return;
        m.live = true;
        this.sfuShow(info.userID, m);
        if (this.onSfuMedia) this.onSfuMedia(info.userID);
      });
    } else if (m.live) {
      this.sfuShow(info.userID, m);
    }
  }

  sfuShow(userID, m) {
    m.stream = new MediaStream([m.audio, m.video].filter(Boolean));
    const video = this.views.get(userID);
    if (video) showRemote(video, m.stream);
    if (this.onRemoteStream) this.onRemoteStream(userID, m.stream);
  }

  /**
   * Calls `then` once the subscriber's `track` decodes a frame after now.
   * Every track waiting shares one getStats() of the subscriber per poll (a
   * poll per track every 50 ms loaded the page just while the switch needs it).
   */
  whenDecoding(track, then) {
    this.decoding.set(track.id, { link: this.sfu.get('subscriber'), base: null, then, since: Date.now() });
    if (!this.decodePolling) this.pollDecoding();
  }

  async pollDecoding() {
    const l = this.sfu.get('subscriber');
    if (!l || !l.pc || !this.decoding.size) {
      this.decoding.clear();
      this.decodePolling = false;
      return;
    }
    this.decodePolling = true;
    const decoded = new Map();
    try {
      (await l.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') decoded.set(s.trackIdentifier, s.framesDecoded ?? 0);
      });
    } catch (_) { /* closed: the entries go with it below */ }
    const now = Date.now();
    for (const [id, w] of [...this.decoding]) {
      const n = decoded.get(id) ?? 0;
      if (w.link !== this.sfu.get('subscriber') || now - w.since > 60000) this.decoding.delete(id);
      else if (w.link !== l) continue; // registered on a newer subscriber meanwhile: next poll
      else if (w.base === null) w.base = n;
      else if (n > w.base) {
        this.decoding.delete(id);
        w.then();
      }
    }
    setTimeout(() => this.pollDecoding(), 100);
  }

  closeAll() {
    this.closeSfu('publisher');
    this.closeSfu('subscriber');
    this.dropSpare();
    for (const id of [...this.peers.keys()]) this.closePeer(id);
    this.flushRetired();
  }
}
