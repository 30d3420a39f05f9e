# Open Notebook in C++: build, run and test.
#   make run     install Debian packages, build, and serve on 127.0.0.1:5055 with data in ./data
#   make test    build with AddressSanitizer and UBSan and run every test, the minute-long ones
#                labelled slow included (they mostly wait, so they run beside the others)
#   make test-slow  run only the tests labelled slow, on the release build
#   make build   release build only;  make clean   remove build directories
#   make fuzz    build the libFuzzer targets with clang-14 and run each for FUZZ_SECONDS
#   make start-all / stop-all / status / restart-worker / logs / clean-cache
#                the API and the worker as separate processes under supervisord (see below)

BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CTEST_JOBS ?= $(shell nproc)
DEPS_STAMP := .deps-installed
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
# name:max_len pairs; max_len is the largest input worth mutating for that parser.
FUZZ_TARGETS ?= multipart_fuzzer:16384 http_parsing_fuzzer:4096 json_body_fuzzer:16384 \
                file_name_fuzzer:2048 extract_fuzzer:65536 snippet_fuzzer:8192 \
                sse_fuzzer:16384 json_writer_fuzzer:4096

.PHONY: all deps build run test test-release test-slow bench fuzz clean \
        start-all stop-all status restart-worker logs clean-cache

all: build

