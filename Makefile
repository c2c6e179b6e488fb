# The one command that runs every test is `make test`.
GO ?= go

.PHONY: test build bench deb

test:
	$(GO) test -race -count=1 -timeout 30m ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/ ./cmd/...
