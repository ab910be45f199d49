#!/usr/bin/env bash
# `make demo`: the post-mortem story end to end, unattended. Starts a collector (data under
# ./demo-data), an agent tailing a generated application log (some errors, then a crash-like
# burst), sends the agent a termination notice and SIGTERM, then asks `blackbox` what happened:
# instances, timeline, and the errors of the instance's last two minutes. Stops everything it
# started. Usage: tools/demo.sh BUILD_DIR (the Makefile has built it).
set -euo pipefail

BUILD=${1:-build}
COLLECTOR="$BUILD/collector/blackbox-collector"
AGENT="$BUILD/agent/blackbox-agent"
CLI="$BUILD/query/blackbox"
DATA=./demo-data
INSTANCE="i-demo-$(date +%H%M%S)"

for bin in "$COLLECTOR" "$AGENT" "$CLI"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing: run 'make build' first" >&2; exit 1; }
done

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls a command until it succeeds, at most $1 seconds.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "demo: timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.2
  done
}

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DATA"
mkdir -p "$DATA/logs" "$DATA/agent"

section "collector"
"$COLLECTOR" --data-dir "$DATA/collector" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
  2>"$DATA/collector.log" &
PIDS+=($!)
wait_until 30 grep -q "http on" "$DATA/collector.log"
AGENT_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DATA/collector.log" | head -1)
HTTP_PORT=$(sed -n 's/.*http on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DATA/collector.log" | head -1)
export BLACKBOX_SERVER="http://127.0.0.1:$HTTP_PORT"
echo "agents → 127.0.0.1:$AGENT_PORT, queries → $BLACKBOX_SERVER (data in $DATA)"

# The application's last half hour: JSON lines every 10 s with a few errors, then a crash.
LOG="$DATA/logs/app.log"
now=$(date +%s)
start=$(( now - 1800 ))
(
  export TZ=UTC  # printf %(...)T formats in this zone
  for i in $(seq 0 179); do
    t=$(( start + i * 10 ))
    level=info; msg="GET /api/orders/$i 200 in $(( 20 + i % 37 ))ms"
    if [ $(( i % 23 )) -eq 7 ]; then level=error; msg="GET /api/orders/$i 502: upstream timeout"; fi
    if [ $(( i % 41 )) -eq 13 ]; then level=warning; msg="slow query: 1.${i}s on orders"; fi
    printf '{"time":"%(%Y-%m-%dT%H:%M:%S)TZ","level":"%s","msg":"%s","service":"orders","req":%d}\n' \
      "$t" "$level" "$msg" "$i"
  done
) >"$LOG"

section "agent (instance $INSTANCE) tails $LOG"
"$AGENT" --collector "127.0.0.1:$AGENT_PORT" --instance-id "$INSTANCE" --image-id ami-demo \
  --state-dir "$DATA/agent" --file "$DATA/logs/*.log" --read-from beginning \
  --metrics-listen 127.0.0.1:0 2>"$DATA/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_until 30 "$CLI" --no-pager logs "$INSTANCE" --grep "orders/179 " -n 1
echo "history shipped"

# The crash: memory runs out, the workers die, the process is going down.
(
  export TZ=UTC
  t=$(date +%s)
  printf '{"time":"%(%Y-%m-%dT%H:%M:%S)TZ","level":"warning","msg":"heap at 93%%, GC overhead 61%%","service":"orders"}\n' "$t"
  for k in $(seq 1 12); do
    printf '{"time":"%(%Y-%m-%dT%H:%M:%S)TZ","level":"error","msg":"worker %d: java.lang.OutOfMemoryError: Java heap space","service":"orders"}\n' "$t" "$k"
  done
  printf '{"time":"%(%Y-%m-%dT%H:%M:%S)TZ","level":"crit","msg":"panic: all workers dead, exiting","service":"orders"}\n' "$t"
) >>"$LOG"
wait_until 30 "$CLI" --no-pager logs "$INSTANCE" --grep "all workers dead" -n 1
echo "crash shipped"

section "termination notice, then SIGTERM"
"$AGENT" notify-termination --reason "spot interruption" --state-dir "$DATA/agent"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || true
wait_until 30 sh -c "'$CLI' --no-pager instances --state terminated | grep -q '$INSTANCE'"

section "blackbox instances"
"$CLI" --no-pager instances
section "blackbox timeline $INSTANCE"
"$CLI" --no-pager timeline "$INSTANCE"
section "blackbox logs $INSTANCE --last 2m --priority err"
"$CLI" --no-pager logs "$INSTANCE" --last 2m --priority err

section "done: everything started by the demo is being stopped"
