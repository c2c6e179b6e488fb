package netconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// maxHostname is the longest host name (RFC 1123, as a DNS name).
const maxHostname = 253

// Problem is a mistake in the operator's input, as the one sentence to
// show (capitalized and ending with a full stop, unlike a Go error chain).
type Problem string

// Error implements error.
func (p Problem) Error() string { return string(p) }

func problemf(format string, args ...any) error { return Problem(fmt.Sprintf(format, args...)) }

// ValidateHostname reports, in one sentence, why name is not an RFC 1123
// host name: dot-separated labels of 1 to 63 letters, digits and hyphens,
// not starting or ending with a hyphen, 253 characters at most, and not all
// digits (it would read as an address).
func ValidateHostname(name string) error {
	switch {
	case name == "":
		return Problem("Host name is empty.")
	case len(name) > maxHostname:
		return problemf("Host name is %d characters long; at most %d are allowed.", len(name), maxHostname)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return problemf("Host name %q is an IP address.", name)
	}
	digits := true
	for i, label := range strings.Split(name, ".") {
		switch {
		case label == "":
			return problemf("Host name %q has an empty label (two dots, or a dot at either end).", name)
		case len(label) > 63:
			return problemf("Host name %q has a label longer than 63 characters.", name)
		case label[0] == '-' || label[len(label)-1] == '-':
			return problemf("Host name %q has a label starting or ending with a hyphen.", name)
		}
		for _, r := range label {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
				digits = false
			default:
				return problemf("Host name %q has %q in label %d; use letters, digits and hyphens.", name, r, i+1)
			}
		}
	}
	if digits {
		return problemf("Host name %q is all digits.", name)
	}
	return nil
}

// SetHostname validates name, writes it to path (atomically) and runs cmd
// with "{name}" replaced, when cmd is not empty, to set the running host
// name.
func SetHostname(ctx context.Context, path string, cmd []string, name string) error {
	if err := ValidateHostname(name); err != nil {
		return &FieldError{Field: FieldHostname, Index: -1, Message: err.Error()}
	}
	if err := atomicfile.WriteFile(path, []byte(name+"\n"), 0o644); err != nil {
		return fmt.Errorf("netconfig: write host name to %s: %w", path, err)
	}
	if len(cmd) > 0 {
		if err := runArgv(ctx, cmd, "{name}", name); err != nil {
			return fmt.Errorf("netconfig: set the running host name (%s written): %w", path, err)
		}
	}
	return nil
}

// ReadHostname returns the name in the host name file, "" when it does not
// exist.
func ReadHostname(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("netconfig: read host name: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// NTP clients.
const (
	NTPTimesyncd = "timesyncd"
	NTPChrony    = "chrony"
)

// NTPOptions say where NTP servers are written (config network.ntpClient,
// timesyncdDropIn, chronySources, ntpReloadCommand).
type NTPOptions struct {
	// Client is "auto", NTPTimesyncd or NTPChrony.
	Client          string
	TimesyncdDropIn string
	ChronySources   string
	// ReloadCommand makes the service re-read its servers; empty: the
	// built-in one for the client.
	ReloadCommand []string
}

// client resolves "auto": chrony when its sources directory exists.
func (o NTPOptions) client() string {
	if o.Client == NTPTimesyncd || o.Client == NTPChrony {
		return o.Client
	}
	if fi, err := os.Stat(filepath.Dir(o.ChronySources)); err == nil && fi.IsDir() {
		return NTPChrony
	}
	return NTPTimesyncd
}

func (o NTPOptions) path() string {
	if o.client() == NTPChrony {
		return o.ChronySources
	}
	return o.TimesyncdDropIn
}

// ParseNTPServers splits "a,b" into servers, each a host name or an IP
// address; every problem is reported, joined (see FieldErrors).
func ParseNTPServers(s string) ([]string, error) {
	var out []string
	var errs fieldErrors
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			if a.Zone() != "" || a.Is4In6() || !a.IsGlobalUnicast() {
				errs.add(FieldNTP, i, "NTP server %d %s is not a unicast address.", i+1, f)
				continue
			}
		} else if herr := ValidateHostname(f); herr != nil {
			errs.add(FieldNTP, i, "NTP server %d %q is neither an IP address nor a host name.", i+1, f)
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs.add(FieldNTP, -1, "NTP servers are missing; give one or more, separated by commas.")
	}
	return out, errors.Join(errs...)
}

// RenderNTP renders the file for client listing servers.
func RenderNTP(client string, servers []string) []byte {
	var b strings.Builder
	if client == NTPChrony {
		b.WriteString("# Written by nodeconsole (network ntp); changes here are overwritten.\n")
		for _, s := range servers {
			b.WriteString("server " + s + " iburst\n")
		}
		return []byte(b.String())
	}
	b.WriteString("# Written by nodeconsole (network ntp); changes here are overwritten.\n[Time]\nNTP=")
	b.WriteString(strings.Join(servers, " ") + "\n")
	return []byte(b.String())
}

// SetNTP writes servers (validated with ParseNTPServers) for the configured
// time service and makes it re-read them. It returns the file written.
func SetNTP(ctx context.Context, o NTPOptions, servers []string) (string, error) {
	client, path := o.client(), o.path()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("netconfig: write NTP servers: %w", err)
	}
	if err := atomicfile.WriteFile(path, RenderNTP(client, servers), 0o644); err != nil {
		return "", fmt.Errorf("netconfig: write NTP servers to %s: %w", path, err)
	}
	cmd := o.ReloadCommand
	if len(cmd) == 0 {
		cmd = []string{"systemctl", "try-restart", "systemd-timesyncd"}
		if client == NTPChrony {
			cmd = []string{"chronyc", "reload", "sources"}
		}
	}
	if err := runArgv(ctx, cmd, "", ""); err != nil {
		return path, fmt.Errorf("netconfig: NTP servers written to %s, but the time service did not reload: %w", path, err)
	}
	return path, nil
}

// ReadNTP returns the servers in the configured file (nil when it does not
// exist) and the client.
func ReadNTP(o NTPOptions) ([]string, string, error) {
	client := o.client()
	b, err := os.ReadFile(o.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, client, nil
	}
	if err != nil {
		return nil, client, fmt.Errorf("netconfig: read NTP servers: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case client == NTPChrony && len(f) >= 2 && (f[0] == "server" || f[0] == "pool"):
			out = append(out, f[1])
		case client != NTPChrony && strings.HasPrefix(strings.TrimSpace(line), "NTP="):
			out = append(out, strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "NTP="))...)
		}
	}
	return out, client, nil
}

// runArgv runs argv with placeholder replaced by value in each argument,
// and reports its output on failure.
func runArgv(ctx context.Context, argv []string, placeholder, value string) error {
	args := make([]string, len(argv))
	for i, a := range argv {
		if placeholder != "" {
			a = strings.ReplaceAll(a, placeholder, value)
		}
		args[i] = a
	}
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return fmt.Errorf("%s: %w: %s", args[0], err, msg)
		}
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}
