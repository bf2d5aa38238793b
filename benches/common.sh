# Sourced by benches/compare.sh, persist.sh and txpub.sh (not run on its own): cd to the
# repository root ($root), split off the script-only option --no-build ($build = 0; the other
# arguments are left in $args) and check that redis-server and redis-benchmark are installed.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-build" ]]; then build=0; else args+=("$a"); fi
done

for tool in redis-server redis-benchmark; do
  if ! command -v "$tool" >/dev/null; then
    echo "$(basename "$0"): $tool not found (apt-get install redis-server redis-tools)" >&2
    exit 1
  fi
done
