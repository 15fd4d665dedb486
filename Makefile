# Kappa — common tasks. The README's quick start is `make demo` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libprotobuf-c-dev protobuf-c-compiler libopenblas-dev liblapacke-dev pkg-config
SAMPLE := samples/digits_cnn
KAPPA := .build/release/kappa

.PHONY: deps build release demo test test-fast proto proto-check bench clean

## deps: install the Debian packages Kappa builds against (only those missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release --product kappa

## demo: build (release) and analyse the bundled trained sample
demo: release
	@echo "== kappa inspect $(SAMPLE)/model.onnx"
	@$(KAPPA) inspect $(SAMPLE)/model.onnx
	@echo; echo "== kappa analyze $(SAMPLE)/model.onnx --norm operator"
	@$(KAPPA) analyze $(SAMPLE)/model.onnx --norm operator
	@echo; echo "== kappa validate $(SAMPLE)/model.onnx --inputs $(SAMPLE)"
	@$(KAPPA) validate $(SAMPLE)/model.onnx --inputs $(SAMPLE) 2>/dev/null
	@echo; echo "== kappa check $(SAMPLE)/model.onnx --max-bits 8 (static bound, then measured κ)"
	@$(KAPPA) check $(SAMPLE)/model.onnx --max-bits 8 --exit-zero
	@$(KAPPA) check $(SAMPLE)/model.onnx --max-bits 8 --inputs $(SAMPLE) 2>/dev/null

## test: the whole suite (what .ci/run runs)
test: deps proto-check
	swift build --build-tests
	swift test

## test-fast: the suite without the tests tagged .slow (full-size models, long fuzz runs)
test-fast: deps proto-check
	swift build --build-tests
	swift test --skip 'ArchitectureTests|PassCrewTests|FuzzTests|pipelineFuzzer'

## proto: regenerate Sources/ONNXProto from schemas/onnx.proto
proto: deps
	scripts/gen-proto.sh

## proto-check: fail when the committed generated code is stale
proto-check: deps
	scripts/gen-proto.sh --check

## bench: release benchmarks side by side with the Python peers (see bench/run.sh)
bench: deps
	bench/run.sh all

clean:
	rm -rf .build bench/out
