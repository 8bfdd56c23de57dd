#!/usr/bin/env bash
# Members held by two rtcroom-server nodes on one redis-server (docs/BENCHMARKS.md §6):
# one rtcroom-loadgen `members` run per node, each under its own sdkAppID (so the
# users differ), each process within this machine's 20,000 open files.
# Usage: bench/cluster-members.sh [members per node, default 17600]. Builds (debug) first.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-17600}
cargo build -q -p rtcroom-server -p rtcroom-loadgen
BIN=$PWD/target/debug
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"' EXIT
cat > "$DIR/node.toml" <<'TOML'
listen = "127.0.0.1:0"
[[apps]]
sdk_app_id = 1400000001
secret_key = "bench-secret-key"
[[apps]]
sdk_app_id = 1400000002
secret_key = "bench-secret-key"
[limits]
max_rooms = 1000000
max_rooms_per_app = 1000000
max_members = 64
messages_per_second = 1000000
messages_burst = 1000000
TOML
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" > "$DIR/redis.log" 2>&1 &
PIDS+=($!)
sleep 0.5
start_node() { # id -> "pid addr"
  "$BIN/rtcroom-server" --config "$DIR/node.toml" --store "redis://127.0.0.1:$PORT" --node-id "$1" \
    > "$DIR/$1.log" 2> "$DIR/$1.err" &
  local pid=$!
  PIDS+=($pid)
  for _ in $(seq 100); do
    local addr
    addr=$(sed -n 's|.*RoomService on http://\([0-9.:]*\)/.*|\1|p' "$DIR/$1.log" | head -1)
    [ -n "$addr" ] && { echo "$pid $addr"; return 0; }
    sleep 0.1
  done
  cat "$DIR/$1.err" >&2; return 1
}
read -r APID A < <(start_node a)
read -r BPID B < <(start_node b)
"$BIN/rtcroom-loadgen" members --server "$A" --server-pid "$APID" --app 1400000001 --members "$N" \
  --http-heartbeat-secs 0 --idle-secs 10 > "$DIR/a.json" &
LA=$!
"$BIN/rtcroom-loadgen" members --server "$B" --server-pid "$BPID" --app 1400000002 --members "$N" \
  --http-heartbeat-secs 0 --idle-secs 10 > "$DIR/b.json" &
LB=$!
wait "$LA" "$LB"
echo "node a: $(cat "$DIR/a.json")"
echo "node b: $(cat "$DIR/b.json")"
echo "redis: members $(redis-cli -p "$PORT" get rtc:n:members), $(redis-cli -p "$PORT" info memory | grep used_memory_human)"
