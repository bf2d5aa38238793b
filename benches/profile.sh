#!/usr/bin/env bash
# Where each server's CPU goes, per request, for one redis-benchmark cell: redis-server 7.0 and
# redis-lite side by side, each profiled with `perf record -g` while the same cell runs against it.
#
#   benches/profile.sh "get -P 16 -r 1000000"          # the cell: redis-benchmark's -t and options
#   benches/profile.sh "incr -P 16" --seconds 6        # longer sample
#   benches/profile.sh "get -r 1000000" --keep DIR     # keep perf.data and the stacks in DIR
#
# Script-only option: --no-build (use the binary already in target/release).
# Each server is fresh, warmed with SET over the cell's keys and one run of the cell (so reads
# find values and random-key cells see a full keyspace),
# then sampled for --seconds while redis-benchmark (--threads 2 -c 50, bounded by -n and a
# timeout) keeps it busy. Requests are counted by the server (INFO total_commands_processed), so
# each category is CPU microseconds per request. Categories come from the sampled call stacks
# (benches/profile_split.py). Needs perf (linux-perf) with kernel symbols readable (root, or
# kernel.perf_event_paranoid <= 1) and python3; only talks to 127.0.0.1.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

cell=""
seconds=5
keep=""
set -- "${args[@]+"${args[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) cell="$1"; shift ;;
  esac
done
if [[ -z $cell ]]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
for tool in perf python3 redis-cli; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found" >&2; exit 1; }
done
if [[ $build == 1 ]]; then
  cargo build --release --bin redis-lite >&2
fi

tmp="$(mktemp -d -t redis-lite-profile.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  if [[ -z $keep ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
if [[ -n $keep ]]; then mkdir -p "$keep"; tmp="$keep"; fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ping() {
  for _ in $(seq 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "profile.sh: server on port $1 did not answer" >&2
  exit 1
}
processed() {
  redis-cli -p "$1" info stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ {print $2}'
}

# shellcheck disable=SC2206
bench_args=(--threads 2 -c 50 -t $cell)
# shellcheck disable=SC2206
set_args=(--threads 2 -c 50 -t set ${cell#* })
[[ $cell == *" "* ]] || set_args=(--threads 2 -c 50 -t set)
rport=$(free_port)
mkdir -p "$tmp/redis" "$tmp/ours"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$tmp/redis" >"$tmp/redis.log" 2>&1 &
pids+=($!)
rpid=$!
oport=$(free_port)
"$root/target/release/redis-lite" --port "$oport" --bind 127.0.0.1 --save '' --dir "$tmp/ours" \
  >"$tmp/ours.log" 2>&1 &
pids+=($!)
opid=$!
wait_ping "$rport"
wait_ping "$oport"

echo "cell: redis-benchmark ${bench_args[*]}; perf record -e cpu-clock -g for $seconds s per server"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for who in redis ours; do
  if [[ $who == redis ]]; then port=$rport pid=$rpid; else port=$oport pid=$opid; fi
  # Warm-up, bounded: SET over the same keys first (as compare.sh's set cells precede its get
  # cells, so reads find values), then the cell once.
  timeout 60 redis-benchmark -p "$port" "${set_args[@]}" -n 1000000 -q >/dev/null 2>&1 || true
  timeout 60 redis-benchmark -p "$port" "${bench_args[@]}" -n 1000000 -q >/dev/null 2>&1 || true
  timeout $((seconds + 30)) redis-benchmark -p "$port" "${bench_args[@]}" -n 50000000 -q \
    >/dev/null 2>&1 &
  bpid=$!
  sleep 1
  before=$(processed "$port")
  perf record -q -e cpu-clock -g -p "$pid" -o "$tmp/$who.data" -- sleep "$seconds" 2>/dev/null
  after=$(processed "$port")
  kill "$bpid" 2>/dev/null || true
  wait "$bpid" 2>/dev/null || true
  perf script -i "$tmp/$who.data" 2>/dev/null >"$tmp/$who.stacks"
  echo "$who $((after - before))" >>"$tmp/requests"
done
python3 "$root/benches/profile_split.py" "$tmp/requests" "$tmp/redis.stacks" "$tmp/ours.stacks"
