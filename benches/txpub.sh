#!/usr/bin/env bash
# Transactions and PUBLISH: redis-lite against redis-server 7.0 in the same run — MULTI/EXEC of
# INCR pairs (keys on one shard, on two shards, and without MULTI as a baseline) and PUBLISH to
# subscribers, at pipeline 1 and 16: rates, round-trip p50/p99, server CPU per unit, ours/redis.
#
#   benches/txpub.sh                    200k units per run (~2-4 minutes on 2 cores, plus the build)
#   benches/txpub.sh --quick            20k units per run (< 1 minute), for smoke checks
#   benches/txpub.sh --clients 100 --subscribers 8 --shards 1 --ours-args "--unpinned"
#   benches/txpub.sh --help             all options
#
# Script-only option: --no-build (use the binaries already in target/).
# Prints a markdown report and writes benches/results/txpub-<date>.md. Needs redis-server
# (apt-get install redis-server); the load is the tool's own client.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

for a in "${args[@]+"${args[@]}"}"; do
  case "$a" in --help|-h) build=0 ;; esac
done

tool=target/compare/release/redis-lite-txpub
if [[ $build == 1 ]]; then
  echo "txpub.sh: cargo build --release --bin redis-lite" >&2
  cargo build --release --bin redis-lite >&2
  echo "txpub.sh: building the benchmark tool (target/compare)" >&2
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare --bin redis-lite-txpub >&2
elif [[ ! -x $tool ]]; then
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare --bin redis-lite-txpub >&2
fi

# Temp dir for the servers' dirs and logs; removed by the tool, and here as a backstop.
tmp="$(mktemp -d -t redis-lite-txpub.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
invocation="benches/txpub.sh"
for a in "$@"; do invocation+=" $(printf '%q' "$a")"; done
status=0
"$tool" --tmpdir "$tmp" --ours-bin "$root/target/release/redis-lite" \
  --results-dir "$root/benches/results" --invocation "$invocation" \
  "${args[@]+"${args[@]}"}" || status=$?
exit $status
