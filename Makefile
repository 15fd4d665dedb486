# Kappa — common tasks. The README's quick start is `make demo` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libprotobuf-c-dev protobuf-c-compiler libopenblas-dev liblapacke-dev pkg-config
SAMPLE := samples/digits_cnn
DEMO_OUT := .build/demo
KAPPA := .build/release/kappa

# Install locations (GNU conventions; DESTDIR stages a package root for packagers).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
BASH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_COMPLETIONS := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
MAN1DIR := $(DESTDIR)$(PREFIX)/share/man/man1
INSTALLED := $(BINDIR)/kappa $(BASH_COMPLETIONS)/kappa $(ZSH_COMPLETIONS)/_kappa \
	$(FISH_COMPLETIONS)/kappa.fish $(MAN1DIR)/kappa.1

# `kappa --version` names the git revision: `buildinfo` compiles a one-line object defining
# it (Sources/CBuildInfo holds a weak "unknown" that this replaces at link time). The object's
# name carries the revision, so a new commit only relinks. Plain `swift build` links none.
BUILDINFO_DIR := $(CURDIR)/.build/kappa-buildinfo
GIT_REVISION := $(shell if [ -e .git ] && git rev-parse --short HEAD >/dev/null 2>&1; then \
	  r=$$(git rev-parse --short HEAD); git diff --quiet HEAD -- 2>/dev/null || r="$$r-dirty"; echo "$$r"; \
	else echo unknown; fi)
BUILDINFO_OBJ := $(BUILDINFO_DIR)/rev-$(GIT_REVISION).o
RELEASE_FLAGS := -Xlinker $(BUILDINFO_OBJ)
# Any C compiler will do (Swift's toolchain brings clang where there is no cc).
BUILDINFO_CC := $(firstword $(shell command -v $(CC) clang gcc 2>/dev/null) $(CC))
STAGE := .build/kappa-install

.PHONY: deps build buildinfo release manual install uninstall demo demo-html test test-fast proto proto-check bench clean

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

## buildinfo: the object that names the git revision (short hash, "-dirty" with uncommitted changes)
buildinfo:
	@mkdir -p $(BUILDINFO_DIR)
	@if [ ! -f $(BUILDINFO_OBJ) ]; then \
	  rm -f $(BUILDINFO_DIR)/rev-*; \
	  printf 'const char kappa_build_revision[] = "%s";\n' "$(GIT_REVISION)" > $(BUILDINFO_DIR)/rev-$(GIT_REVISION).c; \
	  $(BUILDINFO_CC) -c -o $(BUILDINFO_OBJ) $(BUILDINFO_DIR)/rev-$(GIT_REVISION).c; \
	fi

release: deps buildinfo
	swift build -c release --product kappa $(RELEASE_FLAGS)

## manual: kappa.1 from the CLI's own help (`kappa --experimental-dump-help` rendered by
## Sources/KappaManual), dated by the last commit so the page is reproducible
manual: release
	swift build -c release --product kappa-manual $(RELEASE_FLAGS)
	@mkdir -p $(STAGE)
	set -o pipefail; date=$$(git log -1 --format=%cs 2>/dev/null || date +%F); \
	$(KAPPA) --experimental-dump-help | .build/release/kappa-manual --date "$$date" \
	  --source "$$($(KAPPA) --version)" \
	  --exit-status "0 clean, 1 a gate failed (kappa check), 2 usage, I/O or model error." > $(STAGE)/kappa.1

## install: the release binary, bash/zsh/fish completions and the man page under
## $(DESTDIR)$(PREFIX) (default /usr/local)
install: release manual
	$(KAPPA) --generate-completion-script bash > $(STAGE)/kappa.bash
	$(KAPPA) --generate-completion-script zsh > $(STAGE)/_kappa
	$(KAPPA) --generate-completion-script fish > $(STAGE)/kappa.fish
	install -d $(BINDIR) $(BASH_COMPLETIONS) $(ZSH_COMPLETIONS) $(FISH_COMPLETIONS) $(MAN1DIR)
	install -m 755 $(KAPPA) $(BINDIR)/kappa
	install -m 644 $(STAGE)/kappa.bash $(BASH_COMPLETIONS)/kappa
	install -m 644 $(STAGE)/_kappa $(ZSH_COMPLETIONS)/_kappa
	install -m 644 $(STAGE)/kappa.fish $(FISH_COMPLETIONS)/kappa.fish
	install -m 644 $(STAGE)/kappa.1 $(MAN1DIR)/kappa.1
	@echo "installed: $(BINDIR)/kappa ($$($(BINDIR)/kappa --version))"

## uninstall: remove exactly the files `install` put there (same PREFIX and DESTDIR)
uninstall:
	rm -f $(INSTALLED)

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
	@$(MAKE) --no-print-directory demo-html

## demo-html: the sample's HTML reports (open them in a browser; no network needed)
demo-html: release
	@mkdir -p $(DEMO_OUT)
	@$(KAPPA) analyze $(SAMPLE)/model.onnx --norm operator --format html -o $(DEMO_OUT)/analyze.html 2>/dev/null
	@$(KAPPA) validate $(SAMPLE)/model.onnx --inputs $(SAMPLE) --format html -o $(DEMO_OUT)/validate.html 2>/dev/null
	@echo; echo "== HTML reports: $(DEMO_OUT)/analyze.html $(DEMO_OUT)/validate.html"

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
