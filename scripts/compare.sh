#!/usr/bin/env bash
# Side-by-side load run (not part of CI): chatd built at BASE and chatd
# built from the working tree take turns on each reference scenario of
# docs/PERFORMANCE.md, driven by the same chatbench, so that both face the
# same machine at about the same time. Needs MariaDB and Redis on
# 127.0.0.1, and jq. The cluster3 scenario starts a Redis Cluster of its own
# (redis-server and redis-cli, ports 17001-17003 and 27001-27003).
#
#   ./scripts/compare.sh 33537c1
#   SCENARIOS="max100 room1000" REPEAT=3 ./scripts/compare.sh HEAD~5
#   EVERYWHERE=0 ./scripts/compare.sh HEAD~5   # without members of every room
#   PROTOCOL=batch.proto ./scripts/compare.sh HEAD~5   # server frames in protobuf batches
#   CLIENT=fast ./scripts/compare.sh HEAD~5     # chatbench's cheap byte-scanning reader
#   SCENARIOS=senders50 EXTRA="-rate 1000" ./scripts/compare.sh HEAD~5   # flags after the scenario's
#
# CLIENT is chatbench's -client for every run: generic by default (every
# frame decoded in full, as a browser or a bot does), as the reference
# figures are taken. PROTOCOL is its -protocol: json by default (no
# subprotocol). A chatd at BASE that knows no subprotocol answers json
# whatever PROTOCOL asks: "protocols" in each run's JSON file says what was
# in effect.
#
# Results go to $COMPARE_OUT (default compare-<time>/): one chatbench -json
# file per run, and summary.tsv with the figure each scenario is judged by.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: compare.sh BASE-REVISION}
scenarios=${SCENARIOS:-idle r500 max100 room1000 senders50 two cluster3}
repeat=${REPEAT:-1}
client=${CLIENT:-generic}
protocol=${PROTOCOL:-json}
out=${COMPARE_OUT:-compare-$(date +%Y%m%d-%H%M%S)}
command -v jq >/dev/null || { echo "compare.sh needs jq (apt-get install jq)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "==> building chatd at $base, chatd from the working tree, and chatbench"
src=$(mktemp -d)
git worktree add --detach -q "$src" "$base"
trap 'git worktree remove --force "$src"' EXIT
(cd "$src" && go build -o "$out/chatd-base" ./cmd/chatd)
go build -o "$out/chatd-new" ./cmd/chatd
go build -o "$out/chatbench" ./cmd/chatbench

. scripts/lib/chatd.sh
. scripts/lib/rediscluster.sh
raise_fd_limit
# One Redis Cluster for every cluster3 run, so its sessions (and chatbench's
# cached tokens for them) live from run to run.
if [[ " $scenarios " == *" cluster3 "* ]]; then
  echo "==> starting a three-master Redis Cluster on 127.0.0.1:17001-17003"
  start_redis_cluster "$out/redis-cluster" 17001 17002 17003
  trap 'stop_redis_cluster; git worktree remove --force "$src"' EXIT
fi
# One database and Redis prefix for every run, so chatbench registers the
# users once and later runs reuse their cached tokens. The limits are
# raised because a load test exceeds them by design.
export PARLEY_MYSQL_DSN='root@tcp(127.0.0.1:3306)/parley_bench?parseTime=true' \
  PARLEY_REDIS_PREFIX=parley_bench: PARLEY_LOG_LEVEL=warn PARLEY_MAX_CONNS_PER_USER=50 PARLEY_MAX_CONNS_PER_IP=100000 \
  PARLEY_LIMIT_SEND=100000/100s PARLEY_LIMIT_CALLS=100000/100s PARLEY_LIMIT_CREATE_ROOM=100000/100s \
  PARLEY_LIMIT_LOGIN_IP=100000/100s PARLEY_LIMIT_LOGIN_ACCOUNT=100000/100s

# args SCENARIO prints chatbench's flags for it (the servers come apart).
# The layouts of many rooms have members of every room too, as bots and
# moderators are: each of them gets every message, so they are the first
# to fall behind. In one room every member is such a member already.
args() {
  local everywhere="-everywhere ${EVERYWHERE:-16}"
  case $1 in
    idle) echo "-clients 5000 -rooms 100 -senders 0 -duration 10s -settle 5s $everywhere" ;;
    r500) echo "-clients 5000 -rooms 100 -senders 100 -rate 500 -duration 30s $everywhere" ;;
    max100 | two) echo "-clients 5000 -rooms 100 -senders 100 -duration 25s $everywhere" ;;
    room1000) echo "-clients 1000 -rooms 1 -senders 20 -duration 20s -prefix r1k" ;;
    senders50) echo "-clients 50 -rooms 1 -senders 50 -duration 20s -prefix s5" ;;
    cluster3) echo "-clients 6000 -rooms 300 -senders 100 -duration 25s -prefix c3 $everywhere" ;;
    *) echo "unknown scenario $1" >&2; return 1 ;;
  esac
}

