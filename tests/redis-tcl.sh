#!/usr/bin/env bash
# Runs units of Redis's own Tcl test suite (redis 7.0 `tests/`) in external-server mode against
# redis-lite, and prints a per-unit summary. Local use only (not part of CI); it fetches nothing.
#
# Usage: tests/redis-tcl.sh [options] REDIS_SRC_DIR [UNIT...]
#
#   REDIS_SRC_DIR   a directory holding Redis's `tests/` tree and `runtest` (an extracted redis
#                   7.0.x source tarball, or just those two)
#   UNIT            unit names as `--single` takes them (unit/type/list, ...); default: the units
#                   listed in DEFAULT_UNITS below
#
# Options:
#   --port P            port for the server under test (default: a free one)
#   --shards N          redis-lite --shards N (default: the server's own default)
#   --redis-server BIN  run the same units against BIN (e.g. /usr/bin/redis-server, started with
#                       --save "" --appendonly no) instead of redis-lite, to see which tests pass
#                       on real Redis in this mode
#   --no-build          do not run `cargo build --release` first
#   --timeout SECS      bound on each unit's run (default 600)
#   --tcl-arg ARG       pass ARG to test_helper.tcl (repeatable), e.g. --tcl-arg --verbose,
#                       --tcl-arg --only --tcl-arg 'SET and GET an item'
#   --keep              keep the temporary directory (server log, per-unit logs)
#
# Every unit runs with: --host 127.0.0.1 --port P --single UNIT --durable --ignore-encoding
# --ignore-digest and the --tags below (tests needing DEBUG, replication, CONFIG RESETSTAT, ...
# are skipped by the suite itself: "ignored" in the summary; "skipped" counts tests left out by
# --only/--skiptest). The full output of each unit goes to TMP/<unit>.log; failed tests are
# repeated in the summary. The server started here is stopped by its PID on exit. A unit that
# leaves a blocked client behind after a failure can hang on a later read: --timeout bounds it.
#
# Examples (options go before REDIS_SRC_DIR):
#   tests/redis-tcl.sh /work/tcl
#   tests/redis-tcl.sh --redis-server /usr/bin/redis-server /work/tcl unit/type/list
#   tests/redis-tcl.sh --tcl-arg --skiptest --tcl-arg 'BRPOPLPUSH with multiple blocked clients' \
#       /work/tcl unit/type/list
# Do not edit this script while it runs (bash reads it as it goes).
#
# Exit status: 0 when every unit ran with no [err] and no exception, 1 otherwise, 2 on bad usage.

set -u

DEFAULT_UNITS=(
    unit/protocol unit/type/string unit/type/incr unit/keyspace unit/expire
    unit/type/list unit/type/list-2 unit/type/list-3 unit/type/hash unit/type/set
    unit/type/zset unit/info-command unit/other
)
TAGS="-needs:debug -needs:repl -needs:pfdebug -needs:config-maxmemory"
TAGS="$TAGS -needs:reset -needs:save -needs:local-process -needs:latency"

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

port=""
shards=""
redis_bin=""
build=1
unit_timeout=600
keep=0
tcl_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --shards) shards="${2:?--shards needs a value}"; shift 2 ;;
    --redis-server) redis_bin="${2:?--redis-server needs a value}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --timeout) unit_timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --tcl-arg) tcl_args+=("${2?--tcl-arg needs a value}"); shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || usage
src_dir="$(cd "$1" 2>/dev/null && pwd)" || { echo "no such directory: $1" >&2; exit 2; }
shift
if [ ! -f "$src_dir/tests/test_helper.tcl" ]; then
    echo "$src_dir has no tests/test_helper.tcl (pass the directory holding tests/ and runtest)" >&2
    exit 2
fi
units=("$@")
[ ${#units[@]} -gt 0 ] || units=("${DEFAULT_UNITS[@]}")
for u in "${units[@]}"; do
    if [ ! -f "$src_dir/tests/$u.tcl" ]; then
        echo "no such unit: $src_dir/tests/$u.tcl" >&2
        exit 2
    fi
done

tclsh=""
for v in 8.6 8.7 8.5; do
    if command -v "tclsh$v" >/dev/null 2>&1; then
        tclsh="$(command -v "tclsh$v")"
        break
    fi
done
[ -n "$tclsh" ] || { echo "tclsh 8.5+ is needed (apt-get install tcl)" >&2; exit 2; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$redis_bin" ]; then
    if [ "$build" = 1 ]; then
        (cd "$repo" && cargo build --release --bin redis-lite) || exit 1
    fi
    server_bin="$repo/target/release/redis-lite"
    [ -x "$server_bin" ] || { echo "$server_bin is missing (build it or drop --no-build)" >&2; exit 2; }
else
    server_bin="$redis_bin"
fi

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 20000))
        if ! { (exec 3<>"/dev/tcp/127.0.0.1/$p"); } 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "no free port found" >&2
    exit 1
}
[ -n "$port" ] || port="$(free_port)"
# The suite's own test server listens on a free port in [baseport-32, baseport): keep runs side by
# side (against redis-lite and redis-server) apart.
baseport=$((port + 64))

