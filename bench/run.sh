#!/usr/bin/env bash
# make bench: installs the pinned Node packages (redis-sessions 4.0.0 and the
# node-redis client it uses) and runs the benchmark against a redis-server it
# starts itself on a free port. Prints a Markdown report and saves it to
# bench/results/latest.md. Extra arguments go to bench.js (--quick).
# BENCH_SCRIPT=scale.js runs make bench-scale instead (bench/results/scale.md),
# BENCH_SCRIPT=import.js make bench-import (bench/results/import.md),
# BENCH_SCRIPT=http.js make bench-http (bench/results/http.md and http.svg).
# SESS_MODULE=/path/to/libredis_sessions.so measures another build of the
# module; SESS_BENCH_PORTS=29000-29099 keeps the ports it opens in that range.
#
# Only the report goes to stdout; everything else (npm, progress) goes to
# stderr. The reports are saved under bench/results/, and bench.js and http.js
# write theirs into docs/benchmarks.md with --readme: take reports from
# there, never from the output of make, which echoes its own commands
# (cargo build --release) to stdout ahead of the report.
set -euo pipefail
cd "$(dirname "$0")/node"
# sess-express-store is installed as a copy of clients/express (.npmrc):
# install again whenever that copy is out of date.
if [ ! -d node_modules/redis-sessions ] || [ ! -d node_modules/autocannon ] || [ package-lock.json -nt node_modules ] ||
    ! cmp -s ../../clients/express/index.js node_modules/sess-express-store/index.js ||
    ! cmp -s ../../clients/express/package.json node_modules/sess-express-store/package.json; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
# With two or more cores, redis-server gets core 0 and everything else core 1.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    SESS_BENCH_PINNED=1 exec taskset -c 1 node "${BENCH_SCRIPT:-bench.js}" "$@"
fi
exec node "${BENCH_SCRIPT:-bench.js}" "$@"
