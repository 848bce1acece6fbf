#!/usr/bin/env bash
# bench/delivery.sh [POSTGRES_URL] — the delivery benchmarks of
# docs/benchmarks.md ("Delivery"), on SQLite and, given a PostgreSQL URL (or
# TEST_DATABASE_URL), on PostgreSQL: a fresh schema is made in that database
# for each run and dropped after. About 15 minutes per backend. Prints what it
# measures; judges nothing. The machine is shared: note the load it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/delivery
go build -o "$bin" ./bench/delivery
pg=${1:-${TEST_DATABASE_URL:-}}
for db in sqlite ${pg:+"$pg"}; do
  echo "== $( [ "$db" = sqlite ] && echo SQLite || echo PostgreSQL ) — $(uptime)"
  # Latency: 50 events/s over 50 private chats for 60 s, instant LLM, Herald's
  # pacing off (50/s is over Telegram's 30/s for one bot).
  "$bin" -db "$db" -mode latency
  # The same within Telegram's limits: 25 events/s, pacing on, the fake enforcing.
  "$bin" -db "$db" -mode latency -rate 25 -limits default -fake-limits
  # Drain: 5,000 events queued over 100 groups, the fake enforcing the limits.
  "$bin" -db "$db" -mode drain
  "$bin" -db "$db" -mode drain -fold
  # Scale: 100,000 events queued; Herald's memory while it works through them.
  "$bin" -db "$db" -mode scale -fold
  "$bin" -db "$db" -mode scale
done
