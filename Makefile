# The two commands of the README. Both install what is missing (Debian 12, as root), then build.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build test fuzz demo bench clean

deps:
	tools/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# libFuzzer targets (clang, ASan+UBSan) in their own build dir, each run for a bounded time.
fuzz: deps
	tools/fuzz.sh $(BUILD)-fuzz

demo: build
	tools/demo.sh $(BUILD)

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz
