#!/usr/bin/env bash
# Side-by-side benchmark: redis-lite against redis-server 7.0, same redis-benchmark matrix, same run.
#
#   benches/compare.sh                 full matrix + 1M-key memory cell (~2-3 minutes on 2 cores, plus the build)
#   benches/compare.sh --quick         a handful of small cells (< 1 minute), for smoke checks
#   benches/compare.sh --only "get,P16" --repeat 3 --shards 1 --ours-args "--unpinned"
#   benches/compare.sh --list          the cells and their redis-benchmark commands
#   benches/compare.sh --help          all options
#
# Script-only option: --no-build (use the binaries already in target/).
# Prints a markdown report; writes benches/results/compare-<date>.csv, compare-<date>.md and
# compare-latest.png. Needs redis-server and redis-benchmark (apt-get install redis-server
# redis-tools); the chart uses DejaVuSans.ttf (fonts-dejavu-core) and is skipped without it.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

ours_is_redis=0
for a in "${args[@]+"${args[@]}"}"; do
  case "$a" in --help|-h|--list) build=0 ;; --ours-is-redis) ours_is_redis=1 ;; esac
done

tool=target/compare/release/redis-lite-compare
if [[ $build == 1 ]]; then
  if [[ $ours_is_redis == 0 ]]; then
    echo "compare.sh: cargo build --release --bin redis-lite" >&2
    cargo build --release --bin redis-lite >&2
  fi
  echo "compare.sh: building the compare tool (target/compare)" >&2
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare >&2
elif [[ ! -x $tool ]]; then
  cargo build --release --quiet --manifest-path benches/compare/Cargo.toml --target-dir target/compare >&2
fi

# Temp dir for server dirs and logs; removed by the tool, and here as a backstop.
tmp="$(mktemp -d -t redis-lite-compare.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
status=0
"$tool" --tmpdir "$tmp" --ours-bin "$root/target/release/redis-lite" \
  --results-dir "$root/benches/results" "${args[@]+"${args[@]}"}" || status=$?
exit $status
