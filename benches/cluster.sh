#!/usr/bin/env bash
# Cluster mode, side by side with redis-server 7.0 in one run: aggregate throughput of one node
# and of three nodes (one shard each for redis-lite), driven by
# `redis-benchmark --cluster -t set,get -r 100000 --threads 2` (without --cluster for one node,
# which redis-benchmark's cluster mode refuses), with the servers' CPU per request.
#
#   benches/cluster.sh              100k requests per test and setup (~1-2 minutes plus the build)
#   benches/cluster.sh --quick      20k requests per test and setup (< 1 minute)
#   benches/cluster.sh --clients 100 --requests 500000
#
# Script-only option: --no-build (use target/release/redis-lite as it is).
# On a 2-core machine the nodes and the load generator share the cores, so this is a functional
# scale test (does routing across nodes cost anything, does it keep working); the per-node
# scaling figure needs a host with a core per node. Prints a markdown table and writes
# benches/results/cluster-<date>.md.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"
command -v redis-cli >/dev/null || { echo "cluster.sh: redis-cli not found (apt-get install redis-tools)" >&2; exit 1; }

requests=100000
clients=50
quick=0
set -- "${args[@]+"${args[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; requests=20000 ;;
    --requests) requests="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ $build == 1 ]]; then
  echo "cluster.sh: cargo build --release --bin redis-lite" >&2
  cargo build --release --bin redis-lite >&2
fi
ours="$root/target/release/redis-lite"

tmp="$(mktemp -d -t redis-lite-cluster.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Free loopback ports: ask the kernel, one at a time.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ping() {
  for _ in $(seq 200); do
    redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "cluster.sh: server on port $1 did not answer" >&2
  exit 1
}

wait_cluster_ok() {
  for _ in $(seq 300); do
    if redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then return 0; fi
    sleep 0.1
  done
  echo "cluster.sh: cluster on port $1 never reached cluster_state:ok" >&2
  exit 1
}

# Starts N redis-lite nodes (one shard each) with a static map; sets $ports and $setpids.
start_ours() {
  local n=$1 dir="$tmp/ours$1" i a b
  mkdir -p "$dir"
  ports=(); setpids=()
  for ((i = 0; i < n; i++)); do ports+=("$(free_port)"); done
  : > "$dir/map"
  for ((i = 0; i < n; i++)); do
    a=$((16384 * i / n)); b=$((16384 * (i + 1) / n - 1))
    echo "n$i 127.0.0.1:${ports[$i]} $a-$b" >> "$dir/map"
  done
  for ((i = 0; i < n; i++)); do
    mkdir -p "$dir/n$i"
    (cd "$dir/n$i" && exec "$ours" --port "${ports[$i]}" --shards 1 --unpinned yes --save "" \
      --cluster-config "$dir/map" --cluster-node-id "n$i" >log 2>&1) &
    pids+=($!); setpids+=($!)
  done
  for p in "${ports[@]}"; do wait_ping "$p"; done
}

# Starts N redis-server nodes in cluster mode and assigns the slots the same way.
start_redis() {
  local n=$1 dir="$tmp/redis$1" i a b
  mkdir -p "$dir"
  ports=(); setpids=()
  for ((i = 0; i < n; i++)); do ports+=("$(free_port)"); done
  for ((i = 0; i < n; i++)); do
    mkdir -p "$dir/n$i"
    redis-server --port "${ports[$i]}" --bind 127.0.0.1 --dir "$dir/n$i" --save "" \
      --appendonly no --cluster-enabled yes --cluster-config-file nodes.conf \
      --daemonize no --logfile "$dir/n$i/log" &
    pids+=($!); setpids+=($!)
  done
  for p in "${ports[@]}"; do wait_ping "$p"; done
  for ((i = 0; i < n; i++)); do
    a=$((16384 * i / n)); b=$((16384 * (i + 1) / n - 1))
    redis-cli -h 127.0.0.1 -p "${ports[$i]}" cluster addslotsrange "$a" "$b" >/dev/null
    [[ $i -gt 0 ]] && redis-cli -h 127.0.0.1 -p "${ports[$i]}" cluster meet 127.0.0.1 "${ports[0]}" >/dev/null
  done
  for p in "${ports[@]}"; do wait_cluster_ok "$p"; done
}

cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}

stop_set() {
  local p
  for p in "${setpids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${setpids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
}

hz=$(getconf CLK_TCK)
rows=()
# One setup: start, run redis-benchmark --cluster, read rps per test and CPU per request.
run_setup() {
  local server=$1 nodes=$2 out before after
  "start_$server" "$nodes"
  before=$(cpu_ticks "${setpids[@]}")
  # redis-benchmark's --cluster mode wants at least 3 masters; one node owns every slot, so
  # the plain mode sends it the same requests.
  local mode=(--cluster)
  [[ $nodes -lt 3 ]] && mode=()
  out=$(timeout 600 redis-benchmark "${mode[@]+"${mode[@]}"}" -h 127.0.0.1 -p "${ports[0]}" \
    -t set,get -r 100000 -n "$requests" -c "$clients" --threads 2 -q 2>&1 | tr '\r' '\n') || {
    echo "cluster.sh: redis-benchmark failed against $server x$nodes: $out" >&2
    exit 1
  }
  after=$(cpu_ticks "${setpids[@]}")
  stop_set
  if grep -qi error <<<"$out"; then
    echo "cluster.sh: redis-benchmark reported errors against $server x$nodes:" >&2
    echo "$out" >&2
    exit 1
  fi
  local set get
  set=$(awk '/^SET:/ {print $2}' <<<"$out" | tail -1)
  get=$(awk '/^GET:/ {print $2}' <<<"$out" | tail -1)
  # CPU per request in microseconds, over both tests.
  local us
  us=$(awk -v t=$((after - before)) -v hz="$hz" -v n=$((2 * requests)) 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  rows+=("$server|$nodes|$set|$get|$us")
  echo "cluster.sh: $server x$nodes: SET $set rps, GET $get rps, $us us CPU/request" >&2
}

run_setup ours 1
run_setup ours 3
run_setup redis 1
run_setup redis 3

get_field() {  # server nodes column
  local r
  for r in "${rows[@]}"; do
    IFS='|' read -r s n set get us <<<"$r"
    if [[ $s == "$1" && $n == "$2" ]]; then
      case $3 in set) echo "$set" ;; get) echo "$get" ;; us) echo "$us" ;; esac
    fi
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
report=$(
  echo "# Cluster mode: redis-lite vs redis-server 7.0 ($stamp)"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load and servers share the cores."
  echo "Command: \`redis-benchmark [--cluster] -t set,get -r 100000 -n $requests -c $clients --threads 2 -q\` against each setup;"
  echo "redis-lite nodes run one shard each (\`--shards 1\`) with a static map; redis-server nodes run \`--cluster-enabled yes\` with the same slot split."
  echo
  echo "| setup | SET rps | GET rps | server CPU µs/request | SET ours/redis | GET ours/redis | CPU ours/redis |"
  echo "|---|---|---|---|---|---|---|"
  for n in 1 3; do
    echo "| redis-lite ${n} node(s) | $(get_field ours $n set) | $(get_field ours $n get) | $(get_field ours $n us) | $(ratio "$(get_field ours $n set)" "$(get_field redis $n set)") | $(ratio "$(get_field ours $n get)" "$(get_field redis $n get)") | $(ratio "$(get_field ours $n us)" "$(get_field redis $n us)") |"
    echo "| redis-server ${n} node(s) | $(get_field redis $n set) | $(get_field redis $n get) | $(get_field redis $n us) | | | |"
  done
  echo
  echo "3 nodes / 1 node (aggregate SET rps): redis-lite $(ratio "$(get_field ours 3 set)" "$(get_field ours 1 set)"), redis-server $(ratio "$(get_field redis 3 set)" "$(get_field redis 1 set)")."
  if [[ $quick == 1 ]]; then echo; echo "(--quick run: $requests requests per test.)"; fi
)
echo "$report"
mkdir -p benches/results
echo "$report" > "benches/results/cluster-$stamp.md"
echo "cluster.sh: wrote benches/results/cluster-$stamp.md" >&2
