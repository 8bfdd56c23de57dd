// Cutting a page's media path inside the test's network namespace (tc on
// `lo`), and watching remote video freeze and flow again: shared by the
// media-recovery tests (mesh and SFU).
import { execFileSync } from 'node:child_process';

const tc = (...args) => execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Drops every packet on `lo` except TCP to/from `ports` until the returned function is called. */
export function cutAllBut(...ports) {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', '8bit', 'ceil', '8bit');
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', '0');
  for (const port of ports) {
    for (const dir of ['sport', 'dport']) {
      tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', dir, String(port), '0xffff', 'flowid', '1:1');
    }
  }
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '2', 'u32', 'match', 'u32', '0', '0', 'flowid', '1:2');
  return () => tc('qdisc', 'del', 'dev', 'lo', 'root');
}

export const debugLines = (p, re) => p.page.evaluate((src) => window.demo.log.filter((l) => l[0] === 'debug' && new RegExp(src).test(l[1])).map((l) => l[1]), re.source);

/**
 * Whether new frames of `userID`'s remote video are being decoded and shown
 * right now (counted by the element; a stalled MediaStream's `currentTime`
 * may go on advancing, its frame count does not).
 */
const playing = (p, userID) => p.page.evaluate(async (uid) => {
  const v = document.querySelector(`.tile[data-user="${CSS.escape(uid)}"] video`);
  if (!v || v.videoWidth === 0) return false;
  const f0 = v.getVideoPlaybackQuality().totalVideoFrames;
  await new Promise((r) => setTimeout(r, 500));
  return v.getVideoPlaybackQuality().totalVideoFrames > f0 + 2;
}, userID);

/** Resolves once `userID`'s video shows new frames again. */
export async function waitFlowing(p, userID, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (await playing(p, userID)) return;
  throw new Error(`${p.userID}: no new frames of ${userID} within ${timeoutMs} ms`);
}

/** Resolves once the remote video of `userID` stops advancing (its media died). */
export async function waitFrozen(p, userID, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (!(await playing(p, userID))) return;
  throw new Error(`${p.userID}: the video of ${userID} never froze`);
}

export async function waitLog(p, re, timeoutMs = 40000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await debugLines(p, re)).length > 0) return;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.userID}: no debug line ${re} in ${JSON.stringify(await debugLines(p, /media /))}`);
}
