# The two commands a new user needs:
#   make run    build the module and start Redis with it on 127.0.0.1:6379
#   make test   run every test (unit tests, then integration tests against real redis-server)
# Both install redis-server, redis-tools and libclang-dev first when missing (Debian/Ubuntu).

MODULE  := target/release/libredis_sessions.so
PORT    ?= 6379
RUNDIR  := run
# The integration tests mostly wait on the clock (the shortest ttl is 10 s),
# so they run many at a time even on two cores.
TEST_THREADS ?= 16

# Servers for test-matrix (scripts/servers.sh list); CI runs a subset.
SERVERS ?= redis-7.0 redis-7.2 redis-7.4 redis-8.2 valkey-8.0 valkey-8.1 valkey-9.1

.PHONY: all deps build run stop test test-matrix soak unit-test lint fmt bench bench-scale bench-import bench-http clean help demo test-browser

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: ## install redis-server, redis-tools and libclang-dev when missing
	@scripts/ensure-deps.sh

build: deps ## build the module (target/release/libredis_sessions.so)
	@cargo build --release

run: build ## start Redis with the module on 127.0.0.1:$(PORT), in the background
	@scripts/run.sh $(PORT) $(RUNDIR)

stop: ## stop the Redis started by make run
	@scripts/run.sh stop $(RUNDIR)

test: build ## run all tests against the release module (and the Node client's, with Node.js)
	@scripts/ensure-deps.sh node
	SESS_MODULE=$(CURDIR)/$(MODULE) cargo test --release -- --test-threads=$(TEST_THREADS)

test-matrix: build ## run the integration tests on every server in SERVERS (fetched into target/servers)
	@scripts/ensure-deps.sh node
	@scripts/test-matrix.sh $(SERVERS)

soak: build ## one million random SESS.* calls with replicas, expiry and DEBUG RELOAD (minutes; SOAK_CALLS=n)
	SESS_MODULE=$(CURDIR)/$(MODULE) cargo test --release --test soak -- --ignored --nocapture

lint: ## rustfmt and clippy, warnings are errors
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

fmt: ## format the code
	cargo fmt

bench: build ## benchmarks against plain Redis and the Node library (a few minutes)
	@scripts/ensure-deps.sh bench
	@bench/run.sh

bench-scale: build ## a 1,000,000-session app: worst concurrent round trip of each heavy command (minutes)
	@scripts/ensure-deps.sh bench
	@BENCH_SCRIPT=scale.js bench/run.sh

bench-import: build ## 100,000 sessions written by redis-sessions 4.0.0, moved by SESS.IMPORT under a concurrent probe
	@scripts/ensure-deps.sh bench
	@BENCH_SCRIPT=import.js bench/run.sh

# The module is built by a silent make: make's echo of the build command
# would otherwise reach stdout ahead of the report (how "cargo build
# --release" lines got into reports pasted into the docs).
bench-http: ## express-session end to end under autocannon: MemoryStore, connect-redis and SessStore (about 5 minutes)
	@$(MAKE) --no-print-directory -s build
	@scripts/ensure-deps.sh bench
	@BENCH_SCRIPT=http.js bench/run.sh

demo: ## the example app examples/express-devices on http://localhost:3000 (DEMO_PORT), against the Redis of make run
	@scripts/ensure-deps.sh node
	@if [ "$$(redis-cli -p $(PORT) PING 2>/dev/null)" != PONG ]; then \
		echo "make demo: no Redis answers on 127.0.0.1:$(PORT). Run 'make run' first (it starts Redis with the module), then 'make demo'." >&2; exit 1; fi
	@if ! redis-cli -p $(PORT) COMMAND INFO sess.get | grep -q sess.get; then \
		echo "make demo: the Redis on 127.0.0.1:$(PORT) has no SESS.* commands. Stop it, then 'make run' and 'make demo' (or: make run PORT=6380 && make demo PORT=6380)." >&2; exit 1; fi
	@cd examples/express-devices && \
		if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || \
			! cmp -s ../../clients/express/index.js node_modules/sess-express-store/index.js || \
			! cmp -s ../../clients/express/package.json node_modules/sess-express-store/package.json; then \
			echo "make demo: npm ci in examples/express-devices"; npm ci --no-audit --no-fund --loglevel=error; fi
	@echo "make demo: open http://localhost:$${DEMO_PORT:-3000} and log in with any name (Ctrl-C stops it)"
	@cd examples/express-devices && PORT=$${DEMO_PORT:-3000} REDIS_URL=redis://127.0.0.1:$(PORT) SESS_APP=devices exec node server.js

test-browser: build ## the example app's browser test alone (Chromium driven by puppeteer-core; installs chromium when missing)
	@scripts/ensure-deps.sh browser
	SESS_MODULE=$(CURDIR)/$(MODULE) cargo test --release --test browser -- --nocapture

clean: ## remove build output
	cargo clean
	rm -rf $(RUNDIR) bench/results
