#!/usr/bin/env bash
# Soak test (issue #10): redis-lite under a long mixed load on 127.0.0.1, watching for memory
# growth, errors and latency drift that short benchmarks do not show.
#
#   benches/soak.sh                   30 minutes (the default)
#   benches/soak.sh --minutes 2       a short run, to check the script itself
#   benches/soak.sh --help            all options
#
# Load, all bounded by the deadline: 4 redis-benchmark loops of 250 clients each (1000 in total;
# set/get/incr/mset, lists, sets/hashes/sorted sets incl. spop, bigger values), each run sized to
# last ~20 s and repeated until the deadline; a side loop writing `SET ttl:<n> v EX 5` through
# redis-cli --pipe (so keys keep expiring); a BGSAVE every 30 s (save points off). Every 10 s it
# samples the server's RSS, connected clients, ops/s, keys and errors and prints a row.
# At the end: the table, each command's p99 (median and worst of the runs), and a verdict — RSS
# growth after warm-up (the first quarter of the run, at most 5 minutes) under --max-rss-growth,
# no error reply, no failed BGSAVE, no benchmark error, the server alive. Written to
# benches/results/soak-<date>.md. Exit status 0 on PASS, 1 on FAIL.
#
# Script-only option: --no-build (use target/release/redis-lite as it is).
set -uo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

minutes=30
shards=2
max_growth=20
unpinned=0
usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --minutes N          length of the run (default 30)
  --shards N           redis-lite --shards (default 2)
  --max-rss-growth P   largest RSS growth after warm-up that passes, in percent (default 20)
  --unpinned           start redis-lite with --unpinned (no core pinning)
  --no-build           do not run cargo build first
EOF
}
set -- "${args[@]+"${args[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --shards) shards="$2"; shift 2 ;;
    --max-rss-growth) max_growth="$2"; shift 2 ;;
    --unpinned) unpinned=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -ge 1 ]] || { echo "soak.sh: --minutes must be a whole number >= 1" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "soak.sh: redis-cli not found (apt-get install redis-tools)" >&2; exit 1; }

if [[ $build == 1 ]]; then
  echo "soak.sh: cargo build --release --bin redis-lite" >&2
  cargo build --release --bin redis-lite >&2 || exit 1
fi
bin="$root/target/release/redis-lite"
[[ -x "$bin" ]] || { echo "soak.sh: $bin missing (run without --no-build)" >&2; exit 1; }

