// Rewrites the generated tables of docs/BENCHMARKS.md from a results
// directory (scripts/bench writes target/bench/results/). Each table sits
// between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the prose around
// them is left alone. Figures are medians over the runs; every run is listed.
//   node bench/report.mjs <results-dir> <doc.md>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { median } from './stats.mjs';

const [dir, docPath] = process.argv.slice(2);
const load = (f) => JSON.parse(readFileSync(pathJoin(dir, f), 'utf8'));
const files = readdirSync(dir);
const runsOf = (prefix) => files.filter((f) => new RegExp(`^${prefix}-\\d+\\.json$`).test(f)).sort().map(load);

const get = (o, path) => path.split('.').reduce((v, k) => (v == null ? v : v[k]), o);
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const int = (x) => fmt(x, 0);
const kb = (bytes) => fmt(bytes / 1000, 1);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, 2)}×` : 'n/a');
/** Median of a field over runs, and the runs themselves. */
const m = (runs, path) => median(runs.map((r) => get(r, path)));
const each = (runs, path, f = (x) => fmt(x)) => runs.map((r) => f(get(r, path))).join(' / ');
const table = (head, rows) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
const verdict = (ok) => (ok ? '**met**' : '**missed**');

const sections = {};
const summary = [];

// ---- machine ----
if (files.includes('machine-start.json')) {
  const start = load('machine-start.json');
  const end = files.includes('machine-end.json') ? load('machine-end.json') : start;
  sections.machine = table(['', ''], [
    ['CPU', `${start.cpu}, ${start.cores} cores`],
    ['memory', `${start.mem_gib} GiB`],
    ['kernel', start.kernel],
    ['open-file limit (hard)', start.fd_hard_limit],
    ['load average (1/5/15 min) at start → end', `${start.loadavg} → ${end.loadavg}`],
    ['node / Chromium', `${start.node} / ${start.chromium}`],
    ['run', `${start.date} → ${end.date}, commit ${start.commit}`],
  ]);
}

// ---- members held ----
const members = runsOf('members');
if (members.length) {
  const target = members[0].target;
  const reached = m(members, 'reached');
  const perMember = m(members, 'rss_per_member_bytes');
  const cpuWs = m(members, 'idle_ws.server_cpu_pct');
  const cpuHttp = m(members, 'idle_http.server_cpu_pct');
  const base = m(members, 'rss_before_kib') * 1024;
  sections.members = table(['', 'median', 'runs', 'target'], [
    ['members held (logged in, in a room of 4, WebSocket open)', int(reached), each(members, 'reached', int), `≥ ${int(target)}`],
    ['… attempted (open-file limit of either process)', int(m(members, 'attempted')), each(members, 'fd_limit_server', int), ''],
    ['ramp (joins/s reached while ramping)', fmt(m(members, 'joins_per_sec')), each(members, 'joins_per_sec'), ''],
    ['server RSS before → after (MiB)', `${fmt(m(members, 'rss_before_kib') / 1024)} → ${fmt(m(members, 'rss_after_kib') / 1024)}`, each(members, 'rss_after_kib', (x) => fmt(x / 1024)), ''],
    ['server RSS per member (KB)', kb(perMember), each(members, 'rss_per_member_bytes', kb), '≤ 20'],
    [`server RSS at ${int(target)} members, extrapolated (MiB)`, fmt((base + perMember * target) / 1048576), '', ''],
    ['server CPU idle, WebSocket keep-alive (% of one core)', fmt(cpuWs), each(members, 'idle_ws.server_cpu_pct'), ''],
    ['server CPU idle, + `pusher_heartbeat` every 5 s (% of one core)', fmt(cpuHttp), each(members, 'idle_http.server_cpu_pct'), ''],
    ['… heartbeats/s, p99 latency (ms)', `${int(m(members, 'idle_http.heartbeats_per_sec'))}, ${fmt(m(members, 'idle_http.heartbeat_latency.p99_ms'), 2)}`, '', ''],
    ['loadgen CPU in the same phases (% of one core)', `${fmt(m(members, 'idle_ws.loadgen_cpu_pct'))}, ${fmt(m(members, 'idle_http.loadgen_cpu_pct'))}`, '', ''],
  ]);
  const capped = m(members, 'attempted') < target ? ' (all the open-file limit allows)' : '';
  summary.push(['members held by one server', `≥ ${int(target)}`, `${int(reached)}${capped}`, verdict(reached >= target)]);
  summary.push(['server RSS per member', '≤ 20 KB', `${kb(perMember)} KB`, verdict(perMember <= 20000)]);
}

// ---- memory per idle connection ----
const connsR = runsOf('conns-rtcroom');
const connsP = runsOf('conns-peerjs');
if (connsR.length && connsP.length) {
  const r = m(connsR, 'rss_per_conn_bytes');
  const p = m(connsP, 'rss_per_conn_bytes');
  sections.conns = table(['', 'rtcroom', 'PeerJS', 'rtcroom / PeerJS'], [
    ['idle connections held', int(m(connsR, 'held')), int(m(connsP, 'held')), ''],
    ['server RSS per connection (KB), median', kb(r), kb(p), ratio(r, p)],
    ['… runs', each(connsR, 'rss_per_conn_bytes', kb), each(connsP, 'rss_per_conn_bytes', kb), ''],
  ]);
}

// ---- join latency ----
const joins = runsOf('join');
if (joins.length) {
  const p99 = m(joins, 'latency.p99_ms');
  const row = (label, key) => [label, fmt(m(joins, `${key}.p50_ms`), 2), fmt(m(joins, `${key}.p99_ms`), 2), each(joins, `${key}.p99_ms`, (x) => fmt(x, 2))];
  sections.join = table(['', 'p50 (ms)', 'p99 (ms)', 'p99 of each run'], [
    row('join = login + add_pusher + get_pushers (from its due time)', 'latency'),
    row('… login', 'login'),
    row('… add_pusher', 'add_pusher'),
    row('… get_pushers', 'get_pushers'),
    row('the generator\'s own timer lateness (machine noise, included above)', 'generator_timer_lateness'),
  ]) + `\n\nRate achieved: ${each(joins, 'achieved_per_sec', int)} joins/s; errors: ${each(joins, 'errors', int)}; server CPU ${each(joins, 'server_cpu_pct')} % of one core. PeerJS has no join step to compare (a peer is registered when its WebSocket opens).`;
  summary.push(['join latency p99 at 1,000 joins/s', '≤ 5 ms', `${fmt(p99, 2)} ms (p50 ${fmt(m(joins, 'latency.p50_ms'), 2)})`, verdict(p99 <= 5)]);
}

// ---- fan-out ----
const fan = runsOf('fanout');
if (fan.length) {
  const p99 = m(fan, 'latency_phase.send_to_last_receive.p99_ms');
  sections.fanout = table(['', 'median', 'runs'], [
    ['members receiving each message', int(m(fan, 'receivers')), ''],
    [`send → last receive p50 (ms), ${int(m(fan, 'latency_phase.rate'))} messages/s`, fmt(m(fan, 'latency_phase.send_to_last_receive.p50_ms'), 2), each(fan, 'latency_phase.send_to_last_receive.p50_ms', (x) => fmt(x, 2))],
    ['send → last receive p99 (ms)', fmt(p99, 2), each(fan, 'latency_phase.send_to_last_receive.p99_ms', (x) => fmt(x, 2))],
    ['the generator\'s own timer lateness p99 (ms; machine noise)', fmt(m(fan, 'latency_phase.generator_timer_lateness.p99_ms'), 2), each(fan, 'latency_phase.generator_timer_lateness.p99_ms', (x) => fmt(x, 2))],
    ['messages/s the room sustains (each to all 50)', int(m(fan, 'throughput_phase.messages_per_sec')), each(fan, 'throughput_phase.messages_per_sec', int)],
    ['… frames delivered/s', int(m(fan, 'throughput_phase.deliveries_per_sec')), ''],
    ['… server CPU (% of one core)', fmt(m(fan, 'throughput_phase.server_cpu_pct')), each(fan, 'throughput_phase.server_cpu_pct')],
  ]);
  summary.push(['fan-out to 50: send → last receive p99', '≤ 5 ms', `${fmt(p99, 2)} ms; ${int(m(fan, 'throughput_phase.messages_per_sec'))} messages/s sustained`, verdict(p99 <= 5)]);
}

// ---- relay ----
const relR = runsOf('relay-rtcroom');
const relP = runsOf('relay-peerjs');
if (relR.length && relP.length) {
  const r = m(relR, 'messages_per_sec');
  const p = m(relP, 'messages_per_sec');
  const rc = m(relR, 'messages_per_server_cpu_sec');
  const pc = m(relP, 'messages_per_server_cpu_sec');
  sections.relay = table(['', 'rtcroom', 'PeerJS', 'rtcroom / PeerJS'], [
    ['pairs × frame size (bytes on the wire)', `${relR[0].pairs} × ${int(relR[0].frame_bytes)}`, `${relP[0].pairs} × ${int(relP[0].frame_bytes)}`, ''],
    ['messages/s relayed, median', int(r), int(p), ratio(r, p)],
    ['… runs', each(relR, 'messages_per_sec', int), each(relP, 'messages_per_sec', int), ''],
    ['server CPU (% of one core)', fmt(m(relR, 'server_cpu_pct')), fmt(m(relP, 'server_cpu_pct')), ''],
    ['load generator CPU (% of one core)', fmt(m(relR, 'loadgen_cpu_pct')), fmt(m(relP, 'loadgen_cpu_pct')), ''],
    ['messages per server CPU-second', int(rc), int(pc), ratio(rc, pc)],
    ['server RSS under load (MiB)', fmt(m(relR, 'rss_under_load_kib') / 1024), fmt(m(relP, 'rss_under_load_kib') / 1024), ''],
  ]);
  summary.push(['relay throughput vs PeerJS', '≥ 5×', `${int(r)} vs ${int(p)} messages/s = ${ratio(r, p)} (per CPU-second ${ratio(rc, pc)})`, verdict(r >= 5 * p)]);
  if (connsR.length && connsP.length) {
    summary.push(['memory per idle connection vs PeerJS', 'report', `${kb(m(connsR, 'rss_per_conn_bytes'))} vs ${kb(m(connsP, 'rss_per_conn_bytes'))} KB`, '']);
  }
}

// ---- soak ----
// The soak's memory by phase (baseline → after ramp → settled): anonymous RSS
// (heap and stacks, without the binary's mapped text) and jemalloc's figures.
function memoryRows(memory) {
  if (!memory || !memory.baseline) return [];
  const phases = ['baseline', 'after_ramp', 'settled'].map((p) => memory[p] || {});
  const mb = (b) => (b === undefined ? 'n/a' : fmt(b / 1e6, 2));
  const rows = [['server anonymous RSS baseline → after ramp → settled (MiB)', phases.map((p) => fmt((p.rss_anon_kib || 0) / 1024)).join(' → ')]];
  for (const what of ['allocated', 'active', 'metadata', 'resident']) {
    if (memory.baseline.heap_bytes && memory.baseline.heap_bytes[what] !== undefined) {
      rows.push([`jemalloc \`${what}\` baseline → after ramp → settled (MB)`, phases.map((p) => mb((p.heap_bytes || {})[what])).join(' → ')]);
    }
  }
  return rows;
}

