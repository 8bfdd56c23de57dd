// Hand-checked types for the rtcroom browser package.

/** A room member (`PusherInfo` in the original SDKs). */
export interface PusherInfo {
  userID: string;
  userName: string;
  userAvatar: string;
  /** Signed RTMP play URL: a mini-program member's stream, or a browser member's camera as the RTMP
   * bridge carries it to mini-programs (rooms with a mini-program member); "" otherwise. */
  accelerateURL: string;
}

/** A room as listed by `getRoomList` / returned by `getPushers`. */
export interface RoomInfo {
  roomID: string;
  /** Free-form description given at creation (JSON text when an object was passed). */
  roomInfo: string;
  roomCreator: string;
  mixedPlayURL: string;
  custom: string;
  pushers: PusherInfo[];
  memberCount: number;
  /** Unix milliseconds. */
  createTime: number;
}

export interface LoginParams {
  /** RoomService base, e.g. `https://host/weapp/rtc_room`. */
  serverDomain: string;
  sdkAppID: number | string;
  /** Legacy IM account type (also accepted as `accountType`). */
  accType?: string;
  accountType?: string;
  userID: string;
  userSig: string;
  userName?: string;
  userAvatar?: string;
}

/** Every rejection is an `Error` with a stable numeric `code` (see docs/PROTOCOL.md). */
export interface RTCRoomError extends Error {
  code: number;
}

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/** Handlers by event name (`on(name, handler)`); names may also carry the `on` prefix. */
export interface RTCRoomEvents {
  getPusherList: (pushers: PusherInfo[]) => void;
  pusherJoin: (pusher: PusherInfo) => void;
  pusherQuit: (pusher: PusherInfo) => void;
  recvRoomTextMsg: (roomID: string, userID: string, userName: string, userAvatar: string, message: string, time: number) => void;
  recvRoomCustomMsg: (roomID: string, userID: string, userName: string, userAvatar: string, cmd: string, message: string, time: number) => void;
  roomClosed: (roomID: string) => void;
  debugLog: (log: string) => void;
  error: (code: number, message: string) => void;
  connectionStateChange: (state: ConnectionState) => void;
  /** A reconnect past the server's replay window: `missed` frames (room messages among them) are lost for good (code 1019). */
  resumeGap: (code: number, message: string, missed: number, lastSeq: number) => void;
  /** The room's media now goes through the SFU (rooms past the server's `sfu_threshold`); views stay. */
  roomMode: (mode: 'sfu', roomID: string) => void;
  /** The SFU of the room went away (`lost`: media stalls, messages flow) or is back (`ready`: re-published by itself). */
  sfuStateChange: (state: 'lost' | 'ready') => void;
}

/** Event names as `on()` takes them: bare (`pusherJoin`) or with the prefix (`onPusherJoin`). */
export type RTCRoomEventMap = RTCRoomEvents & {
  [K in keyof RTCRoomEvents as `on${Capitalize<K>}`]: RTCRoomEvents[K];
};

/** Tencent-style listener object (Android `IRTCRoomListener` plus `onConnectionStateChange`). */
export interface RTCRoomListener {
  onGetPusherList?: RTCRoomEvents['getPusherList'];
  onPusherJoin?: RTCRoomEvents['pusherJoin'];
  onPusherQuit?: RTCRoomEvents['pusherQuit'];
  onRecvRoomTextMsg?: RTCRoomEvents['recvRoomTextMsg'];
  onRecvRoomCustomMsg?: RTCRoomEvents['recvRoomCustomMsg'];
  onRoomClosed?: RTCRoomEvents['roomClosed'];
  onDebugLog?: RTCRoomEvents['debugLog'];
  onError?: RTCRoomEvents['error'];
  onConnectionStateChange?: RTCRoomEvents['connectionStateChange'];
  onResumeGap?: RTCRoomEvents['resumeGap'];
  onRoomMode?: RTCRoomEvents['roomMode'];
  onSfuStateChange?: RTCRoomEvents['sfuStateChange'];
}

