// The PeerJS server (npm `peer`, from bench/node_modules) on loopback for the
// relay and connection benchmarks: `node peer-server.mjs [port]` prints
// `PeerJS on <port>` once listening. The concurrent-peer limit (default 5000)
// and the 90 s liveness timeout are raised so the load generator's idle peers
// are neither refused nor reaped; everything else is the package's default.
import { PeerServer } from 'peer';

const port = Number(process.argv[2] || 0);
PeerServer({
  host: '127.0.0.1',
  port,
  key: 'peerjs',
  path: '/',
  concurrent_limit: 1_000_000,
  alive_timeout: 600_000,
}, (server) => {
  console.log(`PeerJS on ${server.address().port}`);
});
