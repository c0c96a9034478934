# tieplan's build, test and demo entry points. See README.md.
#
# Nothing here relies on a tool installed by hand: `make deps` (run by `make
# test`) installs the Debian packages and Go modules the project needs, and Go
# is found on PATH or at /usr/local/go.

GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt

export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

.DEFAULT_GOAL := build
.PHONY: deps binfmt build test test-short test-faults fmtcheck vet fuzz bench bench-arm64 bench-quick demo clean

## deps: install the Debian packages (scripts/deps.sh) and Go modules, when missing
deps:
	@bash scripts/deps.sh
	@$(GO) mod download

## binfmt: let this host run i386 and arm64 binaries, for building images of
## those architectures: registers qemu-user-static with binfmt_misc (F flag)
## for each the kernel cannot run natively; changes the host, so only make
## targets that build run it. Never fails the make: the tests for an
## architecture the host still cannot run say why they are skipped.
binfmt: build
	-bin/tieplan binfmt -register i386 arm64

## build: build bin/tieplan
build:
	$(GO) build -o bin/tieplan ./cmd/tieplan

## test: deps, gofmt check, go vet, then every test
# The real builds (debootstrap, DIB, qemu boots) take about 15 minutes on 2
# cores, over go test's default 10-minute timeout.
test: deps binfmt fmtcheck vet
	$(GO) test -timeout 45m ./...

## test-short: the quick tests only (go test -short)
test-short:
	$(GO) test -short ./...

## test-faults: the fault harness, 50 trials per mode (SIGKILL, SIGINT, full
## disk) at random moments; TIEPLAN_FAULT_SEED=N replays a run
FAULT_TRIALS ?= 50
test-faults:
	TIEPLAN_FAULT_TRIALS=$(FAULT_TRIALS) $(GO) test -count=1 -timeout 60m -run '^TestFaults$$' -v ./cmd/tieplan

## fmtcheck: fail, listing the files, if any Go file is not gofmt-formatted
fmtcheck:
	@files=$$($(GOFMT) -l .); \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w):" >&2; \
		echo "$$files" >&2; \
		exit 1; \
	fi

## vet: go vet every package
vet:
	$(GO) vet ./...

## fuzz: run every fuzz target for FUZZTIME each (scripts/fuzz.sh), then
## print a table of what they found; make fuzz FUZZTIME=10s
FUZZTIME ?= 60s
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

## bench: build, then run the benchmark harness (real builds included: deps needed;
## about 21 minutes on 2 cores; the multicloud pair is opt-in: -all)
bench: deps build binfmt
	$(GO) run ./cmd/tieplan-bench

## bench-arm64: the arm64 cold build alone, tieplan vs disk-image-create -a
## arm64, both emulated through qemu-user (about 40 minutes)
bench-arm64: deps build binfmt
	$(GO) run ./cmd/tieplan-bench -only arm64-cold

## bench-quick: the benchmarks without the real image builds
bench-quick: build
	$(GO) run ./cmd/tieplan-bench -quick

## demo: install deps, build, then build examples/bootstrap for real: plan,
## apply (debootstrap from the Debian mirror, DIB's elements, a partitioned
## qcow2 with grub); a second run reuses every layer. DEMO_ARCH=i386 builds
## the seed's own architecture.
DEMO_ARCH ?= amd64
demo: deps build binfmt
	bin/tieplan plan -var arch=$(DEMO_ARCH) examples/bootstrap
	bin/tieplan apply -var arch=$(DEMO_ARCH) examples/bootstrap
	@echo "Boot it: qemu-system-x86_64 -machine accel=tcg -m 1024 -nographic -drive file=examples/bootstrap/bootstrap.qcow2,if=virtio,snapshot=on"

## clean: remove build output
clean:
	rm -rf bin
