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
	// Current returns the registration state on disk.
	Current() (regclient.State, error)
	// Connectivity checks DNS, TCP, TLS and clock skew against endpoint.
	Connectivity(ctx context.Context, endpoint string) []Check
	// PrepareKey creates (or reuses) the node key and its CSR.
	PrepareKey(ctx context.Context) error
	// Update checks for a newer version and installs it through
	// console.upgradeCommand; it returns a one-line result such as
	// "skipped" or "up to date".
	Update(ctx context.Context, endpoint string) (string, error)
	// Start requests an activation code, or resumes the unexpired one.
	Start(ctx context.Context, req Request) (Code, error)
	// Next does one waiting step (a long-poll, or a pause after an error).
	Next(ctx context.Context) Outcome
	// Cancel cancels the enrollment on the server and locally.
	Cancel(ctx context.Context) error
	// Reboot runs console.rebootCommand (simulated in --demo).
	Reboot(ctx context.Context) (string, error)
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
