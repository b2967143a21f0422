# iisguard — user entry points.  `make demo` and `make test` install what
# they need from Debian (as root), build, and run.
SHELL := /bin/bash
# build and test dependencies (Debian 12 package names)
DEPS := cmake ninja-build gcc clang libclang-rt-14-dev zlib1g-dev python3 libevtx-utils \
        pkg-config libyaml-dev libpcre2-dev libexpat1-dev libssl-dev libyara-dev libnats-dev nats-server jq \
        clang-format gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 python3-pefile \
        osslsigncode mono-mcs libmono-system-web4.0-cil chromium tzdata
JOBS ?= $(shell nproc)

.PHONY: all build deps test asan tsan-check fuzz-smoke format-check demo bench fuzz clean

all: build

deps:
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root to install)"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build:
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)
	ln -sf release/iisguard build/iisguard
	ln -sf release/igfix build/igfix

asan: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)

test: deps asan format-check fuzz-smoke tsan-check
	ctest --preset asan -j $(JOBS)

# the threaded pipeline under ThreadSanitizer, on the shared corpus
tsan-check:
	cmake --preset tsan >/dev/null
	cmake --build build/tsan -j $(JOBS)
	bash tools/tsan-check.sh build/tsan/iisguard build/asan/tests/natsctl

# a short libFuzzer run per target (the long campaigns are run by hand: make fuzz)
fuzz-smoke:
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	bash tools/fuzz.sh smoke

fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	bash tools/fuzz.sh long

format-check:
	@files=$$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests tools fuzz -name '*.[ch]'); \
	clang-format --dry-run --Werror $$files && echo "format: 1 passed, 0 failed"

demo: deps build
	@mkdir -p build/demo
	./build/igfix evtx build/demo/web01-security.evtx --scenario demo
	@echo "== iisguard dump build/demo/web01-security.evtx (first records) =="
	./build/iisguard dump build/demo/web01-security.evtx -o build/demo/web01.jsonl --force
	@head -n 2 build/demo/web01.jsonl
	@echo "... $$(wc -l < build/demo/web01.jsonl) records in build/demo/web01.jsonl"
	@echo "== iisguard hunt build/demo/web01-security.evtx (built-in T1505.004 rules) =="
	./build/iisguard hunt build/demo/web01-security.evtx || [ $$? -eq 1 ]
	@rm -rf build/demo/web01-root
	./build/igfix iis build/demo/web01-root --scenario demo
	@echo "== iisguard audit --root build/demo/web01-root (the host's IIS configuration) =="
	./build/iisguard audit --root build/demo/web01-root | sed -n '/== inventory ==/q;p' || true
	@echo "== iisguard scan build/demo/web01-root (IIS components by their exports) =="
	./build/iisguard scan build/demo/web01-root/inetpub build/demo/web01-root/ProgramData || [ $$? -eq 1 ]

bench: deps build
	bash bench/evtx.sh
	bash bench/hunt.sh
	bash bench/pe.sh
	bash bench/stream.sh

clean:
	rm -rf build
