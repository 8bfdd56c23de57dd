// A minimal Janus WebSocket API client for the benchmarks (bench/janus-load.mjs):
// one session with keepalives, plugin handles, and `message` that resolves
// with the plugin's answer whether Janus gives it at once ("success") or
// after an "ack" (an "event" carrying the same transaction, maybe a JSEP).
// RoomService has its own typed client (server/src/media/janus.rs); this one
// only drives the load, so it stays small.
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';

const KEEPALIVE_MS = 25000;
const REPLY_TIMEOUT_MS = 20000;

/** A Janus error reply (transport or plugin level). */
export class JanusError extends Error {}

/** One Janus session over one WebSocket. */
export class JanusSession {
  /** Connects to `url` (ws://127.0.0.1:PORT), creates the session. */
  static async open(url, apiSecret) {
    const ws = new WebSocket(url, 'janus-protocol');
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const s = new JanusSession(ws, apiSecret);
    const created = await s.request({ janus: 'create' });
    s.id = created.data.id;
    s.keepalive = setInterval(() => { s.request({ janus: 'keepalive', session_id: s.id }).catch(() => {}); }, KEEPALIVE_MS);
    s.keepalive.unref();
    return s;
  }

  constructor(ws, apiSecret) {
    this.ws = ws;
    this.apiSecret = apiSecret;
    /** transaction → {resolve, reject, timer} */
    this.pending = new Map();
    ws.on('message', (data) => this.onMessage(JSON.parse(String(data))));
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new JanusError('Janus connection closed'));
      this.pending.clear();
    });
  }

  onMessage(m) {
    const p = m.transaction && this.pending.get(m.transaction);
    if (!p) return; // handle events without a transaction (webrtcup, media, slowlink): not needed here
    if (m.janus === 'ack' && !p.ackIsReply) return; // the answer follows as an event
    this.pending.delete(m.transaction);
    clearTimeout(p.timer);
    if (m.janus === 'error') return p.reject(new JanusError(`${m.error?.code}: ${m.error?.reason}`));
    const data = m.plugindata?.data;
    if (data?.error_code) return p.reject(new JanusError(`${data.error_code}: ${data.error}`));
    p.resolve(m);
  }

  /** Sends one request; resolves with Janus' answer to it. */
  request(body, { ackIsReply = body.janus === 'keepalive' } = {}) {
    const transaction = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new JanusError(`no answer to ${body.janus} ${body.body?.request ?? ''} in ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(transaction, { resolve, reject, timer, ackIsReply });
      this.ws.send(JSON.stringify({ ...body, transaction, apisecret: this.apiSecret }));
    });
  }

  /** Attaches a handle of `plugin`; its id. */
  async attach(plugin) {
    const r = await this.request({ janus: 'attach', session_id: this.id, plugin });
    return r.data.id;
  }

  /** A plugin message on `handle`: {data, jsep} of the plugin's answer. */
  async message(handle, body, jsep) {
    const r = await this.request({ janus: 'message', session_id: this.id, handle_id: handle, body, ...(jsep ? { jsep } : {}) });
    return { data: r.plugindata?.data ?? {}, jsep: r.jsep };
  }

  /** Ends the session and closes the socket. */
  async close() {
    clearInterval(this.keepalive);
    await this.request({ janus: 'destroy', session_id: this.id }).catch(() => {});
    this.ws.close();
  }
}
