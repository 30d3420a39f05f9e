# Open Notebook in C++: build, run and test.
#   make run     install Debian packages, build, and serve on 127.0.0.1:5055 with data in ./data
#   make test    build with AddressSanitizer and UBSan and run every test
#   make build   release build only;  make clean   remove build directories

BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CTEST_JOBS ?= $(shell nproc)
DEPS_STAMP := .deps-installed

.PHONY: all deps build run test test-release bench clean

all: build

$(DEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	@touch $(DEPS_STAMP)

deps: $(DEPS_STAMP)

$(BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/open-notebook serve

$(TEST_BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DON_SANITIZE=ON -DON_BUILD_BENCH=OFF

test: $(TEST_BUILD_DIR)/build.ninja
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	cd $(TEST_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900

test-release: build
	cd $(BUILD_DIR) && ctest -j $(CTEST_JOBS) --output-on-failure --timeout 900

bench: build
	bash bench/api/run.sh

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR)
