# Sourced by the load scripts (compare.sh): a Redis Cluster of their own,
# three masters and no replicas on loopback ports, from Debian's
# redis-server and redis-cli.

# start_redis_cluster DIR PORT PORT PORT starts one redis-server per port
# (its cluster bus on port+10000), data and logs in DIR, joins them with
# redis-cli --cluster create and waits until every node says
# cluster_state:ok. Sets REDIS_CLUSTER_PIDS and REDIS_CLUSTER_URL, the
# PARLEY_REDIS_URL that names all three.
start_redis_cluster() {
  local dir=$1 port nodes=()
  shift
  REDIS_CLUSTER_PIDS=()
  mkdir -p "$dir"
  for port in "$@"; do
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$dir/nodes-$port.conf" --dir "$dir" --save "" --appendonly no \
      --logfile "$dir/redis-$port.log" &
    REDIS_CLUSTER_PIDS+=("$!")
    nodes+=("127.0.0.1:$port")
  done
  for port in "$@"; do
    wait_redis "$port" PONG redis-cli -p "$port" ping || return 1
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
    { echo "redis-cli --cluster create failed; see $dir/create.log" >&2; return 1; }
  for port in "$@"; do
    wait_redis "$port" cluster_state:ok redis-cli -p "$port" cluster info || return 1
  done
  REDIS_CLUSTER_URL="redis://${nodes[0]}?addr=${nodes[1]}&addr=${nodes[2]}"
}

# wait_redis PORT WORD COMMAND... runs COMMAND until its output has WORD,
# for up to 30 s.
wait_redis() {
  local port=$1 word=$2 answer
  shift 2
  for _ in $(seq 300); do
    answer=$("$@" 2>/dev/null) && [[ $answer == *"$word"* ]] && return 0
    sleep 0.1
  done
  echo "redis-server on :$port never answered $word; see its log" >&2
  return 1
}

# stop_redis_cluster stops what start_redis_cluster started.
stop_redis_cluster() {
  [ ${#REDIS_CLUSTER_PIDS[@]} -gt 0 ] || return 0
  kill "${REDIS_CLUSTER_PIDS[@]}" 2>/dev/null || true
  wait "${REDIS_CLUSTER_PIDS[@]}" 2>/dev/null || true
  REDIS_CLUSTER_PIDS=()
}
