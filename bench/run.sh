#!/usr/bin/env bash
# make bench: installs the pinned Node packages (redis-sessions 4.0.0 and the
# node-redis client it uses) and runs the benchmark against a redis-server it
# starts itself on a free port. Prints a Markdown report and saves it to
# bench/results/latest.md. Extra arguments go to bench.js (--quick).
# BENCH_SCRIPT=scale.js runs make bench-scale instead (bench/results/scale.md).
set -euo pipefail
cd "$(dirname "$0")/node"
if [ ! -d node_modules/redis-sessions ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
# With two or more cores, redis-server gets core 0 and everything else core 1.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    SESS_BENCH_PINNED=1 exec taskset -c 1 node "${BENCH_SCRIPT:-bench.js}" "$@"
fi
exec node "${BENCH_SCRIPT:-bench.js}" "$@"