# figure SCENARIO FILE prints what the scenario is judged by, and the
# correctness counts, for every client and for the members of every room
# apart.
figure() {
  local judged
  case $1 in
    idle) judged='"\(.processes | map(select(.name == "chatd")) | .[0].rss_per_conn_kb | floor) KB/conn"' ;;
    r500) judged='"p99 \(.deliveries.end_to_end.p99_ms) ms"' ;;
    senders50) judged='"\(.sends.per_s | floor) sends/s"' ;;
    *) judged='"\(.deliveries.per_s | floor) deliveries/s"' ;;
  esac
  local everywhere='if .everywhere then "every room: \(.everywhere.delivered)/\(.everywhere.expected) delivered, gaps \(.everywhere.gaps) dups \(.everywhere.duplicates) errors \(.everywhere.errors)" else empty end'
  jq -r "[$judged, \"gaps \\(.gaps) dups \\(.duplicates) errors \\(.errors)\", ($everywhere)] | join(\", \")" "$2"
}

# bus_share ADMIN... prints what each chatd (by admin address) received
# from the event bus, as a share of everything the processes published: in
# the single-channel design every process receives all of it.
bus_share() {
  local a metrics published=0 received=()
  for a in "$@"; do
    metrics=$(curl -sf "http://$a/metrics") || { echo "no metrics from $a"; return; }
    received+=("$(awk '$1 == "parley_bus_received_bytes_total" {print $2}' <<<"$metrics")")
    published=$(awk -v sum="$published" '$1 == "parley_bus_published_bytes_total" {print sum + $2}' <<<"$metrics")
  done
  printf 'bus input per process'
  for r in "${received[@]}"; do awk -v r="$r" -v p="$published" 'BEGIN {printf " %.0f %%", 100 * r / p}'; done
  awk -v p="$published" 'BEGIN {printf " of %.1f MB published\n", p / 1e6}'
}

# run LABEL SCENARIO N starts chatd-LABEL (two of them for "two"), runs
# chatbench and stops them again. cluster3 compares one process of the base
# on one Redis (its reference) with three of the new on the Redis Cluster.
run() {
  local label=$1 scenario=$2 n=$3 pids=() addrs=() admins=() tokens=() procs=1
  case $scenario in
    two) procs=2 ;;
    cluster3) [ "$label" = new ] && procs=3 ;;
  esac
  if [ "$scenario" = cluster3 ] && [ "$label" = new ]; then
    export PARLEY_REDIS_URL=$REDIS_CLUSTER_URL
    tokens=(-tokens "$out/chatbench-c3-cluster.json") # its sessions live in the cluster
  fi
  for i in $(seq 0 $((procs - 1))); do
    admins+=("127.0.0.1:$((19180 + i))")
    start_chatd "$out/chatd-$label" $((18180 + i)) "$out/chatd-$label.log" "${admins[i]}"
    pids+=("$CHATD_PID")
    addrs+=("http://127.0.0.1:$((18180 + i))")
  done
  unset PARLEY_REDIS_URL
  local file="$out/$scenario-$label-$n.json" bus=""
  "$out/chatbench" $(args "$scenario") ${EXTRA:-} -client "$client" -protocol "$protocol" "${tokens[@]}" -addr "$(IFS=,; echo "${addrs[*]}")" -json -progress=false >"$file" 2>>"$out/chatbench.log" || true
  [ "$scenario" = cluster3 ] && [ "$label" = new ] && bus=", $(bus_share "${admins[@]}")"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  local result="chatbench failed: see $out/chatbench.log"
  [ -s "$file" ] && result=$(figure "$scenario" "$file")$bus
  printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$label" "$n" "$(cut -d' ' -f1 /proc/loadavg)" "$result" | tee -a "$out/summary.tsv"
}

printf 'scenario\tchatd\trun\tload\tresult\n' | tee "$out/summary.tsv"
for scenario in $scenarios; do
  args "$scenario" >/dev/null
  for n in $(seq "$repeat"); do
    echo "==> $scenario, run $n of $repeat: $base, then the working tree" >&2
    run base "$scenario" "$n"
    run new "$scenario" "$n"
  done
done
echo "==> results in $out"
