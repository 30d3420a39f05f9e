# Open Notebook in C++: build, run and test.
#   make run     install Debian packages, build, and serve on 127.0.0.1:5055 with data in ./data
#   make test    build with AddressSanitizer and UBSan and run every test except those labelled slow
#   make test-slow  run the tests labelled slow (minute-long streams) on the release build
#   make build   release build only;  make clean   remove build directories
#   make fuzz    build the libFuzzer targets with clang-14 and run each for FUZZ_SECONDS
#   make web     build the web UI into web/dist (npm ci runs once, again only when package-lock.json changes)

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

.PHONY: all deps build run test test-release test-slow bench fuzz clean web web-test

all: build

$(DEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	@touch $(DEPS_STAMP)

deps: $(DEPS_STAMP)

# The web UI. npm fetches packages here, at build time only; the server never downloads anything.
WEB_DEPS_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public web/index.html web/vite.config.ts web/tsconfig.json web/package.json \
                 web/scripts -type f 2>/dev/null)

$(WEB_DEPS_STAMP): web/package-lock.json | $(DEPS_STAMP)
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 nice -n 10 npm ci --no-audit --no-fund
	@touch $(WEB_DEPS_STAMP)

web/dist/index.html: $(WEB_SOURCES) $(WEB_DEPS_STAMP)
	cd web && nice -n 10 npm run build

web: web/dist/index.html

web-test: $(WEB_DEPS_STAMP)
	cd web && nice -n 10 npm test

$(BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/build.ninja web
	cmake --build $(BUILD_DIR) -j $(JOBS) --target open-notebook

run: build
	./$(BUILD_DIR)/open-notebook serve

$(TEST_BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DON_SANITIZE=ON -DON_BUILD_BENCH=OFF

# Vitest runs first; the browser test (ctest e2e.WebUi) drives the UI that `web` built.
test: $(TEST_BUILD_DIR)/build.ninja web web-test
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	cd $(TEST_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900 -LE slow

test-release: $(BUILD_DIR)/build.ninja web web-test
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900 -LE slow

# Long-running cases (ctest label "slow"), on the release build.
test-slow: $(BUILD_DIR)/build.ninja web
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
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(FUZZ_BUILD_DIR) web/dist
