# mcu-record — `make demo` records a live room to recordings/demo.mp4; `make test` runs the tests.
SWIFT ?= swift
RELEASE_BIN = .build/release/mcu-record
DEBUG_BIN = .build/debug/mcu-record

.PHONY: deps build release demo demo-compose test tsan fixtures bench presets openapi fuzz fuzz-seeds clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

fixtures: deps
	@scripts/gen-fixtures.sh

demo: release
	@scripts/demo-live.sh

demo-compose: release
	@mkdir -p recordings
	$(RELEASE_BIN) compose --layout grid \
	  --input Fixtures/samples/alice.webm --input Fixtures/samples/bob.webm \
	  --input Fixtures/samples/carol.webm@2 --input Fixtures/samples/dave.webm@4 \
	  --output recordings/demo-compose.mp4
	@echo "demo recording: $$(pwd)/recordings/demo-compose.mp4"

test: deps fixtures
	@scripts/install-deps.sh --test
	@scripts/peers-venv.sh
	$(SWIFT) build --build-tests
	# Serially: the live tests run in real time and must not share two cores with parallel encodes. The whole run
	# is bounded (it takes about 21 minutes on two cores): a test stuck where no time limit reaches it fails the run, never hangs it.
	timeout -k 30 40m $(SWIFT) test --skip-build --no-parallel

# The in-process suites under ThreadSanitizer (the end-to-end tests run real processes and peers: not instrumented).
# Serially as well: instrumented, two tests that encode synchronously hold both threads of the cooperative pool for
# many seconds, and a live test waiting behind them sees its session's real 10 s ICE deadline pass (68 s in all).
tsan: deps fixtures
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" timeout -k 30 20m $(SWIFT) test --skip-build --no-parallel --sanitize=thread --scratch-path .build-tsan --skip EndToEndTests

bench: release
	@scripts/gen-fixtures.sh --bench
	@Benchmarks/run.sh

presets:
	python3 scripts/gen-presets.py

openapi:
	python3 scripts/gen-openapi.py

# libFuzzer over every outside-input parser: FUZZ_SECONDS per target (default 60), FUZZ_JOBS at a time.
fuzz: deps
	@scripts/fuzz.sh

fuzz-seeds:
	python3 scripts/gen-fuzz-seeds.py

clean:
	rm -rf .build recordings Fixtures/generated Benchmarks/work
