#!/usr/bin/env bash
# Installs what building, running and testing the module need, when missing:
#   redis-server, redis-cli and redis-benchmark (Debian: redis-server, redis-tools)
#   libclang (Debian: libclang-dev), which redis-module's bindgen loads at build time
#   cargo (only checked: install Rust with https://rustup.rs)
# With `node` (or `bench`) as first argument it also installs Node.js and npm.
# With `browser` it installs Node.js, npm and Chromium (Debian: chromium, at
# /usr/bin/chromium), which the example app's browser test drives.
# Works on Debian/Ubuntu through apt-get (as root or with sudo); elsewhere it
# says exactly what is missing and stops.
set -euo pipefail

want_node=${1:-}
missing_packages=()

have() { command -v "$1" >/dev/null 2>&1; }

# bindgen loads libclang at build time and needs clang's own headers too,
# which Debian ships in libclang-dev; elsewhere look for the library itself
# (libclang.so* or libclang-<version>.so*, not libclang-cpp).
have_libclang() {
    if have dpkg-query; then
        dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q 'ok installed'
        return
    fi
    local dir
    for dir in "${LIBCLANG_PATH:-}" /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        [ -n "$dir" ] || continue
        compgen -G "$dir/libclang.so*" >/dev/null && return 0
        compgen -G "$dir/libclang-[0-9]*.so*" >/dev/null && return 0
    done
    return 1
}

have redis-server || missing_packages+=(redis-server)
{ have redis-cli && have redis-benchmark; } || missing_packages+=(redis-tools)
have_libclang || missing_packages+=(libclang-dev)

if [ ${#missing_packages[@]} -gt 0 ]; then
    echo "ensure-deps: installing ${missing_packages[*]}"
    if ! have apt-get; then
        echo "ensure-deps: apt-get not found. Please install: redis-server (7.0 or newer), redis-cli, redis-benchmark and libclang, then retry." >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif have sudo; then
        sudo=(sudo)
    else
        echo "ensure-deps: need root (or sudo) to run: apt-get install -y ${missing_packages[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq "${missing_packages[@]}" >/dev/null
    # Debian starts its own redis-server service on port 6379 after installing
    # it; stop it so that `make run` can use that port.
    if [[ " ${missing_packages[*]} " == *" redis-server "* ]] && have systemctl; then
        "${sudo[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
    fi
fi

if ! have cargo; then
    echo "ensure-deps: cargo not found. Install Rust (https://rustup.rs) and retry." >&2
    exit 1
fi

# Node.js and npm: the Node client's tests (make test) and the benchmarks.
if [ "$want_node" = node ] || [ "$want_node" = bench ] || [ "$want_node" = browser ]; then
    if ! have node || ! have npm; then
        echo "ensure-deps: installing nodejs and npm"
        if have apt-get && [ "$(id -u)" -eq 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
        elif have apt-get && have sudo; then
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
        else
            echo "ensure-deps: the Node client's tests and the benchmarks need Node.js 18+ and npm; please install them and retry" >&2
            exit 1
        fi
    fi
fi

# Chromium: the browser test of examples/express-devices (puppeteer-core
# drives /usr/bin/chromium; it cannot download a browser of its own).
if [ "$want_node" = browser ] && [ ! -x /usr/bin/chromium ]; then
    echo "ensure-deps: installing chromium"
    if have apt-get && [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    elif have apt-get && have sudo; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "ensure-deps: the browser test needs Chromium at /usr/bin/chromium (Debian: apt-get install chromium); please install it and retry" >&2
        exit 1
    fi
    if [ ! -x /usr/bin/chromium ]; then
        echo "ensure-deps: apt-get installed chromium but /usr/bin/chromium is missing" >&2
        exit 1
    fi
fi

redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9]*\)\.\([0-9]*\).*/\1.\2/p')
case "$redis_version" in
    [0-6].*) echo "ensure-deps: Redis $redis_version is too old; the module needs Redis 7.0 or newer" >&2; exit 1 ;;
esac
