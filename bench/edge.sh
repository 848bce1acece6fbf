#!/usr/bin/env bash
# bench/edge.sh — the edge under abuse of docs/benchmarks.md (issue 16).
#
# Runs herald as users run it (SQLite, workers on, the Bot API fake), makes
# two webhooks through the bot, then:
#   slow          40 senders from one address trickle 1 MiB bodies to A;
#                 200 events to B from another address: codes and latency
#   slow-spread   the same, each sender from its own address
#   headers-1MB   1,000 connections to A, each with 1 MB of headers and a
#                 body announced and never sent, reopened when herald ends
#                 them, for 20 s: herald's VmRSS (sampled) and VmHWM
#   headers-30KB  the same with 30 KB of headers, under the header bound
# Each attack gets a fresh herald, so VmHWM is its own.
#
# HERALD=path runs that binary instead of building this tree's (to compare
# with an older one). Needs go and curl. Not a test: figures depend on the
# machine and its load.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

(cd "$root" && go build -o "$tmp/fakebot" ./bench/fakebot && go build -o "$tmp/edge" ./bench/edge)
herald=${HERALD:-}
if [ -z "$herald" ]; then
  (cd "$root" && go build -o "$tmp/herald" .)
  herald=$tmp/herald
fi

"$tmp/fakebot" -addr 127.0.0.1:18091 > "$tmp/fakebot.out" 2> "$tmp/fakebot.log" &
pids+=($!)
for _ in $(seq 50); do grep -q '^url=' "$tmp/fakebot.out" && break; sleep 0.1; done
read -r fake_url fake_token < <(sed -E 's/^url=([^ ]+) token=(.*)$/\1 \2/' "$tmp/fakebot.out")

kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$2/status"; }

run=0
attack() {
  local name=$1; shift
  run=$((run + 1))
  TELEGRAM_BOT_TOKEN=$fake_token TELEGRAM_API_URL=$fake_url DATABASE_URL="sqlite:$tmp/herald-$run.db" \
    LISTEN_ADDR=127.0.0.1:18083 PUBLIC_URL=http://127.0.0.1:18083 HOOK_RATE_LIMIT=1000000000/s LOG_LEVEL=error \
    "$herald" 2>> "$tmp/herald.log" &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18083/readyz && break; sleep 0.1; done
  local a b
  a=$(curl -fsS "$fake_url/bench/newtoken?name=a&user=$((2000 + run * 2))")
  b=$(curl -fsS "$fake_url/bench/newtoken?name=b&user=$((2001 + run * 2))")
  local before; before=$(kib VmRSS "$pid")
  "$tmp/edge" -a "$a" -b "$b" "$@" > "$tmp/edge.out" &
  local epid=$! peak=0 r
  while kill -0 "$epid" 2>/dev/null; do
    r=$(kib VmRSS "$pid"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.5
  done
  wait "$epid" || true
  echo "== $name: $(sed 's/$/;/' "$tmp/edge.out" | tr '\n' ' ')"
  echo "   herald RSS MiB: before $((before / 1024)), highest sampled $((peak / 1024)), VmHWM $(($(kib VmHWM "$pid") / 1024))"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); herald: $herald"
attack slow -mode slow
attack slow-spread -mode slow -spread
attack headers-1MB -mode headers -header-bytes 1000000
attack headers-30KB -mode headers -header-bytes 30000
