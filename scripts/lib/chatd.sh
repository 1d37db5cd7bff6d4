# Sourced by the load scripts (soak.sh, compare.sh).

# start_chatd BINARY PORT LOG [ADMIN] starts a chatd on 127.0.0.1:PORT, its
# admin listener on ADMIN (host:port; a free port by default), and waits
# until /readyz answers. The caller exports the other PARLEY_* settings.
# Sets CHATD_PID.
start_chatd() {
  local bin=$1 port=$2 log=$3 admin=${4:-127.0.0.1:0}
  PARLEY_ADDR=127.0.0.1:$port PARLEY_ADMIN_ADDR=$admin "$bin" >>"$log" 2>&1 &
  CHATD_PID=$!
  wait_http "http://127.0.0.1:$port/readyz" "$CHATD_PID" && return 0
  echo "chatd on :$port did not become ready; see $log" >&2
  return 1
}

# wait_http URL PID waits up to 30 s for URL to answer with success, and
# fails at once when process PID has exited.
wait_http() {
  for _ in $(seq 150); do
    curl -sf "$1" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# raise_fd_limit lets chatd and chatbench each hold a socket per client.
raise_fd_limit() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || echo "warning: could not raise the open-file limit" >&2
}