$(DEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	@touch $(DEPS_STAMP)

deps: $(DEPS_STAMP)

$(BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target open-notebook

run: build
	./$(BUILD_DIR)/open-notebook serve

$(TEST_BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DON_SANITIZE=ON -DON_BUILD_BENCH=OFF

test: $(TEST_BUILD_DIR)/build.ninja
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	cd $(TEST_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900

test-release: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900 -LE slow

# Long-running cases (ctest label "slow"), on the release build.
test-slow: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900 -L slow

bench: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_search_direct bench_vector
	bash bench/api/run.sh
	bash bench/ingest/run.sh
	bash bench/search/run.sh
	bash bench/vector/run.sh

# New corpus entries go to $(FUZZ_BUILD_DIR)/corpus; the seeds in tests/fuzz/corpus are only read.
$(FUZZ_BUILD_DIR)/build.ninja: CMakeLists.txt tests/fuzz/CMakeLists.txt | $(DEPS_STAMP)
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DON_FUZZ=ON -DON_BUILD_TESTS=OFF -DON_BUILD_BENCH=OFF

fuzz: $(FUZZ_BUILD_DIR)/build.ninja
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzzers
	@set -e; for entry in $(FUZZ_TARGETS); do \
	  name=$${entry%%:*}; max_len=$${entry##*:}; \
	  mkdir -p $(FUZZ_BUILD_DIR)/corpus/$$name $(FUZZ_BUILD_DIR)/artifacts; \
	  echo "== $$name: $(FUZZ_SECONDS) s, -max_len=$$max_len"; \
	  $(FUZZ_BUILD_DIR)/tests/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -max_len=$$max_len -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD_DIR)/artifacts/$$name- $(FUZZ_BUILD_DIR)/corpus/$$name tests/fuzz/corpus/$$name; \
	done

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(FUZZ_BUILD_DIR)

# --- Separate processes under supervisord (deploy/supervisord.conf) ---------------------------
# The API and the worker run as two programs of one supervisord, controlled through a Unix socket
# in RUN_DIR; the API listens on API_HOST:API_PORT (127.0.0.1:5055 by default). Every variable
# below may be set on the command line or in the environment, e.g.
#   make start-all DATA_DIR=/srv/notebook API_PORT=6055
# With ON_BIN given, start-all uses that binary as it is and builds nothing.
DATA_DIR ?= $(or $(OPEN_NOTEBOOK_DATA_DIR),$(CURDIR)/data)
RUN_DIR ?= $(CURDIR)/run
API_HOST ?= 127.0.0.1
API_PORT ?= 5055
START_TIMEOUT ?= 120
LOG_LINES ?= 100
# `make logs LOG_FOLLOW=` prints the last lines and returns instead of following the files.
LOG_FOLLOW ?= -F
ifeq ($(origin ON_BIN),undefined)
ON_BIN := $(CURDIR)/$(BUILD_DIR)/open-notebook
START_DEPS := build
endif
SUPERVISOR_CONF ?= $(CURDIR)/deploy/supervisord.conf
# supervisord expands these in its configuration, and its programs inherit them.
SUPERVISOR_ENV = env ON_BIN='$(abspath $(ON_BIN))' ON_RUN_DIR='$(abspath $(RUN_DIR))' \
  OPEN_NOTEBOOK_DATA_DIR='$(abspath $(DATA_DIR))' API_HOST='$(API_HOST)' API_PORT='$(API_PORT)'
SUPERVISORCTL = $(SUPERVISOR_ENV) supervisorctl -c '$(SUPERVISOR_CONF)'
# A wildcard listen address is reached through loopback.
HEALTH_HOST = $(if $(filter 0.0.0.0 ::,$(API_HOST)),127.0.0.1,$(API_HOST))
# Succeeds when the pid file names a live supervisord (a stale file may name another program).
SUPERVISORD_ALIVE = pid=$$(cat '$(RUN_DIR)/supervisord.pid' 2>/dev/null) && \
  ps -o args= -p "$$pid" 2>/dev/null | grep -q supervisord

# Returns once the API reports healthy and every program is RUNNING (up for startsecs), or fails
# after START_TIMEOUT seconds.
start-all: $(START_DEPS)
	@command -v supervisord >/dev/null || { echo "supervisord is missing: run scripts/install-deps.sh"; exit 1; }
	@test -x '$(ON_BIN)' || { echo "$(ON_BIN) is not an executable: run make build, or set ON_BIN"; exit 1; }
	@mkdir -p '$(RUN_DIR)/logs' '$(DATA_DIR)'
	@if $(SUPERVISORD_ALIVE); then \
	  echo "supervisord already runs (pid $$pid); starting any stopped program"; $(SUPERVISORCTL) start all; \
	else \
	  $(SUPERVISOR_ENV) supervisord -c '$(SUPERVISOR_CONF)'; \
	fi
	@deploy/wait-for-health.sh 'http://$(HEALTH_HOST):$(API_PORT)/health' $(START_TIMEOUT) || \
	  { echo "see $(RUN_DIR)/logs/api.log"; exit 1; }
	@for i in $$(seq 1 $$(( $(START_TIMEOUT) * 5 ))); do \
	  $(SUPERVISORCTL) status 2>&1 | grep -qv ' RUNNING ' || break; sleep 0.2; \
	done
	@$(SUPERVISORCTL) status

# supervisord stops the worker first (running jobs finish or go back to the queue), then the API
# (in-flight requests drain); this target returns once supervisord itself has exited.
stop-all:
	@if $(SUPERVISORD_ALIVE); then \
	  $(SUPERVISORCTL) shutdown; \
	  for i in $$(seq 1 600); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.2; done; \
	  if kill -0 "$$pid" 2>/dev/null; then echo "supervisord (pid $$pid) still runs after 120 s"; exit 1; fi; \
	  echo "stopped"; \
	else \
	  echo "not running (no live supervisord in $(RUN_DIR)/supervisord.pid)"; \
	fi

# Each program's supervisord state, then `open-notebook status` (API health, database schema,
# live workers, queue, backups, disk). Fails when a program is not RUNNING or a problem is found;
# warnings alone (exit code 2 of open-notebook status) do not fail it.
status:
	@$(SUPERVISORCTL) status; programs=$$?; \
	$(SUPERVISOR_ENV) '$(ON_BIN)' status; checks=$$?; \
	if [ $$programs -ne 0 ] || [ $$checks -eq 1 ] || [ $$checks -gt 2 ]; then exit 1; fi

# SIGTERM, so running jobs finish or go back to the queue, then a new worker process.
restart-worker:
	@$(SUPERVISORCTL) restart worker

logs:
	tail -n $(LOG_LINES) $(LOG_FOLLOW) '$(RUN_DIR)/logs/api.log' '$(RUN_DIR)/logs/worker.log'

# Deletes files the product rebuilds by itself, never user data:
#   $(DATA_DIR)/cache/    rebuildable files
#   $(DATA_DIR)/vectors/  saved vector indexes, rebuilt from the embeddings in the database at the
#                         next vector search of each model
# The database, uploads/, podcasts/ and backups/ are never touched.
clean-cache:
	rm -rf -- '$(DATA_DIR)/cache' '$(DATA_DIR)/vectors'
	@echo "deleted $(DATA_DIR)/cache and $(DATA_DIR)/vectors"
