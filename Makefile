# The one command that runs every test is `make test`.
GO ?= go

.PHONY: test build build-demo bench bench-cp deb deb-nodeconsole deb-controlplane

test:
	$(GO) test -race -count=1 -timeout 30m ./...
	cd third_party/bubbletea && $(GO) test -race -count=1 ./...  # the patched renderer (its README.md)

# What the .deb ships: nodeconsole without --demo (-tags nodemo, as
# deploy/build-deb.sh builds it) and the control plane, in bin/.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags nodemo -ldflags='-s -w' -o bin/ ./cmd/...

# nodeconsole with --demo (an embedded control plane and a simulated
# network), in bin/.
build-demo:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/ ./cmd/...

# Terminal cost of the console side by side with dialog and whiptail
# (docs/performance.md): prints one Markdown table, nodeconsole both --demo and as
# the release build. About 20 minutes (30 s idle per row, nodeconsole's from
# 35 s after start: -idle-after); e.g.
# `make bench BENCHFLAGS='-idle 5s -idle-after 0 -only nodeconsole'` for a quick look.
bench:
	$(GO) run ./bench/tuibench $(BENCHFLAGS)

# Control plane at scale (docs/performance.md): starts cmd/controlplane on
# 127.0.0.1, times 10,000 enrollments, holds 10,000 long-polls (RSS, fds) and
# times License Node -> the node's poll answer for 1,000 of them. About 2
# minutes; e.g. `make bench-cp CPLOADFLAGS='-nodes 2000 -activate 200'`.
# Replicas on a throwaway PostgreSQL cluster (License on the other replica):
# `make bench-cp CPLOADFLAGS='-db postgres -replicas 2'`.
bench-cp:
	$(GO) run ./bench/cpload $(CPLOADFLAGS)

# Debian packages: `make deb` builds both, $(DIST)/nodeconsole_<version>_<arch>.deb
# (deb-nodeconsole, deploy/build-deb.sh) and $(DIST)/controlplane_<version>_<arch>.deb
# (deb-controlplane). Override e.g.
# `make deb VERSION=1.2.3 DEB_GOARCH=arm64 CONSOLE_USER=console`.
DIST ?= dist
VERSION ?= $(shell sh deploy/version.sh)
DEB_GOARCH ?= $(shell $(GO) env GOARCH)
CONSOLE_USER ?= nodeadmin
INITIAL_PASSWORD ?= nodeadmin

deb: deb-nodeconsole deb-controlplane

deb-nodeconsole:
	GO='$(GO)' DIST='$(DIST)' VERSION='$(VERSION)' GOARCH='$(DEB_GOARCH)' \
	CONSOLE_USER='$(CONSOLE_USER)' INITIAL_PASSWORD='$(INITIAL_PASSWORD)' \
	sh deploy/build-deb.sh

# The control plane's package: $(DIST)/controlplane_<version>_<arch>.deb
# (deploy/build-deb-controlplane.sh; hardened unit, docs/operations.md).
deb-controlplane:
	GO='$(GO)' DIST='$(DIST)' VERSION='$(VERSION)' GOARCH='$(DEB_GOARCH)' \
	sh deploy/build-deb-controlplane.sh