/** A view: a <video>, a container element (a <video> is created inside), or a CSS selector. */
export type View = HTMLElement | string;

/**
 * The peer-connection glue the core drives; replace it to run media elsewhere. All five methods are
 * required: `new RTCRoom({media})` throws an Error with code -1012 naming the one that is missing.
 */
export interface MediaGlue {
  /** `offered`: the spare's offer (reported through onSpareOffer) already went to this member; use the spare, do not report it again. */
  createPeer(userID: string, offerer: boolean, iceServers: RTCIceServer[], offered?: boolean): void;
  setRemoteSdp(userID: string, kind: 'offer' | 'answer', sdp: string): void;
  addIce(userID: string, candidate: RTCIceCandidateInit): void;
  /** ICE restart (this side offers): a new offer with fresh ICE credentials, reported through onLocalSdp. */
  restartIce(userID: string): void;
  closePeer(userID: string): void;
  /** Optional hint on entering a room: make a spare connection whose offer is ready for the next offering createPeer. */
  preparePeer?(iceServers: RTCIceServer[]): void;
  /** Optional: fresh STUN/TURN servers (new TURN credentials from a `welcome`) for every existing peer connection's next ICE restart. */
  setIceServers?(iceServers: RTCIceServer[]): void;
  /** Optional: the spare's offer, once set (`subject` is ""); the next enterRoom's add_pusher carries it. */
  onSpareOffer?: ((subject: '', sdp: string) => void) | null;
  onLocalSdp: ((userID: string, kind: 'offer' | 'answer', sdp: string) => void) | null;
  onLocalIce: ((userID: string, candidate: RTCIceCandidateInit) => void) | null;
  /** Each peer connection's `iceConnectionState` (and `connectionState` "failed"): drives media recovery. */
  onPeerState: ((userID: string, state: RTCIceConnectionState) => void) | null;
  /**
   * SFU links, all or none (a glue without `openSfu` keeps every room mesh on its side): the publisher
   * (offers: report it through onSfuSdp) and the multistream subscriber (answer each offer in order;
   * `streams` maps each `mid` to its member).
   */
  openSfu?(link: SfuLink, iceServers: RTCIceServer[]): void;
  setSfuRemoteSdp?(link: SfuLink, kind: 'offer' | 'answer', sdp: string, streams: SfuStream[]): void;
  addSfuIce?(link: SfuLink, candidate: RTCIceCandidateInit): void;
  restartSfuIce?(link: SfuLink): void;
  closeSfu?(link: SfuLink): void;
  onSfuSdp?: ((link: SfuLink, kind: 'offer' | 'answer', sdp: string) => void) | null;
  onSfuIce?: ((link: SfuLink, candidate: RTCIceCandidateInit) => void) | null;
  onSfuState?: ((link: SfuLink, state: RTCIceConnectionState) => void) | null;
  /** A member's video through the subscriber decoded a frame (its mesh peer may close). */
  onSfuMedia?: ((userID: string) => void) | null;
}

export type SfuLink = 'publisher' | 'subscriber';

export interface SfuStream {
  mid: string;
  userID: string;
  kind: 'audio' | 'video';
}

export interface RTCRoomOptions {
  /** Emit `debugLog` events (default true). */
  debug?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  pingIntervalMs?: number;
  /**
   * In an SFU room, how many ICE restarts a broken SFU link gets (the waits between them doubling
   * from 5 s) before both links start afresh with new media-server handles, notified as error -1017
   * (default 3; 0: start afresh at once).
   */
  sfuIceRestarts?: number;
  /** getUserMedia constraints for the local preview. */
  constraints?: MediaStreamConstraints;
  /** Custom media glue (default: WebRtcMedia). */
  media?: MediaGlue & Partial<WebRtcMedia>;
}