if (files.includes('soak.json')) {
  const s = load('soak.json');
  const mib = (k) => fmt(k / 1024);
  const g = (x) => (x ? `${x.rooms} / ${x.members} / ${x.sockets} / ${x.sessions}` : 'n/a');
  const errs = Object.entries(s.errors || {}).map(([k, v]) => `${k}: ${int(v)}`).join(', ') || 'none';
  const back = s.gauges_back_to_baseline;
  const rssRatio = s.rss_end_kib / s.rss_baseline_kib;
  sections.soak = table(['', 'measured'], [
    ['members held (rooms of 4) after the ramp, lowest while churning', `${int(s.held_after_ramp)}, ${int(s.held_min_during_churn)} (of ${int(s.target)})`],
    ['churn: members replaced per second × seconds', `${int(s.churn_per_sec)} × ${fmt(s.churn_secs, 0)}`],
    ['churn ops (delete_pusher + logout / logout / dropped socket)', `${int(s.churn_ops)} (${int(s.leaves.delete_pusher)} / ${int(s.leaves.logout)} / ${int(s.leaves.drop_socket)})`],
    ['joins, pusher_heartbeats, room texts sent, frames received', `${int(s.joins)}, ${int(s.heartbeats)}, ${int(s.texts_sent)}, ${int(s.frames_in)}`],
    ['`room_closed` frames received (creator left), rooms re-entered', `${int(s.rooms_closed_seen)}, ${int(s.rejoins)}`],
    ['answers with an error code, by command:code', errs],
    ['server RSS baseline → peak → end (MiB)', `${mib(s.rss_baseline_kib)} → ${mib(s.rss_peak_kib)} → ${mib(s.rss_end_kib)}`],
    ['server RSS end / baseline', `${fmt(rssRatio, 2)}×`],
    ...memoryRows(s.memory),
    ['gauges rooms / members / sockets / sessions: baseline → end of churn → end', `${g(s.gauges_baseline)} → ${g(s.gauges_end_of_churn)} → ${g(s.gauges_end)}`],
    ['sessions left by dropped sockets (until those users log out)', `${int(s.sessions_before_abandoned_logout)} (${int(s.abandoned_sessions)} dropped)`],
    ['gauges back to baseline', `${back ? '**yes**' : '**no**'}, ${fmt(s.settle_secs)} s after the last logout`],
    ['generator timer lag p50 / p99 / max (ms)', `${fmt(s.generator_timer_lag.p50_ms, 2)} / ${fmt(s.generator_timer_lag.p99_ms, 2)} / ${fmt(s.generator_timer_lag.max_ms, 2)}`],
  ]);
  summary.push([`soak: ${int(s.target)} members, churn ${fmt(s.churn_secs, 0)} s`, 'gauges back, RSS end ≤ 1.5× baseline', `gauges ${back ? 'back' : 'not back'}; RSS ${mib(s.rss_baseline_kib)} → ${mib(s.rss_peak_kib)} → ${mib(s.rss_end_kib)} MiB (${fmt(rssRatio, 2)}×)`, verdict(back && rssRatio <= 1.5)]);
}

