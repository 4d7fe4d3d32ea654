# Thin wrapper over CMake so the README can keep exactly two commands:
#   make run    build and serve (a simulated camera when no config is given)
#   make test   build with ASan+UBSan and run every test, then valgrind and install checks
# Both install their Debian packages first (scripts/deps.sh, apt-get, idempotent).

JOBS ?= $(shell nproc)
CONFIG ?=
.PHONY: run test build deps deps-test clean

deps:
	./scripts/deps.sh

deps-test:
	./scripts/deps.sh --test

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNL_BUILD_TESTS=OFF >/dev/null
	cmake --build build/release -j$(JOBS)

run: build
	./scripts/run.sh $(CONFIG)

test: deps-test
	./scripts/test.sh

clean:
	rm -rf build
