package main

import (
	"context"
	"errors"
	"io"
)

// cmdDeregister is being built (its issue is open); until then it says so.
func cmdDeregister(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("deregister: not available in this build yet")
}
