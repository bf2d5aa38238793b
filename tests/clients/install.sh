#!/usr/bin/env bash
# Installs the client libraries that tests/libraries.rs drives, into git-ignored folders here:
#   python/.venv         redis-py (python/requirements.txt), in a venv of Debian's python3
#   node/node_modules    ioredis (node/package-lock.json, `npm ci`)
# Safe to run again. Needs python3-venv (Debian) and node/npm; .ci/run installs python3-venv.
set -euo pipefail
cd "$(dirname "$0")"

py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ ! -x python/.venv/bin/python ]; then
  "$py" -m venv python/.venv
fi
python/.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -r python/requirements.txt
python/.venv/bin/python -c 'import redis; print("redis-py", redis.__version__)'

(cd node && npm ci --no-audit --no-fund --loglevel=error)
node -e 'console.log("ioredis", require("./node/node_modules/ioredis/package.json").version)'