tmp="$(mktemp -d "${TMPDIR:-/tmp}/redis-tcl.XXXXXX")"
server_pid=""

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    server_pid=""
}

cleanup() {
    stop_server
    if [ "$keep" = 1 ]; then
        echo "logs kept in $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A PING over /dev/tcp: true once the server answers +PONG.
ping_server() {
    local reply
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3
    exec 3<&- 3>&-
    [ "${reply%$'\r'}" = "+PONG" ]
}

start_server() {
    local data="$tmp/data"
    mkdir -p "$data"
    if [ -z "$redis_bin" ]; then
        local extra=()
        [ -n "$shards" ] && extra=(--shards "$shards")
        "$server_bin" --bind 127.0.0.1 --port "$port" --dir "$data" --save "" "${extra[@]}" \
            >>"$tmp/server.log" 2>&1 &
    else
        "$server_bin" --bind 127.0.0.1 --port "$port" --dir "$data" --save "" \
            --appendonly no >>"$tmp/server.log" 2>&1 &
    fi
    server_pid=$!
    for _ in $(seq 1 200); do
        if ping_server; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server exited at start; its log:" >&2
            cat "$tmp/server.log" >&2
            server_pid=""
            return 1
        fi
        sleep 0.1
    done
    echo "the server did not answer PING on port $port within 20 s" >&2
    return 1
}

start_server || exit 1
echo "server: $server_bin (pid $server_pid) on 127.0.0.1:$port; logs in $tmp"

declare -a summary
total_ok=0
total_err=0
total_exc=0
status=0
for unit in "${units[@]}"; do
    log="$tmp/$(echo "$unit" | tr / _).log"
    echo "=== $unit"
    (
        cd "$src_dir" &&
            timeout --kill-after=10 "$unit_timeout" "$tclsh" tests/test_helper.tcl \
                --host 127.0.0.1 --port "$port" --single "$unit" --durable \
                --ignore-encoding --ignore-digest --tags "$TAGS" --baseport "$baseport" \
                "${tcl_args[@]}"
    ) 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' >"$log"
    rc=${PIPESTATUS[0]}
    ok=$(grep -c '^\[ok\]' "$log")
    err=$(grep -c '^\[err\]' "$log")
    exc=$(grep -c '^\[exception\]' "$log")
    ignored=$(grep -c '^\[ignore\]' "$log")
    skipped=$(grep -c '^\[skip\]' "$log")
    note=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        note=" TIMEOUT after ${unit_timeout}s"
    elif [ "$exc" = 0 ] && [ "$err" = 0 ] && ! grep -q 'All tests passed' "$log"; then
        note=" (exit $rc, no 'All tests passed')"
        tail -5 "$log" | sed 's/^/    /'
    fi
    grep -A1 -E '^\[(err|exception)\]' "$log" | grep -v '^--$' | head -60 | cut -c1-300 |
        sed 's/^/    /'
    line=$(printf '%-22s ok %4d  err %3d  exception %d  ignored %3d  skipped %3d%s' \
        "$unit" "$ok" "$err" "$exc" "$ignored" "$skipped" "$note")
    echo "$line"
    summary+=("$line")
    total_ok=$((total_ok + ok))
    total_err=$((total_err + err))
    total_exc=$((total_exc + exc))
    if [ "$err" != 0 ] || [ "$exc" != 0 ] || [ -n "$note" ]; then
        status=1
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "    the server died during $unit; its log tail:"
        tail -20 "$tmp/server.log" | sed 's/^/    /'
        summary+=("    (server died during $unit; restarted)")
        status=1
        wait "$server_pid" 2>/dev/null
        server_pid=""
        start_server || exit 1
    fi
done

echo
echo "=== summary ($server_bin)"
printf '%s\n' "${summary[@]}"
printf '%-22s ok %4d  err %3d  exception %d\n' total "$total_ok" "$total_err" "$total_exc"
exit $status
