// Every platform talks to every other, as a user of the demo sees it: the demo
// page (the npm package only: RTCRoom, addRemoteView) in a room with a
// mini-program member. The member is the demo's own "Add a test mini-program
// member" button: RoomService pushes an ffmpeg test pattern (H.264 baseline +
// AAC over signed RTMP, as <live-pusher> would) into nginx-rtmp and enters it
// with add_pusher. The room goes SFU, the bridge feeds the member into Janus,
// and each browser plays it through its ordinary subscriber, beside the other
// browser member — while the browsers' own media is bridged back out to RTMP
// for the mini-program side (its accelerateURL is a signed play URL).
//
// Janus needs an address besides `lo` for ICE (NOTES.md): inside the
// loopback-only namespace of scripts/test-e2e the stack adds the veth pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join as pathJoin } from 'node:path';
import { launch, join, createRoom, enterRoom, waitPlaying, ROOT } from './harness.mjs';
import { startBridgeStack } from './janus.mjs';

const ROOM = 'Interop room';

/** The test member's userID, once the demo's button has added it. */
async function testMemberOf(p, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const id = await p.page.evaluate(() => window.demo.log.find((l) => l[0] === 'test-member')?.[1] ?? null);
    if (id) return id;
    const error = await p.page.textContent('#error').catch(() => '');
    if (error) throw new Error(`the demo's test member was refused: ${error}`);
    await p.page.waitForTimeout(200);
  }
  throw new Error('the demo did not add a test member');
}

/** Size of the remote video of `user` on page `p`. */
function videoSize(p, user) {
  return p.page.evaluate((uid) => {
    const v = document.querySelector(`.tile[data-user="${CSS.escape(uid)}"] video`);
    return v ? [v.videoWidth, v.videoHeight] : null;
  }, user);
}

/** Codec and width the RTMP reader sees at `url` (ffprobe of the live stream). */
function probe(url) {
  return execFileSync('ffprobe', ['-v', 'error', '-analyzeduration', '3000000', '-show_entries', 'stream=codec_name,width',
    '-of', 'csv=p=0', url], { timeout: 30000 }).toString().trim().split('\n').sort();
}

test('the demo page plays a mini-program member beside a browser member, and is played back over RTMP', { timeout: 240000 }, async () => {
  const stack = await startBridgeStack({ staticDir: pathJoin(ROOT, 'www') });
  const { server } = stack;
  const browser = await launch();
  try {
    const ana = await join(browser, server.base, 'ana', 'Ana');
    await createRoom(ana, ROOM);
    await ana.page.click('#add-test-mp');
    const member = await testMemberOf(ana, 30000);
    // The mini-program member plays on the browser page, through addRemoteView as any member.
    await waitPlaying(ana, member, 60000);
    assert.deepEqual(await videoSize(ana, member), [640, 480]);

    const ben = await join(browser, server.base, 'ben', 'Ben');
    await enterRoom(ben, ROOM);
    await waitPlaying(ben, member, 60000);
    await waitPlaying(ben, 'ana', 60000);
    await waitPlaying(ana, 'ben', 60000);

    // The other way: ana's accelerateURL, as the mini-program's <live-player> gets it, is an
    // RTMP stream of her camera (H.264 + AAC).
    const { pushers } = await ben.page.evaluate(async () => {
      const { rooms } = await window.demo.room.getRoomList({ index: 0, count: 20 });
      const roomID = rooms.find((r) => r.pushers.some((p) => p.userID === 'ana')).roomID;
      return window.demo.room.getPushers({ roomID });
    });
    const anaUrl = pushers.find((p) => p.userID === 'ana')?.accelerateURL;
    assert.match(anaUrl ?? '', /^rtmp:\/\/.*txSecret=/, `ana's accelerateURL: ${JSON.stringify(pushers)}`);
    const streams = probe(anaUrl);
    assert.equal(streams.length, 2, `ffprobe: ${streams}`);
    assert.equal(streams[0], 'aac', `ffprobe: ${streams}`);
    assert.match(streams[1], /^h264,[1-9]\d*$/, `ffprobe: ${streams}`);
    await ben.page.click('#leave');
    await ana.page.click('#leave');
  } catch (e) {
    console.log(`RoomService (tail):\n${server.log().slice(-4000)}\njanus (tail):\n${stack.janus.log()}\nnginx:\n${stack.nginxLog()}`);
    throw e;
  } finally {
    await browser.close();
    server.proc.kill('SIGTERM');
    stack.janus.proc.kill('SIGTERM');
    stack.nginx.kill('SIGTERM');
    stack.removeVeth();
  }
});
