#!/usr/bin/env bash
# Soak run (not part of CI): one chatd under steady mixed traffic for
# SOAK_DURATION, sampling its memory, goroutines and open files every
# SOAK_EVERY, to show they stay flat. Needs MariaDB and Redis on 127.0.0.1.
#
#   SOAK_DURATION=1h SOAK_RATE=1500 ./scripts/soak.sh
#
# The rate defaults to half of the measured 100-room capacity
# (docs/PERFORMANCE.md). Samples go to stdout as a table and to
# $SOAK_OUT (default soak-<time>.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${SOAK_DURATION:-1h}
every=${SOAK_EVERY:-60}
rate=${SOAK_RATE:-1500}
clients=${SOAK_CLIENTS:-2000}
rooms=${SOAK_ROOMS:-100}
everywhere=${SOAK_EVERYWHERE:-16} # members of every room, as bots and moderators are
port=${SOAK_PORT:-18090}
out=${SOAK_OUT:-soak-$(date +%Y%m%d-%H%M%S).tsv}

echo "==> building chatd and chatbench"
go build -o bin/chatd ./cmd/chatd
go build -o bin/chatbench ./cmd/chatbench

. scripts/lib/chatd.sh
raise_fd_limit
echo "==> starting chatd on :$port (database parley_soak, Redis prefix soak:)"
export PARLEY_MYSQL_DSN='root@tcp(127.0.0.1:3306)/parley_soak?parseTime=true' PARLEY_REDIS_PREFIX=soak: \
  PARLEY_LIMIT_SEND=100000/100s PARLEY_LIMIT_CALLS=100000/100s PARLEY_LIMIT_CREATE_ROOM=100000/100s PARLEY_MAX_CONNS_PER_IP=100000
trap 'kill ${CHATD_PID:-} ${sampler:-} 2>/dev/null || true' EXIT
start_chatd bin/chatd "$port" "$out.chatd.log"
# The admin listener took a free port; its log line says which.
admin=$(sed -n 's/.*"msg":"admin endpoints are listening","addr":"\([^"]*\)".*/\1/p' "$out.chatd.log" | head -n 1)
[ -n "$admin" ] || { echo "chatd logged no admin address" >&2; exit 1; }

sample() {
  printf 'time\trss_kb\tgoroutines\topen_fds\tconnections\n'
  while kill -0 "$CHATD_PID" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$CHATD_PID/status")
    fds=$(ls "/proc/$CHATD_PID/fd" | wc -l)
    metrics=$(curl -sf "http://$admin/metrics" || true)
    gor=$(awk '/^go_goroutines / {print $2}' <<<"$metrics")
    conns=$(awk '/^parley_live_connections / {print $2}' <<<"$metrics")
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date +%H:%M:%S)" "$rss" "$gor" "$fds" "$conns"
    sleep "$every"
  done
}
sample | tee "$out" &
sampler=$!

echo "==> $clients clients in $rooms rooms and $everywhere in every room, $rate sends/s for $duration"
bin/chatbench -addr "http://127.0.0.1:$port" -clients "$clients" -rooms "$rooms" -everywhere "$everywhere" -senders 200 \
  -rate "$rate" -duration "$duration" -pid "$CHATD_PID" -prefix soak -progress=false
echo "==> samples in $out"
