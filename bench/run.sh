#!/usr/bin/env bash
# make bench: installs the pinned Node packages (redis-sessions 4.0.0 and the
# node-redis client it uses) and runs the benchmark against a redis-server it
# starts itself on a free port. Prints a Markdown report and saves it to
# bench/results/latest.md. Extra arguments go to bench.js (--quick).
set -euo pipefail
cd "$(dirname "$0")/node"
if [ ! -d node_modules/redis-sessions ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node bench.js "$@"
