//go:build nodemo

package main

import (
	"context"
	"io"
)

// startEmbeddedControlPlane is left out of release builds (-tags nodemo).
func startEmbeddedControlPlane(ctx context.Context, dir string, logTo io.Writer) (*embeddedCP, error) {
	return nil, errNoEmbeddedControlPlane
}
