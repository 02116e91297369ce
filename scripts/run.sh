#!/usr/bin/env bash
# make run / make stop: a Redis with the module on 127.0.0.1, started from
# redis.conf.example, in the background; data, log and pid file in ./run.
set -euo pipefail

if [ "$1" = stop ]; then
    pidfile="$2/redis.pid"
    if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
        echo "stopped Redis (pid $(cat "$pidfile"))"
        rm -f "$pidfile"
    else
        echo "no Redis started by make run is running"
    fi
    exit 0
fi

port=$1
dir=$2
mkdir -p "$dir"

if redis-cli -p "$port" PING >/dev/null 2>&1; then
    if redis-cli -p "$port" COMMAND INFO sess.get | grep -q sess.get; then
        echo "Redis with the SESS.* commands is already running on 127.0.0.1:$port (make stop to stop it)"
        exit 0
    fi
    echo "port $port is taken by a Redis without the module (Debian's redis-server service?)." >&2
    echo "Stop it (sudo systemctl stop redis-server) or choose another port: make run PORT=6380" >&2
    exit 1
fi

# Redis resolves a relative loadmodule path from its `dir`, so the example's
# path is made absolute on the way in (redis-server reads its config from
# stdin when given "-").
sed "s|^loadmodule \./|loadmodule $PWD/|" redis.conf.example |
    redis-server - --port "$port" --dir "$PWD/$dir" --daemonize yes \
        --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log"

for _ in $(seq 1 50); do
    if redis-cli -p "$port" PING >/dev/null 2>&1; then
        echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') with the SESS.* commands is running on 127.0.0.1:$port"
        echo "  try:  redis-cli -p $port SESS.CREATE myapp user1 127.0.0.1"
        echo "  log:  $dir/redis.log     stop: make stop"
        exit 0
    fi
    sleep 0.1
done
echo "Redis did not start; its log says:" >&2
tail -n 20 "$dir/redis.log" >&2
exit 1
