# Sourced by scripts/centrifugo-compare.sh, after scripts/lib/chatd.sh (for
# wait_http). It runs a Centrifugo binary it is given; nothing here builds or
# fetches one.

# start_centrifugo BINARY PORT LOG CHATBENCH starts Centrifugo on
# 127.0.0.1:PORT with the configuration CHATBENCH prints for that address
# (chatbench -centrifugo-config: memory engine, chatbench's API key,
# client.insecure, /health), written next to LOG, and waits until /health
# answers. Sets CENTRIFUGO_PID.
start_centrifugo() {
  local bin=$1 port=$2 log=$3 chatbench=$4
  local conf="${log%.log}-$port.json"
  "$chatbench" -target centrifugo -addr "http://127.0.0.1:$port" -centrifugo-config >"$conf"
  "$bin" --config "$conf" >>"$log" 2>&1 &
  CENTRIFUGO_PID=$!
  wait_http "http://127.0.0.1:$port/health" "$CENTRIFUGO_PID" && return 0
  echo "centrifugo on :$port did not become ready; see $log" >&2
  return 1
}