tmp="$(mktemp -d -t redis-lite-soak.XXXXXX)"
server_pid=""
bg_pids=()
cleanup() {
  # Only what this script started, by PID.
  for p in "${bg_pids[@]+"${bg_pids[@]}"}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  for p in "${bg_pids[@]+"${bg_pids[@]}"}"; do wait "$p" 2>/dev/null; done
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the server
mkdir -p "$tmp/data"
srv_args=(--port 0 --bind 127.0.0.1 --shards "$shards" --dir "$tmp/data" --save "" --loglevel notice)
[[ $unpinned == 1 ]] && srv_args+=(--unpinned)
"$bin" "${srv_args[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 200); do
  port="$(grep -o 'Ready to accept connections.*addr=[0-9.]*:[0-9]*' "$tmp/server.log" | head -1 | sed 's/.*://')"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "soak.sh: redis-lite did not start:" >&2; cat "$tmp/server.log" >&2; exit 1
fi
cli() { timeout 20 redis-cli -p "$port" "$@"; }
info() { cli INFO "$1" | tr -d '\r'; }
field() { grep -m1 "^$2:" <<<"$1" | cut -d: -f2; }

start=$(date +%s)
deadline=$((start + minutes * 60))
warmup=$(( minutes * 60 / 4 )); (( warmup > 300 )) && warmup=300
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
echo "soak.sh: redis-lite pid $server_pid on 127.0.0.1:$port, $shards shards, $minutes min (warm-up ${warmup}s), $(nproc) CPUs" >&2

# ---- load: redis-benchmark loops (each run sized to ~20 s, repeated until the deadline)
bench_loop() {
  local name="$1" clients="$2"; shift 2
  local n=20000 run=0
  while :; do
    local now left target t0 t1 took
    now=$(date +%s); left=$((deadline - now))
    (( left < 5 )) && break
    target=$(( left < 20 ? left : 20 ))
    t0=$(date +%s%N)
    timeout $((left + 60)) redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$n" "$@" --csv \
      >"$tmp/bench-$name-$run.csv" 2>"$tmp/bench-$name-$run.err"
    echo "$?" >"$tmp/bench-$name-$run.status"
    t1=$(date +%s%N); took=$(( (t1 - t0) / 1000000 )); (( took < 1 )) && took=1
    # Next run's size: this run's rate times the target length, within sane bounds.
    n=$(( n * target * 1000 / took ))
    (( n < 1000 )) && n=1000
    (( n > 5000000 )) && n=5000000
    run=$((run + 1))
  done
}
bench_loop kv 250 -r 100000 -d 64 -t set,get,incr,mset & bg_pids+=($!)
bench_loop lists 250 -r 100000 -t lpush,lpop,rpush,rpop & bg_pids+=($!)
bench_loop coll 250 -r 100000 -t sadd,hset,spop,zadd,zpopmin & bg_pids+=($!)
bench_loop big 250 -r 20000 -d 1024 -t set,get & bg_pids+=($!)

# ---- keys with TTLs: 5000 `SET ttl:<n> v EX 5` a second, pipelined
ttl_loop() {
  local i=0
  while (( $(date +%s) < deadline )); do
    awk -v seed="$i" 'BEGIN { srand(seed); for (j = 0; j < 5000; j++) {
        k = "ttl:" int(rand() * 200000);
        printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nEX\r\n$1\r\n5\r\n", length(k), k } }' |
      timeout 30 redis-cli -p "$port" --pipe >>"$tmp/ttl.out" 2>&1
    i=$((i + 1))
    sleep 1
  done
}
ttl_loop & bg_pids+=($!)

# ---- BGSAVE every 30 s; the outcome of each is read back from INFO
bgsave_loop() {
  while (( $(date +%s) + 30 < deadline )); do
    sleep 30
    local r; r="$(cli BGSAVE 2>&1)"
    echo "$(date +%s) $r" >>"$tmp/bgsave.out"
  done
}
bgsave_loop & bg_pids+=($!)

# ---- sampling every 10 s
rows=()
rss_at_warmup=""; rss_max_after=0; rss_last=0
prev_cmds=""; prev_t=""
sample() {
  local t now rss_kb i_stats i_clients i_pers cmds clients errs expired keys ops bgst saves
  now=$(date +%s); t=$((now - start))
  if ! kill -0 "$server_pid" 2>/dev/null; then
    rows+=("| $t | - | - | - | - | - | server gone | - |"); return 1
  fi
  rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
  i_stats="$(info stats)"; i_clients="$(info clients)"; i_pers="$(info persistence)"
  cmds=$(field "$i_stats" total_commands_processed)
  errs=$(field "$i_stats" total_error_replies)
  expired=$(field "$i_stats" expired_keys)
  clients=$(field "$i_clients" connected_clients)
  bgst=$(field "$i_pers" rdb_last_bgsave_status)
  saves=$(field "$i_pers" rdb_saves)
  keys=$(cli DBSIZE)
  if [[ -n "$prev_cmds" && -n "$cmds" ]]; then
    ops=$(( (cmds - prev_cmds) / (now - prev_t > 0 ? now - prev_t : 1) ))
  else
    ops="-"
  fi
  prev_cmds=$cmds; prev_t=$now
  rss_last=$rss_kb
  if (( t >= warmup )); then
    [[ -z "$rss_at_warmup" ]] && rss_at_warmup=$rss_kb
    (( rss_kb > rss_max_after )) && rss_max_after=$rss_kb
  fi
  local row
  row="| $t | $((rss_kb / 1024)) | $clients | $ops | $keys | $expired | $errs | $bgst ($saves) |"
  rows+=("$row")
  echo "$row" >&2
}
echo "| t (s) | RSS (MiB) | clients | ops/s | keys | expired | error replies | last BGSAVE (saves) |" >&2
server_alive=1
while (( $(date +%s) + 10 <= deadline )); do
  sleep 10
  sample || { server_alive=0; break; }
done
# The load winds down (the last benchmark runs finish); one more row once it has.
for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
bg_pids=()
if (( server_alive )); then sample || server_alive=0; fi

# ---- results
bench_errors=0
for f in "$tmp"/bench-*.status; do [[ "$(cat "$f")" == 0 ]] || bench_errors=$((bench_errors + 1)); done
bench_err_lines=$(cat "$tmp"/bench-*.err 2>/dev/null | grep -ci 'error' || true)
bench_errors=$((bench_errors + bench_err_lines))
ttl_errors=$(grep -o 'errors: [0-9]*' "$tmp/ttl.out" 2>/dev/null | awk '{s += $2} END {print s + 0}')
ttl_batches=$(grep -c 'errors: ' "$tmp/ttl.out" 2>/dev/null || true)
bgsaves_started=$(grep -c 'Background saving started' "$tmp/bgsave.out" 2>/dev/null || true)
bgsave_refused=$(grep -vc 'Background saving started' "$tmp/bgsave.out" 2>/dev/null || true)
final_errs="-"; final_bgst="-"; final_saves=0
if (( server_alive )); then
  i_stats="$(info stats)"; i_pers="$(info persistence)"
  final_errs=$(field "$i_stats" total_error_replies)
  final_bgst=$(field "$i_pers" rdb_last_bgsave_status)
  final_saves=$(field "$i_pers" rdb_saves)
fi

# p99 per command over all runs: median and worst.
p99_table="$(cat "$tmp"/bench-*.csv 2>/dev/null | grep -v '^"test"' | tr -d '"' |
  awk -F, '{ n[$1]++; v[$1, n[$1]] = $7; rps[$1] += $2 }
    END { for (t in n) {
        m = n[t]; for (i = 1; i <= m; i++) a[i] = v[t, i];
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { x = a[i]; a[i] = a[j]; a[j] = x }
        printf "| %s | %d | %.0f | %s | %s |\n", t, m, rps[t] / m, a[int((m + 1) / 2)], a[m] } }' | sort)"

growth="n/a"; growth_ok=1
if [[ -n "$rss_at_warmup" && "$rss_at_warmup" -gt 0 ]]; then
  growth=$(awk -v a="$rss_at_warmup" -v b="$rss_last" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
  growth_max=$(awk -v a="$rss_at_warmup" -v b="$rss_max_after" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
  growth_ok=$(awk -v g="$growth" -v m="$max_growth" 'BEGIN { print (g <= m) ? 1 : 0 }')
else
  growth_max="n/a"
fi
reasons=()
(( server_alive )) || reasons+=("the server died")
[[ "$final_errs" == 0 ]] || reasons+=("error replies: $final_errs")
(( bench_errors == 0 )) || reasons+=("redis-benchmark errors: $bench_errors")
(( ttl_errors == 0 )) || reasons+=("TTL pipe errors: $ttl_errors")
[[ "$final_bgst" == ok ]] || reasons+=("last BGSAVE status: $final_bgst")
(( growth_ok )) || reasons+=("RSS grew ${growth}% after warm-up (limit ${max_growth}%)")
if (( ${#reasons[@]} == 0 )); then verdict="PASS"; else verdict="FAIL: $(IFS=';'; echo "${reasons[*]}")"; fi

mkdir -p "$root/benches/results"
out="$root/benches/results/soak-$stamp.md"
{
  echo "# Soak: redis-lite, $minutes min ($stamp)"
  echo
  echo "\`benches/soak.sh --minutes $minutes --shards $shards\`, $(nproc) CPUs, $(uname -sr), redis-benchmark $(redis-benchmark --version 2>/dev/null | awk '{print $2}')."
  echo "Load: 4 redis-benchmark loops × 250 clients (set/get/incr/mset -d 64; lpush/lpop/rpush/rpop;"
  echo "sadd/hset/spop/zadd/zpopmin; set/get -d 1024), 5000 \`SET ttl:<n> v EX 5\` a second"
  echo "($ttl_batches batches), BGSAVE every 30 s ($bgsaves_started started, $bgsave_refused refused, $final_saves completed)."
  echo
  echo "| t (s) | RSS (MiB) | clients | ops/s | keys | expired | error replies | last BGSAVE (saves) |"
  echo "|--:|--:|--:|--:|--:|--:|--:|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| command | runs | mean rps | p99 median (ms) | p99 worst (ms) |"
  echo "|---|--:|--:|--:|--:|"
  echo "$p99_table"
  echo
  echo "RSS after warm-up (${warmup}s): $(( ${rss_at_warmup:-0} / 1024 )) MiB; at the end: $(( rss_last / 1024 )) MiB (${growth}%); peak after warm-up: $(( rss_max_after / 1024 )) MiB (${growth_max}%)."
  echo "Errors: server error replies $final_errs, redis-benchmark $bench_errors, TTL pipe $ttl_errors."
  echo
  echo "**Verdict: $verdict**"
} >"$out"
cat "$out"
echo "soak.sh: wrote ${out#"$root"/}" >&2
[[ "$verdict" == PASS ]]
