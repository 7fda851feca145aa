# Entry points (contract §1). Every target installs what it needs first.
SWIFT ?= swift
DEMO_DIR ?= var/demo
HOST ?= 127.0.0.1
PORT ?= 8583
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8080

.PHONY: deps build build-release run test bench fuzz clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

build-release: deps
	$(SWIFT) build -c release

# Creates ./var/demo on first use, then serves it: the gateway on 127.0.0.1:8583, the web space on :8080.
run: build
	@scripts/run.sh "$(DEMO_DIR)" "$(HOST)" "$(PORT)" "$(WEB_HOST)" "$(WEB_PORT)"

# Everything: swift test (unit, property-based, multi-process, end-to-end) and the interoperability tests.
test: deps
	@scripts/test.sh

bench: build-release
	@scripts/bench.sh

# libFuzzer on the parsers, FUZZ_SECONDS per target (default 600); what it finds goes to var/fuzz/.
FUZZ_SECONDS ?= 600
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

clean:
	rm -rf .build var
