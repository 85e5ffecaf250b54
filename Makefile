# flint: `make` builds, `make run` starts a CA on https://localhost:14000,
# `make test` runs every test (unit, fuzz regression, end-to-end with real clients).
BUILD ?= build
TEST_BUILD ?= build-test
DATA ?= $(CURDIR)/data
LISTEN ?= localhost:14000
JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory

.PHONY: all deps test-deps run run-ca test clean lint

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh test

# A local CA whose validation is pointed at loopback (see scripts/run-local.sh).
run: all test-deps
	./scripts/run-local.sh $(BUILD)/flintd $(DATA) $(LISTEN)

# The CA with its safe defaults: validates real names on ports 80/443.
run-ca: all
	$(BUILD)/flintd --listen $(LISTEN) --data-dir $(DATA)

# The test build uses clang with ASan+UBSan and builds the libFuzzer targets;
# each fuzz target explores for 30 s within the run (fuzz/README.md). The
# optimised flintd and acme-load are built too: tests/e2e/t_release.sh runs them.
test: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target flintd acme-load
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLINT_SANITIZE=ON -DFLINT_FUZZ=ON \
		-DFLINT_FUZZ_SECONDS=30 >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	./scripts/run-tests.sh $(TEST_BUILD)

# The soak run (tests/soak/soak.sh): the optimised flintd under 1 000-client bursts
# and two nodes on one SQLite database, round after round, the database checked
# whole after each (a copy while running, and after SIGKILL). SOAK_ROUNDS rounds
# (10, about a minute and a half); nightly in CI (.ci/nightly), not part of `make test`.
SOAK_ROUNDS ?= 10
.PHONY: soak
soak: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target flintd acme-load
	SOAK_ROUNDS=$(SOAK_ROUNDS) FLINT_RELEASE_BUILD=$(BUILD) ./tests/soak/soak.sh

# Longer fuzzing: every target (or FUZZ_ONLY=NAME) for FUZZ_SECONDS each, two at a time.
FUZZ_SECONDS ?= 300
FUZZ_ONLY ?=
.PHONY: fuzz
fuzz: test-deps
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLINT_SANITIZE=ON -DFLINT_FUZZ=ON \
		-DFLINT_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) -L fuzz -R 'fuzz/fuzz_$(FUZZ_ONLY)'

lint:
	cmake -S . -B $(BUILD) >/dev/null
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		--suppress=missingIncludeSystem -I src/lib -I src/server src

clean:
	rm -rf $(BUILD) $(TEST_BUILD)

# flintd (SQLite, PostgreSQL on 1 and 2 nodes) next to Pebble under one load, plus
# wrk on the directory and newNonce: about 5 minutes (bench/README.md). Reports, never judges.
.PHONY: bench
bench: all
	@./scripts/install-deps.sh bench
	FLINTD=$(BUILD)/flintd ACME_LOAD=$(BUILD)/acme-load ./bench/compare.sh
