package register

import (
	"context"
	"time"

	"github.com/nodeconsole/nodeconsole/regclient"
)

// Flow is what the screen needs from the registration client. The real one
// (NewFlow) drives regclient against the control plane; tests may use a fake
// for golden snapshots, next to the flow test against the real server.
// Every method is called from inside a tea.Cmd.
type Flow interface {
	// Current returns the registration state on disk, with the code to
	// show again when an enrollment is pending.
	Current(ctx context.Context) (Status, error)
	// Connectivity checks DNS, TCP, TLS and clock skew against endpoint.
	Connectivity(ctx context.Context, endpoint string) []Check
	// PrepareKey creates (or reuses) the node key and its CSR.
	PrepareKey(ctx context.Context) error
	// Update checks for a newer version and installs it through
	// console.upgradeCommand.
	Update(ctx context.Context, endpoint string) (UpdateResult, error)
	// Start requests an activation code, or resumes the unexpired one.
	Start(ctx context.Context, req Request) (Code, error)
	// Next does one waiting step (a long-poll, or a pause after an error).
	Next(ctx context.Context) Outcome
	// Cancel cancels the enrollment on the server and locally.
	Cancel(ctx context.Context) error
	// Reboot runs console.rebootCommand (simulated in --demo).
	Reboot(ctx context.Context) (string, error)
}

// Status is the registration state on disk.
type Status struct {
	State regclient.State
	// Code is the saved code of a pending enrollment (nil otherwise).
	Code *Code
}

// UpdateResult is how the update step ended.
type UpdateResult struct {
	// Skipped: no console.upgradeCommand, so nothing was checked.
	Skipped bool
	// Text is one line such as "up to date" or "installed 1.4.0".
	Text string
}

// Request is what the operator confirmed.
type Request struct {
	Endpoint string
	Make     string
	Model    string
}

// Check is one connectivity check.
type Check struct {
	Name   string
	OK     bool
	Detail string // what was seen
	Hint   string // what to do about a failure
}

// Code is an activation code to show.
type Code struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	// QRURL is what the QR code encodes (the complete verification URL,
	// or site.registrationURL with node ID and code).
	QRURL     string
	ExpiresAt time.Time
	// KeyFingerprint is the node key's short fingerprint
	// (api.KeyFingerprint), which the portal's Find shows too; "" when
	// the key cannot be read.
	KeyFingerprint string
}

// OutcomeKind says how a waiting step ended.
type OutcomeKind int

// Waiting-step outcomes.
const (
	Waiting    OutcomeKind = iota // still pending; call Next again
	Retrying                      // a network error; Next waits before retrying
	Registered                    // activated: NodeName, Project set
	Expired                       // the code expired; offer a new one
	Denied                        // an admin denied the request
	Failed                        // a final error (Err)
)

// Outcome is the result of one waiting step.
type Outcome struct {
	Kind      OutcomeKind
	LastCheck time.Time
	RetryIn   time.Duration
	NodeName  string
	Project   string
	Err       error
}