// ---- browser ----
if (files.includes('browser.json')) {
  const b = load('browser.json');
  const med = b.median_ms;
  const runs = (k, dir) => b.ms[k][dir].map((x) => int(x)).join(' / ');
  const names = {
    raw: 'raw floor: two RTCPeerConnections in one page',
    peerjs: 'PeerJS (peerjs client + `peer` server)',
    rtcroom: 'rtcroom (demo page + RoomService)',
    rtcroom_before: 'rtcroom before (`BENCH_BEFORE_WWW` build, same server)',
    peerjs_full: 'PeerJS, whole flow: camera ‖ connect to the server, call',
    rtcroom_full: 'rtcroom, whole flow (npm package page): camera ‖ login → enterRoom',
  };
  const rows = [];
  for (const dir of ['guest', 'host']) {
    for (const k of Object.keys(names).filter((k) => med[k])) {
      rows.push([`${dir === 'guest' ? 'guest sees host' : 'host sees guest'}: ${names[k]}`, int(med[k][dir]), runs(k, dir), ratio(med[k][dir], med.raw[dir])]);
    }
  }
  const steps = (b.timeline && b.timeline.rtcroom) || [];
  sections.browser = table(['', 'median (ms)', `runs (${b.runs})`, 'vs raw floor'], rows)
    + `\n\nrtcroom / PeerJS: guest ${ratio(med.rtcroom.guest, med.peerjs.guest)}, host ${ratio(med.rtcroom.host, med.peerjs.host)}.`
    + (steps.length ? '\n\nWhere rtcroom\'s time goes (median over the runs of each step\'s first time, ms after B starts; A is in the room, B joins):\n\n'
      + table(['ms', 'step'], steps.map((e) => [int(e.ms), e.label])) : '')
    + (b.timeline && b.timeline.rtcroom_full ? '\n\nThe whole flow on the npm package page (ms after B starts its camera, login and entry):\n\n'
      + table(['ms', 'step'], b.timeline.rtcroom_full.map((e) => [int(e.ms), e.label])) : '');
  const worst = Math.max(med.rtcroom.guest / med.raw.guest, med.rtcroom.host / med.raw.host);
  const met = worst <= 1.15 && med.rtcroom.guest < med.peerjs.guest && med.rtcroom.host < med.peerjs.host;
  summary.push(['join → first remote frame, both directions (from enterRoom, logged in)', '≤ 1.15× raw and < PeerJS',
    `guest ${int(med.rtcroom.guest)} ms = ${ratio(med.rtcroom.guest, med.raw.guest)} raw, PeerJS ${int(med.peerjs.guest)}; host ${int(med.rtcroom.host)} ms = ${ratio(med.rtcroom.host, med.raw.host)} raw, PeerJS ${int(med.peerjs.host)}`, verdict(met)]);
  if (med.rtcroom_full && med.peerjs_full) {
    const f = med.rtcroom_full;
    const p = med.peerjs_full;
    const fullMet = Math.max(f.guest / med.raw.guest, f.host / med.raw.host) <= 1.15 && f.guest < p.guest && f.host < p.host;
    summary.push(['whole-flow join → first remote frame (camera ‖ login → enterRoom)', '≤ 1.15× raw and < PeerJS (whole flow)',
      `guest ${int(f.guest)} ms = ${ratio(f.guest, med.raw.guest)} raw, PeerJS ${int(p.guest)}; host ${int(f.host)} ms = ${ratio(f.host, med.raw.host)} raw, PeerJS ${int(p.host)}`, verdict(fullMet)]);
  }
}

