#!/usr/bin/env bash
# Persistence benchmark: redis-lite against redis-server 7.0 in the same run — SAVE time, CPU and
# snapshot size, restart-to-ready time with the snapshot loaded, and redis-benchmark latency
# with and without a BGSAVE running.
#
#   benches/persist.sh                  1M keys + 10k lists × 100 items (~2-3 minutes on 2 cores, plus the build)
#   benches/persist.sh --quick          100k keys + 1k lists, short runs (< 1 minute), for smoke checks
#   benches/persist.sh --keys 500000 --lists 5000 --bench-n 100000 --shards 1
#   benches/persist.sh --help           all options
#
# Script-only option: --no-build (use the binaries already in target/).
# Prints a markdown report and writes benches/results/persist-<date>.md. Needs redis-server and
# redis-benchmark (apt-get install redis-server redis-tools).
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

for a in "${args[@]+"${args[@]}"}"; do
  case "$a" in --help|-h) build=0 ;; esac
done

tool=target/compare/release/redis-lite-persist
if [[ $build == 1 ]]; then
  echo "persist.sh: cargo build --release --bin redis-lite" >&2
  cargo build --release --bin redis-lite >&2
  echo "persist.sh: building the benchmark tool (target/compare)" >&2
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare --bin redis-lite-persist >&2
elif [[ ! -x $tool ]]; then
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare --bin redis-lite-persist >&2
fi

# Temp dir for the servers' dirs and logs; removed by the tool, and here as a backstop.
tmp="$(mktemp -d -t redis-lite-persist.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
invocation="benches/persist.sh"
for a in "$@"; do invocation+=" $(printf '%q' "$a")"; done
status=0
"$tool" --tmpdir "$tmp" --ours-bin "$root/target/release/redis-lite" \
  --results-dir "$root/benches/results" --invocation "$invocation" \
  "${args[@]+"${args[@]}"}" || status=$?
exit $status
