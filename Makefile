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

.PHONY: all deps build run stop test test-matrix soak unit-test lint fmt bench bench-scale bench-import clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: ## install redis-server, redis-tools and libclang-dev when missing
	@scripts/ensure-deps.sh

build: deps ## build the module (target/release/libredis_sessions.so)
	cargo build --release

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

clean: ## remove build output
	cargo clean
	rm -rf $(RUNDIR) bench/results
