#!/usr/bin/env bash
# bench/ingest.sh — the ingest benchmark of docs/benchmarks.md ("Ingest").
#
# Interleaved over ROUNDS rounds, each server in turn under the shared kit's
# load (../shared/bench/load.sh: wrk, 2 threads, 64 connections, 10 s, the
# 1 KiB body):
#   herald-pg      herald as users run it (workers on, no LLM key), on PostgreSQL
#   herald-sqlite  the same on the embedded SQLite default (WAL, synchronous=FULL)
#   pgsrv          the durable reference: group commit, 202 after the commit
#   plain          no storage: the ceiling of net/http on this machine
# Herald talks to the Bot API fake (bench/fakebot, with Telegram's flood
# limits); its webhook is created through the bot (/newtoken) and its rate
# limit raised for the run. After each herald run the stored events are
# counted against the 202s herald sent (its /metrics) and those the client
# saw: none that got 202 may be missing.
#
# Prints one line per run (with the CPU PostgreSQL spent per request and the
# cores left idle), then a table of medians with herald's ratios to
# pgsrv and plain. Not a test: numbers depend on the machine and its load.
#
# Needs: go, wrk, curl, psql, sqlite3, and a PostgreSQL it may create
# databases in (BENCH_PG, an admin URL). Knobs: ROUNDS=3, DURATION=10s,
# BENCH_KIT (default <repo>/../shared/bench), BENCH_PG, SERVERS (default
# "herald-pg herald-sqlite pgsrv plain"; the table needs pgsrv and plain).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kit=${BENCH_KIT:-$root/../shared/bench}
ROUNDS=${ROUNDS:-3}
export DURATION=${DURATION:-10s}
pg_admin=${BENCH_PG:-postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable}
pg_base=${pg_admin%%\?*}
pg_base=${pg_base%/*}
pg_query=${pg_admin#"${pg_admin%%\?*}"}
body=$kit/body-1k.json

for tool in go wrk curl psql sqlite3; do
  command -v "$tool" >/dev/null || { echo "ingest.sh: $tool not found" >&2; exit 2; }
done
[ -x "$kit/load.sh" ] || { echo "ingest.sh: benchmark kit not found at $kit" >&2; exit 2; }

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

echo "building herald, the Bot API fake and the reference servers…" >&2
(cd "$root" && go build -o "$tmp/herald" . && go build -o "$tmp/fakebot" ./bench/fakebot)
(cd "$kit/ref" && go build -o "$tmp/ref/" ./...)

"$tmp/fakebot" -addr 127.0.0.1:18090 > "$tmp/fakebot.out" 2> "$tmp/fakebot.log" &
pids+=($!)
for _ in $(seq 50); do grep -q '^url=' "$tmp/fakebot.out" && break; sleep 0.1; done
read -r fake_url fake_token < <(sed -E 's/^url=([^ ]+) token=(.*)$/\1 \2/' "$tmp/fakebot.out")

psql -q "$pg_admin" -c 'DROP DATABASE IF EXISTS herald_bench_ref' -c 'CREATE DATABASE herald_bench_ref' >/dev/null

# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# peak_rss PID: the process's peak resident set, in KiB.
peak_rss() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
# pg_ticks: CPU time of every PostgreSQL process (the database's share of
# the work), in clock ticks.
pg_ticks() {
  local t=0 p
  for p in $(pgrep -u postgres 2>/dev/null); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done
  echo "$t"
}
# idle_ticks: the machine's idle time over all cores, in clock ticks.
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }

wait_http() {
  for _ in $(seq 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "ingest.sh: $1 did not come up" >&2; return 1
}

results=$tmp/results
: > "$results"

# measure NAME ROUND PID URL: load one server, record a line.
measure() {
  local name=$1 round=$2 pid=$3 url=$4 c0 c1 line p0 p1 i0 i1
  c0=$(cpu_ticks "$pid") p0=$(pg_ticks) i0=$(idle_ticks)
  line=$("$kit/load.sh" "$url" "$body")
  c1=$(cpu_ticks "$pid") p1=$(pg_ticks) i1=$(idle_ticks)
  local rss; rss=$(peak_rss "$pid")
  # status= rps= p50_ms= p99_ms= requests= non2xx= sockerr=
  echo "$line" | awk -v n="$name" -v r="$round" -v rss="$rss" -v dc="$((c1 - c0))" -v dp="$((p1 - p0))" -v di="$((i1 - i0))" -v hz="$hz" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    cpu = dc * 1e6 / hz / (v["requests"] + 1)
    dbcpu = dp * 1e6 / hz / (v["requests"] + 1)
    idle = v["rps"] > 0 ? di / hz / (v["requests"] / v["rps"]) : 0
    printf "%s %s %s %s %s %s %s %s %d %.1f %s %.1f %.2f\n", r, n, v["rps"], v["p50_ms"], v["p99_ms"], v["requests"],
      v["non2xx"], v["sockerr"], rss, cpu, v["status"], dbcpu, idle
  }' | tee -a "$results" | awk '{printf "round %s %-14s rps=%s p50=%sms p99=%sms requests=%s non2xx=%s sockerr=%s rss=%dKiB cpu=%sus/req db_cpu=%sus/req idle_cores=%s probe=%s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $11}'
}

# herald_run DB ROUND: start herald on DB ("pg" or "sqlite"), make a webhook
# through the bot, load it, count what was stored, stop it.
herald_run() {
  local db=$1 round=$2 dburl count
  if [ "$db" = pg ]; then
    psql -q "$pg_admin" -c 'DROP DATABASE IF EXISTS herald_bench' -c 'CREATE DATABASE herald_bench' >/dev/null
    dburl="$pg_base/herald_bench$pg_query"
  else
    dburl="sqlite:$tmp/herald-$round.db"
  fi
  TELEGRAM_BOT_TOKEN=$fake_token TELEGRAM_API_URL=$fake_url DATABASE_URL=$dburl \
    LISTEN_ADDR=127.0.0.1:18082 PUBLIC_URL=http://127.0.0.1:18082 HOOK_RATE_LIMIT=1000000000/s LOG_LEVEL=warn \
    "$tmp/herald" 2>> "$tmp/herald-$db.log" &
  local pid=$!
  pids+=($pid)
  wait_http http://127.0.0.1:18082/readyz
  local hook
  hook=$(curl -fsS "$fake_url/bench/newtoken?name=bench&user=$((1000 + round * 10 + ${#db}))")
  measure "herald-$db" "$round" "$pid" "$hook"
  if [ "$db" = pg ]; then
    count=$(psql -tA "$pg_base/herald_bench$pg_query" -c 'SELECT COUNT(*) FROM events')
  else
    count=$(sqlite3 "$tmp/herald-$round.db" 'SELECT COUNT(*) FROM events')
  fi
  local accepted client
  accepted=$(curl -fsS http://127.0.0.1:18082/metrics | awk '/^herald_events_accepted_total / {printf "%d", $2}')
  client=$(tail -1 "$results" | awk '{print $6 - $7 + ($11 == 202 ? 1 : 0)}')
  echo "         stored events=$count, 202s sent (herald's metrics)=$accepted, 202s received by the client=$client," \
    "missing=$((client > count ? client - count : 0))"
  echo "$round herald-$db $count $accepted $client" >> "$tmp/counts"
  kill -TERM "$pid"
  wait "$pid" || true
}

ref_run() {
  local name=$1 round=$2 pid
  if [ "$name" = pgsrv ]; then
    "$tmp/ref/pgsrv" -addr 127.0.0.1:18081 -mode=batch -dsn "$pg_base/herald_bench_ref$pg_query" 2>> "$tmp/pgsrv.log" &
    pid=$!
  else
    "$tmp/ref/plain" -addr 127.0.0.1:18081 2>> "$tmp/plain.log" &
    pid=$!
  fi
  pids+=($pid)
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18081/ && break; sleep 0.1; done
  measure "$name" "$round" "$pid" http://127.0.0.1:18081/
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  echo "round $round (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for s in ${SERVERS:-herald-pg herald-sqlite pgsrv plain}; do
    case $s in
      herald-*) herald_run "${s#herald-}" "$round" ;;
      *) ref_run "$s" "$round" ;;
    esac
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per server (non-202 summed, RSS the highest), then the table.
awk -v rounds="$ROUNDS" '
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { byRound[$1, $2] = $3; rps[$2] = rps[$2] " " $3; p50[$2] = p50[$2] " " $4; p99[$2] = p99[$2] " " $5; cpu[$2] = cpu[$2] " " $10
    dbcpu[$2] = dbcpu[$2] " " $12
    bad[$2] += $7 + $8 + ($11 == 202 ? 0 : 1); if ($9 > rss[$2]) rss[$2] = $9 }
  END {
    split("herald-pg herald-sqlite pgsrv plain", order, " ")
    pg = median(rps["pgsrv"]); pl = median(rps["plain"]); pg99 = median(p99["pgsrv"])
    printf "\n| server | req/s | p50 ms | p99 ms | non-202 | peak RSS MiB | CPU µs/req | PostgreSQL CPU µs/req | req/s vs pgsrv | vs plain | p99 vs pgsrv |\n"
    printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    for (i = 1; i <= 4; i++) {
      s = order[i]; r = median(rps[s])
      printf "| %s | %.0f | %.2f | %.1f | %d | %.0f | %.0f | %.0f | %.2f× | %.2f× | %.2f× |\n", s, r, median(p50[s]), median(p99[s]),
        bad[s], rss[s] / 1024, median(cpu[s]), median(dbcpu[s]), r / pg, r / pl, median(p99[s]) / pg99
    }
    printf "\nmedian of %d interleaved rounds of %s each\n", rounds, ENVIRON["DURATION"]
    # The load of a shared machine drifts within a run: the ratio within
    # each round, to the pgsrv run next to it, is the steadier figure.
    for (i = 1; i <= 2; i++) {
      s = order[i]; line = ""; all = ""
      for (r = 1; r <= rounds; r++) if ((r, s) in byRound && (r, "pgsrv") in byRound) {
        x = byRound[r, s] / byRound[r, "pgsrv"]; line = line sprintf(" %.2f×", x); all = all " " x
      }
      if (all != "") printf "%s req/s vs pgsrv by round:%s (median %.2f×)\n", s, line, median(all)
    }
  }' "$results"
echo
awk '{ if ($5 > $3) { bad = 1; print "MISSING: " $2 " round " $1 ": " $5 " answered 202, " $3 " stored" } }
  END { if (!bad) print "every event answered 202 is stored (all herald runs)" }' "$tmp/counts"
