package regclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// maxUpdateSize bounds a downloaded build.
const maxUpdateSize = 512 << 20

// CheckUpdate asks whether a build newer than version is offered for arch.
// It returns nil and no error when there is none.
func (c *Client) CheckUpdate(ctx context.Context, version, arch string) (*api.UpdateOffer, error) {
	var out api.UpdateOffer
	q := url.Values{"version": {version}, "arch": {arch}}
	status, err := c.call(ctx, "update check", http.MethodGet, api.PathUpdate+"?"+q.Encode(), nil, nil, &out, c.timeout)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent || out.Version == "" {
		return nil, nil
	}
	if out.URL == "" || len(out.SHA256) != 64 {
		return nil, &Error{Op: "update check", Status: status, Message: "the update offer lacks a URL or a SHA-256", kind: ErrNotAPI}
	}
	return &out, nil
}

// Download fetches offer into dir (as nodeconsole-VERSION, mode 0755) and
// checks its SHA-256; a mismatch removes the file and fails.
func (c *Client) Download(ctx context.Context, offer api.UpdateOffer, dir string) (string, error) {
	u, err := url.Parse(offer.URL)
	if err != nil || u.Scheme != "https" {
		return "", fmt.Errorf("regclient: download: update URL %q is not https", offer.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, offer.URL, nil)
	if err != nil {
		return "", fmt.Errorf("regclient: download: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", c.transportError(ctx, "download", err, 10*c.timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", &Error{Op: "download", Status: resp.StatusCode, Message: fmt.Sprintf("the update download answered %s", resp.Status), retryable: resp.StatusCode >= 500}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("regclient: download: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("regclient: download: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, maxUpdateSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", c.transportError(ctx, "download", err, 10*c.timeout)
	}
	if n > maxUpdateSize {
		return "", fmt.Errorf("regclient: download: the update is larger than %d bytes", maxUpdateSize)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, offer.SHA256) {
		return "", fmt.Errorf("regclient: download: SHA-256 mismatch: got %s, the control plane announced %s", got, offer.SHA256)
	}
	name := "nodeconsole-" + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, offer.Version)
	dst := filepath.Join(dir, name)
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", fmt.Errorf("regclient: download: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("regclient: download: %w", err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", err
	}
	return dst, nil
}

// UpdateStatus is the outcome of the update step.
type UpdateStatus string

// Update step outcomes.
const (
	// UpdateSkipped: no console.upgradeCommand configured.
	UpdateSkipped UpdateStatus = "skipped"
	// UpdateNone: the control plane offers nothing newer.
	UpdateNone UpdateStatus = "up to date"
	// UpdateInstalled: a newer build was downloaded, verified and handed
	// to the upgrade command.
	UpdateInstalled UpdateStatus = "installed"
	// UpdateFailed: the check, download, checksum or command failed;
	// registration may go on.
	UpdateFailed UpdateStatus = "failed"
)

// UpdateResult is the update step's line on the screen.
type UpdateResult struct {
	// Status says what happened.
	Status UpdateStatus
	// Version is the offered version, if any.
	Version string
	// Path is the downloaded file, if any.
	Path string
	// Err is the failure, if any.
	Err error
}

// Runner runs argv (the upgrade command plus the downloaded file).
type Runner func(ctx context.Context, argv []string) error

// ExecRunner runs argv as a process.
func ExecRunner(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("regclient: empty command")
	}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("regclient: %s: %w: %s", argv[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Updater is the update step of Register Node.
type Updater struct {
	// Client asks the control plane.
	Client *Client
	// Version and Arch describe this build (runtime.GOARCH).
	Version, Arch string
	// Command is console.upgradeCommand; empty skips the step.
	Command []string
	// Dir receives the download (for example STATE/updates).
	Dir string
	// Run runs the command; default ExecRunner.
	Run Runner
}

// Update checks for a newer build, downloads it, checks its SHA-256 and
// hands it to Command (argv + path). It never fails registration: the
// result says what happened.
func (u Updater) Update(ctx context.Context) UpdateResult {
	if len(u.Command) == 0 {
		return UpdateResult{Status: UpdateSkipped}
	}
	offer, err := u.Client.CheckUpdate(ctx, u.Version, u.Arch)
	if err != nil {
		return UpdateResult{Status: UpdateFailed, Err: err}
	}
	if offer == nil {
		return UpdateResult{Status: UpdateNone}
	}
	path, err := u.Client.Download(ctx, *offer, u.Dir)
	if err != nil {
		return UpdateResult{Status: UpdateFailed, Version: offer.Version, Err: err}
	}
	run := u.Run
	if run == nil {
		run = ExecRunner
	}
	argv := append(append([]string{}, u.Command...), path)
	if err := run(ctx, argv); err != nil {
		return UpdateResult{Status: UpdateFailed, Version: offer.Version, Path: path, Err: err}
	}
	return UpdateResult{Status: UpdateInstalled, Version: offer.Version, Path: path}
}
