#!/usr/bin/env bash
# Parley against Centrifugo (not part of CI): chatd built from the working
# tree and a Centrifugo v6 binary you provide take turns on each scenario
# of issue 14, driven by the same chatbench as a generic client (for Parley
# -client generic reads every frame in full and -send-json sends JSON;
# -target centrifugo always does both), so both face
# the same client on the same machine at about the same time. Centrifugo
# runs with its memory engine and the configuration chatbench prints
# (chatbench -target centrifugo -centrifugo-config). This script never
# builds or fetches Centrifugo. Needs MariaDB and Redis on 127.0.0.1 for
# chatd, and jq.
#
#   CENTRIFUGO_BIN=/path/to/centrifugo ./scripts/centrifugo-compare.sh
#   SCENARIOS="room16 room64" REPEAT=2 CENTRIFUGO_BIN=... ./scripts/centrifugo-compare.sh
#   SCENARIOS=quick CENTRIFUGO_BIN=... ./scripts/centrifugo-compare.sh   # 10 s, to see that it works
#   PROTOCOL=json CENTRIFUGO_BIN=... ./scripts/centrifugo-compare.sh    # Parley's frames one per message
#
# Parley's clients ask for parley.v1.batch.json by default (PROTOCOL is
# chatbench's -protocol): JSON with the frames that wait packed into one
# message, as Centrifugo packs its pushes.
#
# Results go to $COMPARE_OUT (default compare-centrifugo-<time>/): one
# chatbench -json file per run, and summary.tsv with each run's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
centrifugo=${CENTRIFUGO_BIN:?set CENTRIFUGO_BIN to a Centrifugo v6 binary (this script never builds or fetches one)}
scenarios=${SCENARIOS:-idle r500 max16 max64 room16 room64}
repeat=${REPEAT:-1}
out=${COMPARE_OUT:-compare-centrifugo-$(date +%Y%m%d-%H%M%S)}
command -v jq >/dev/null || { echo "centrifugo-compare.sh needs jq (apt-get install jq)" >&2; exit 1; }
[ -x "$centrifugo" ] || { echo "CENTRIFUGO_BIN=$centrifugo is not an executable" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "==> building chatd and chatbench from the working tree"
go build -o "$out/chatd" ./cmd/chatd
go build -o "$out/chatbench" ./cmd/chatbench

. scripts/lib/chatd.sh
. scripts/lib/centrifugo.sh
raise_fd_limit
# chatd as scripts/compare.sh runs it: one database and Redis prefix for
# every run, so users are registered once, and the limits a load test
# exceeds by design raised. Centrifugo has no such limits by default.
export PARLEY_MYSQL_DSN='root@tcp(127.0.0.1:3306)/parley_bench?parseTime=true' \
  PARLEY_REDIS_PREFIX=parley_bench: PARLEY_LOG_LEVEL=warn PARLEY_MAX_CONNS_PER_USER=50 PARLEY_MAX_CONNS_PER_IP=100000 \
  PARLEY_LIMIT_SEND=100000/100s PARLEY_LIMIT_CALLS=100000/100s PARLEY_LIMIT_CREATE_ROOM=100000/100s \
  PARLEY_LIMIT_LOGIN_IP=100000/100s PARLEY_LIMIT_LOGIN_ACCOUNT=100000/100s
parley_port=18280 centrifugo_port=18281

# args SCENARIO prints chatbench's flags for it, the same for both servers.
# The layouts of many rooms have members of every room, as bots and
# moderators are; in one room every member is one already.
args() {
  local everywhere="-everywhere ${EVERYWHERE:-16}"
  case $1 in
    idle) echo "-clients 5000 -rooms 100 -senders 0 -duration 10s -settle 5s $everywhere" ;;
    r500) echo "-clients 5000 -rooms 100 -senders 100 -rate 500 -duration 30s $everywhere" ;;
    max16) echo "-clients 5000 -rooms 100 -senders 16 -duration 25s $everywhere" ;;
    max64) echo "-clients 5000 -rooms 100 -senders 64 -duration 25s $everywhere" ;;
    room16) echo "-clients 1000 -rooms 1 -senders 16 -duration 20s -prefix r1k" ;;
    room64) echo "-clients 1000 -rooms 1 -senders 64 -duration 20s -prefix r1k" ;;
    quick) echo "-clients 1000 -rooms 10 -senders 4 -duration 10s -prefix q" ;;
    *) echo "unknown scenario $1" >&2; return 1 ;;
  esac
}

# figures FILE prints a run's figures: throughput, latency, the server's
# memory and CPU, messages per delivery, and the correctness counts.
figures() {
  jq -r '(.processes | map(select(.name == "chatd" or .name == "centrifugo")) | .[0]) as $s | [
    "\(.deliveries.per_s | floor) deliveries/s", "\(.sends.per_s | floor) sends/s",
    "send→deliver p50 \(.deliveries.end_to_end.p50_ms) p99 \(.deliveries.end_to_end.p99_ms) ms",
    "send p50 \(.sends.latency.p50_ms) p99 \(.sends.latency.p99_ms) ms",
    "server \($s.rss_per_conn_kb // 0 | floor) KB/conn, CPU \($s.cpu_send_pct | floor)%",
    "\(.deliveries.frames) WebSocket messages",
    "gaps \(.gaps) dups \(.duplicates) errors \(.errors)",
    (if .everywhere then "every room: \(.everywhere.delivered)/\(.everywhere.expected) delivered" else empty end)
  ] | join(", ")' "$1"
}

# run SERVER SCENARIO N starts the server, runs chatbench against it and
# stops it again.
run() {
  local server=$1 scenario=$2 n=$3 pid port flags
  case $server in
    parley)
      port=$parley_port flags="-client generic -send-json -protocol ${PROTOCOL:-batch.json}"
      start_chatd "$out/chatd" "$port" "$out/chatd.log"; pid=$CHATD_PID ;;
    centrifugo)
      port=$centrifugo_port flags="-target centrifugo"
      start_centrifugo "$centrifugo" "$port" "$out/centrifugo.log" "$out/chatbench"; pid=$CENTRIFUGO_PID ;;
  esac
  local file="$out/$scenario-$server-$n.json"
  "$out/chatbench" $(args "$scenario") $flags -addr "http://127.0.0.1:$port" -json -progress=false >"$file" 2>>"$out/chatbench.log" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local result="chatbench failed: see $out/chatbench.log"
  [ -s "$file" ] && result=$(figures "$file")
  printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$server" "$n" "$(cut -d' ' -f1 /proc/loadavg)" "$result" | tee -a "$out/summary.tsv"
}

printf 'scenario\tserver\trun\tload\tresult\n' | tee "$out/summary.tsv"
for scenario in $scenarios; do
  args "$scenario" >/dev/null
  for n in $(seq "$repeat"); do
    echo "==> $scenario, run $n of $repeat: Parley, then Centrifugo" >&2
    run parley "$scenario" "$n"
    run centrifugo "$scenario" "$n"
  done
done
echo "==> results in $out"