// ---- mesh vs SFU, npm package (bench/sfu.mjs) ----
if (files.includes('sfu.json')) {
  const s = load('sfu.json');
  const names = {
    floor: 'raw two-peer floor (bench/pages/raw.html, no server)',
    mesh4: '4-person mesh (no media server)',
    sfu4: '4-person SFU (Janus, sfu_threshold 0)',
    sfu6: '6-person SFU (Janus, sfu_threshold 0)',
  };
  const flows = Object.keys(names).filter((k) => s.flows[k]?.length);
  const col = (k, path, f) => (s.flows[k][0] && get(s.flows[k][0], path) !== undefined ? `${f(m(s.flows[k], path))} (${each(s.flows[k], path, f)})` : '—');
  sections.sfu = table(['', 'last to enter → first remote frame, median of the others (ms)', 'upload / page (kbit/s)', 'video sent (px)', 'Chromium renderer / page (cores)', 'rest of Chromium (cores)', 'Janus (cores)', 'received video (fps, median stream)', 'load average during the window'], flows.map((k) => [
    names[k],
    `${int(m(s.flows[k], 'firstFrameMs.median'))} (${each(s.flows[k], 'firstFrameMs.median', int)})${k === 'floor' ? '' : `, ${ratio(m(s.flows[k], 'firstFrameMs.median'), m(s.flows.floor, 'firstFrameMs.median'))} floor`}`,
    col(k, 'uploadKbpsPerPage.median', int),
    k === 'floor' ? '—' : [...new Set(s.flows[k].map((r) => r.sentVideo ?? 'not recorded'))].join(', '),
    col(k, 'rendererCoresPerPage.median', (x) => fmt(x, 2)),
    col(k, 'chromiumOtherCores', (x) => fmt(x, 2)),
    k.startsWith('sfu') ? col(k, 'janusCores', (x) => fmt(x, 3)) : '—',
    col(k, 'receivedFps.median', (x) => fmt(x, 1)),
    s.flows[k][0]?.loadavg ? s.flows[k].map((r) => r.loadavg.split(' ')[0]).join(' / ') : '—',
  ])) + `\n\n${s.runs} rounds, interleaved (floor, mesh4, sfu4, sfu6 in each round), ${s.secs} s windows; medians, each run in brackets. Load average ${s.loadavgStart} at the start, ${s.loadavgEnd} at the end.`
    + ((s.failures ?? []).length ? ` Failed runs (left out): ${s.failures.map((f) => `${f.flow} round ${f.run}: ${f.error.slice(0, 160)}`).join('; ')}.` : ' No run failed.');
  sections.sfu_rooms = table(['6-person rooms on one Janus', 'pages', 'video sent', 'received video (fps): median / lowest stream', 'Janus (cores)', 'Janus per room (cores)', 'Chromium, all processes (cores)', 'newest room: last to enter → first remote frame (ms)', 'load average'], s.rooms.map((r) => (r.failed
    ? [String(r.rooms), '—', '—', `did not come up: ${r.failed.slice(0, 120)}`, '—', '—', '—', '—', '—']
    : [String(r.rooms), String(r.pages), r.sentVideo ?? 'not recorded (640x480 asked)', `${fmt(r.receivedFps.median)} / ${fmt(r.receivedFps.min)} (${r.receivedFps.streams} streams)`, fmt(r.janusCores, 3), fmt(r.janusCores / r.rooms, 3), fmt(r.chromiumCores, 2), int(r.firstFrameMs.median), r.loadavg])));
}

// ---- 6-person rooms on one Janus until frames drop (bench/janus-load.mjs) ----
if (files.includes('janus-load.json')) {
  const s = load('janus-load.json');
  const pct = (x) => `${fmt(x * 100, 2)}%`;
  const chromium = s.receivers === 'chromium';
  sections.janus_load = table(['6-person rooms', 'received video (fps): median / 5th pct (streams)', 'audio (frames/s): 5th pct', 'RTP in at the subscribers (packets/s)', 'loss', 'kernel drops: receivers\' sockets / Janus\' / others / input backlog', 'Janus (cores; busiest thread)', 'Janus per room (cores)', chromium ? 'Chromium receivers, all processes (cores)' : 'rtp-sink receivers (cores)', 'ffmpeg senders (cores)', 'whole box busy (cores)', 'load average', 'frames'], s.steps.map((r) => (r.failed
    ? [String(r.rooms), `did not come up: ${r.failed.slice(0, 120)}`, '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', 'drop']
    : [String(r.rooms), `${fmt(r.videoFps.median)} / ${fmt(r.videoFps.p5)} (${r.videoFps.streams})`, fmt(r.audioFps.p5), int(r.packetsPerSecond), pct(r.loss),
      r.socketDrops ? [r.socketDrops.sink, r.socketDrops.janus, r.socketDrops.others, r.socketDrops.backlog].map(int).join(' / ') : 'n/a',
      `${fmt(r.cpu.janus, 3)}; ${fmt(r.cpu.janusBusiestThread, 3)}`, fmt(r.cpu.janus / r.rooms, 3),
      fmt(chromium ? r.cpu.chromiumRenderers + r.cpu.chromiumOther : r.cpu.sink, 3),
      fmt(r.cpu.ffmpeg, 3), fmt(r.cpu.machine, 2), r.loadavg, r.holds ? 'all arrive' : '**drop**'])))
    + `\n\nReceivers: ${chromium ? 'Chromium pages (encoded transforms, no decoding)' : 'bench/rtp-sink'}. Clip: ${s.clip.width}x${s.clip.height}@${s.clip.fps} H.264 ~${s.clip.videoKbps} kbit/s + Opus ${s.clip.audioKbps} kbit/s; ${s.secs} s windows.`
    + ` **Held: ${s.roomsHeld} rooms**${s.dropAt ? `; frames drop at ${s.dropAt}` : ''}${s.deadlineAt ? `; deadline before ${s.deadlineAt}` : ''}.`
    + `${s.nice ? ` Run at nice ${s.nice} (ahead of the box's other processes).` : ''} Load average ${s.loadavgStart} at the start, ${s.loadavgEnd} at the end.`;
}

// ---- size ----
if (files.includes('size.json')) {
  const s = load('size.json');
  const ours = s.clients.find((c) => c.name === 'rtcroom');
  sections.size = table(['client', 'files', 'raw (KB)', 'gzip -9 (KB)', 'brotli 11 (KB)', 'gzip vs rtcroom'], s.clients.map((c) => [
    `${c.name} ${c.version}`,
    c.files.map((f) => `\`${f.file.replace(/^bench\/node_modules\//, '')}\``).join(', '),
    kb(c.raw), kb(c.gzip), kb(c.brotli),
    c === ours ? '1.00×' : ratio(c.gzip, ours.gzip),
  ]));
  summary.push(['client size (wasm + glue)', '≤ 60 KB gz', `${kb(ours.gzip)} KB gz, ${kb(ours.brotli)} KB br`, verdict(ours.gzip <= 60000)]);
  if (s.target) {
    const t = s.target;
    const mini = t.miniprogram_gzip === null ? 'mini-program not built' : `mini-program ${kb(t.miniprogram_gzip)} KB gz`;
    summary.push(['client size, both hosts (issue 15)', '≤ 80 KB gz, mini-program within 10%', `browser ${kb(t.browser_gzip)} KB gz, ${mini}`,
      verdict(t.browser_ok && t.miniprogram_within_10pct !== false)]);
  }
}

// ---- mesh → SFU switch (bench/sfu_switch.mjs) ----
if (files.includes('sfu_switch.json')) {
  const s = load('sfu_switch.json');
  sections.sfu_switch = table(['run', 'longest remote-video gap (ms, worst of 6 pairs)', 'each pair (viewer←member, ms)', 'mesh peers all closed after the 5th entered (ms)', 'load average'], s.runs.map((r, i) => [
    String(i + 1), int(r.worstGapMs), Object.entries(r.longest).map(([k, v]) => `${k.replace(/^r\d+/, '').replace(/←r\d+/, '←')} ${v}`).join(', '), int(r.meshClosedMs), r.loadavg,
  ])) + `\n\n${s.summary.runs} runs: median of the longest gaps **${int(s.summary.medianWorstGapMs)} ms**, worst ${int(s.summary.maxWorstGapMs)} ms, ${s.summary.under1s}/${s.summary.runs} under 1 s. Load average ${s.loadavgStart} at the start, ${s.loadavgEnd} at the end.`
    + ((s.failures ?? []).length ? ` Failed runs (left out): ${s.failures.map((f) => `run ${f.run}: ${f.error.slice(0, 160)}`).join('; ')}.` : ' No run failed.');
  summary.push(['mesh → SFU switch: longest remote-video freeze (issue 17)', '< 1 s', `median ${int(s.summary.medianWorstGapMs)} ms, worst ${int(s.summary.maxWorstGapMs)} ms over ${s.summary.runs} runs`, verdict(s.summary.maxWorstGapMs < 1000)]);
}

// A partial run (BENCH_ONLY, or bench/browser.mjs alone) replaces only its own summary rows.
const partial = !files.some((f) => /^join-\d+\.json$/.test(f));
if (!partial) sections.summary = table(['target', 'wanted', 'measured (median)', ''], summary);

let doc = readFileSync(docPath, 'utf8');
if (partial) {
  for (const row of summary) {
    const re = new RegExp(`^\\| ${row[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&').split(',')[0]}[^\\n]*$`, 'm');
    const line = `| ${row.join(' | ')} |`;
    doc = re.test(doc) ? doc.replace(re, line) : doc.replace('<!-- /bench:summary -->', `${line}\n<!-- /bench:summary -->`);
  }
}
for (const [name, body] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`);
  if (!re.test(doc)) throw new Error(`${docPath} has no <!-- bench:${name} --> section`);
  doc = doc.replace(re, (_, open, close) => `${open}${body}\n${close}`);
}
writeFileSync(docPath, doc);
console.error(`[report] ${Object.keys(sections).length} tables written to ${docPath}`);
