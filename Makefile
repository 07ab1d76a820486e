# Thin wrapper: the README's two commands. Everything real lives in CMake and scripts/.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: deps configure build test demo bench clean

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 || (cat $(BUILD).configure.log; exit 1)

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900

demo: build
	@bash scripts/demo.sh $(BUILD)

bench: build
	@bash bench/run_cpu_bench.sh $(BUILD)

clean:
	@rm -rf $(BUILD) $(BUILD).configure.log