export declare class WebRtcMedia implements MediaGlue {
  constructor(options?: { constraints?: MediaStreamConstraints });
  createPeer(userID: string, offerer: boolean, iceServers: RTCIceServer[], offered?: boolean): void;
  setRemoteSdp(userID: string, kind: 'offer' | 'answer', sdp: string): void;
  addIce(userID: string, candidate: RTCIceCandidateInit): void;
  restartIce(userID: string): void;
  closePeer(userID: string): void;
  preparePeer(iceServers: RTCIceServer[]): void;
  setIceServers(iceServers: RTCIceServer[]): void;
  startLocalPreview(view?: View, constraints?: MediaStreamConstraints): Promise<MediaStream>;
  stopLocalPreview(): void;
  addRemoteView(userID: string, view: View): HTMLVideoElement;
  deleteRemoteView(userID: string): void;
  muteLocalAudio(mute: boolean): void;
  muteLocalVideo(mute: boolean): void;
  switchCamera(): Promise<void>;
  remoteStream(userID: string): MediaStream | null;
  closeAll(): void;
  onLocalSdp: ((userID: string, kind: 'offer' | 'answer', sdp: string) => void) | null;
  onLocalIce: ((userID: string, candidate: RTCIceCandidateInit) => void) | null;
  onPeerState: ((userID: string, state: RTCIceConnectionState) => void) | null;
  onDebug: ((line: string) => void) | null;
  onRemoteStream: ((userID: string, stream: MediaStream) => void) | null;
}

export declare class RTCRoom {
  constructor(options?: RTCRoomOptions);
  readonly media: WebRtcMedia;
  readonly isLoggedIn: boolean;

  login(params: LoginParams): Promise<{ userID: string }>;
  logout(): Promise<void>;
  getRoomList(params?: { index?: number; count?: number }): Promise<{ rooms: RoomInfo[]; total: number }>;
  getPushers(params: { roomID: string }): Promise<RoomInfo>;
  /** Creates a room (the server assigns `roomID` when omitted) and enters it. */
  /** `privateMapKey`: the room privilege key, for servers whose app requires one (give `roomID` then). */
  createRoom(params?: { roomID?: string; roomInfo?: string | object; privateMapKey?: string }): Promise<{ roomID: string }>;
  /** Enters a room; `getPusherList` follows with the members already there. */
  enterRoom(params: { roomID: string; privateMapKey?: string }): Promise<{ roomID: string }>;
  exitRoom(): Promise<void>;
  leaveRoom(): Promise<void>;
  destroyRoom(params: { roomID: string }): Promise<void>;
  sendRoomTextMsg(text: string): Promise<void>;
  sendRoomCustomMsg(cmd: string, msg: string): Promise<void>;

  on<K extends keyof RTCRoomEventMap>(name: K, handler: RTCRoomEventMap[K]): this;
  off<K extends keyof RTCRoomEventMap>(name: K, handler?: RTCRoomEventMap[K]): this;
  setListener(listener: RTCRoomListener | null): void;

  startLocalPreview(view?: View, constraints?: MediaStreamConstraints): Promise<MediaStream>;
  stopLocalPreview(): void;
  addRemoteView(pusherInfo: PusherInfo | string, view: View): HTMLVideoElement;
  deleteRemoteView(pusherInfo: PusherInfo | string): void;
  muteLocalAudio(mute: boolean): void;
  muteLocalVideo(mute: boolean): void;
  /** Android-compatible alias of `muteLocalAudio`. */
  setMute(mute: boolean): void;
  switchCamera(): Promise<void>;
  /** Drops the room socket as a network failure would; it reconnects and resumes. */
  simulateDisconnect(): void;
  /** Leaves, logs out and frees the wasm side. */
  destroy(): Promise<void>;
}

/** Loads the wasm module (automatic on import). */
export declare function initRTCRoom(wasmUrl?: string | URL): Promise<unknown>;
export default RTCRoom;
