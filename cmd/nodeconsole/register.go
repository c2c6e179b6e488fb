package main

import (
	"context"
	"errors"
	"io"
)

// cmdRegister is being built (its issue is open); until then it says so.
func cmdRegister(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("register: not available in this build yet")
}
