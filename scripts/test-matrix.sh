#!/usr/bin/env bash
# make test-matrix: the integration tests against each named server
# (scripts/servers.sh fetches it), one after the other, then a summary.
# Exits non-zero if any server fails or cannot be fetched.
set -uo pipefail
cd "$(dirname "$0")/.."
module=$PWD/target/release/libredis_sessions.so
threads=${TEST_THREADS:-16}
summary=()
failed=0
for name in "$@"; do
    if ! server=$(scripts/servers.sh "$name"); then
        summary+=("$name: could not be fetched")
        failed=1
        continue
    fi
    version=$("$server" --version | sed 's/ sha=.*//')
    echo "=== $name: $version"
    if REDIS_SERVER=$server SESS_MODULE=$module cargo test --release --tests -- --test-threads="$threads"; then
        summary+=("$name ($version): passed")
    else
        summary+=("$name ($version): FAILED")
        failed=1
    fi
done
echo
echo "test-matrix:"
printf '  %s\n' "${summary[@]}"
exit $failed
