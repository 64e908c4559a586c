# Thin wrapper around CMake/CTest. Every target that runs something first
# installs the Debian packages it needs (packaging/install-deps.sh, idempotent).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build build-asan test test-fast demo bench bench-ingest bench-proxy bench-query fuzz clean format

all: build

deps:
	@packaging/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLLMTAP_SANITIZE=ON -DLLMTAP_CRASH_TRIGGER=ON

build-asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The whole suite twice: a sanitized build (ASan+UBSan) first, then the
# release build, whose CTest summary line ends the output.
test: deps
	$(MAKE) build-asan build
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 1 $(CTEST_ARGS)
	cd $(BUILD) && ctest --output-on-failure -j 1 $(CTEST_ARGS)

# Unit tests only, release build (no broker, no sanitizers).
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -L unit

demo: deps build
	@tests/demo.sh $(BUILD)/bin

bench: bench-ingest bench-proxy bench-query

bench-ingest: deps build
	@tests/bench/ingest.sh $(BUILD)/bin

bench-proxy: deps build
	@tests/bench/proxy.sh $(BUILD)/bin

bench-query: deps build
	@tests/bench/query.sh $(BUILD)/bin

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DLLMTAP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-fuzz -j $(JOBS) --target fuzz-targets
	@tests/fuzz/run.sh build-fuzz/bin

format:
	clang-format -i common/*.[ch] agent/*.[ch] collector/*.[ch] storage/*.[ch] tests/*/*.[ch]

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
