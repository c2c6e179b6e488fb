package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// TokenEnv is the environment variable `register` reads a registration
// token from (after --token-file and --token, before the config).
const TokenEnv = "NODECONSOLE_REGISTRATION_TOKEN"

// cmdRegister is `nodeconsole register [--token-file FILE | --token TOKEN]
// [--pairing-key-file FILE] [--timeout DURATION]`.
//
// With a token (--token-file, --token, $NODECONSOLE_REGISTRATION_TOKEN, else
// config site.registrationToken) the node registers at once; otherwise it
// prints an activation code with this node key's fingerprint, the URL (and
// a QR code when stdout is a terminal) and waits until an admin activates
// it. A pairing key (--pairing-key-file, else site.pairingKey) goes with the
// enrollment: a node an admin pre-added with that key is approved at once.
// A restart while waiting shows the same code. Exit 0 once registered, and
// also when the node is registered already (it says so); 1 with one line
// on stderr when the code expires, is denied, or --timeout passes (the code
// then stays valid: running register again shows it); 2 for bad flags, an
// unreadable or empty secret file, or a missing endpoint. Secrets are never
// printed or logged; --token works but warns once on stderr that other
// users can read it in ps.
func cmdRegister(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	token := fs.String("token", "", "")
	tokenFile := fs.String("token-file", "", "")
	pairingFile := fs.String("pairing-key-file", "", "")
	timeout := fs.Duration("timeout", 0, "")
	if err := parseNoArgs(fs, "register", args); err != nil {
		return err
	}
	if *timeout < 0 {
		return usagef("register: --timeout must be positive")
	}
	if *token != "" && *tokenFile != "" {
		return usagef("register: give --token-file or --token, not both")
	}
	tok, pairingKey := *token, ""
	if *token != "" {
		fmt.Fprintln(stderr, "nodeconsole: warning: other users of this machine can read --token in the process list (ps); use --token-file FILE or $"+TokenEnv+" instead")
	}
	var err error
	if *tokenFile != "" {
		if tok, err = readSecretFile("--token-file", *tokenFile); err != nil {
			return err
		}
	}
	if *pairingFile != "" {
		if pairingKey, err = readSecretFile("--pairing-key-file", *pairingFile); err != nil {
			return err
		}
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	if e.stateErr != nil {
		return fmt.Errorf("register: %s", oneLine(e.stateErr))
	}
	if pairingKey != "" {
		e.cfg.Site.PairingKey = pairingKey
	}
	r, err := e.registrar("register")
	if err != nil {
		return err
	}
	st, err := r.Recover()
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if st.State == regclient.Registered {
		// Registered here; but a control plane that no longer accepts the
		// certificate (expired, revoked, unknown) lets the node enroll again.
		_, cerr := r.CheckCertificate(ctx)
		if !regclient.StaleCertificate(cerr) {
			fmt.Fprintf(stdout, "This node is already registered as %s. Run 'nodeconsole deregister --confirm DEREGISTER' first to register it again.\n", nameProject(st.NodeName, st.Project))
			return nil
		}
		if err := r.Reenroll(cerr); err != nil {
			return fmt.Errorf("register: %s", oneLine(err))
		}
		if st, err = r.Recover(); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	if st.Recovery != "" {
		fmt.Fprintln(stdout, st.Recovery)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	if tok == "" {
		tok = strings.TrimSpace(os.Getenv(TokenEnv))
	}
	if tok == "" {
		tok = e.cfg.Site.RegistrationToken
	}
	if tok != "" {
		e.log.Info("register with token", "token", config.Redact(tok))
		reg, err := r.RegisterWithToken(ctx, tok, e.cfg.Site.Project, e.cfg.Site.Tags)
		if err != nil {
			return fmt.Errorf("register with token: %s", oneLine(err))
		}
		fmt.Fprintf(stdout, "Registered as %s.\n", nameProject(reg.Name, reg.Project))
		return nil
	}
	return waitForActivation(ctx, e, r, *timeout, stdout)
}

// registrar builds the Registrar for e's config, state dir and node.
func (e *env) registrar(op string) (*regclient.Registrar, error) {
	if e.cfg.Site.Endpoint == "" {
		return nil, usagef("%s: no control-plane endpoint: set site.endpoint in the config or pass --endpoint", op)
	}
	c, err := regclient.New(regclient.ConfigOptions(e.cfg, e.g.caFile, e.log, version))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &regclient.Registrar{
		Client: c, Store: e.store, NodeID: e.nodeID, Make: e.make_, Model: e.model,
		Version: version, Logger: e.log, PairingKey: e.cfg.Site.PairingKey,
	}, nil
}

// maxSecretFile bounds what readSecretFile reads: tokens and pairing keys
// are short.
const maxSecretFile = 4096

// readSecretFile reads a token or pairing key from path (flag names the
// flag), trimming surrounding space and the final newline. A missing,
// unreadable, empty or oversized file is bad input (exit 2).
func readSecretFile(flag, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usagef("register: %s: cannot read %s: %s", flag, path, errText(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", usagef("register: %s: cannot read %s: %s", flag, path, errText(err))
	}
	if len(data) > maxSecretFile {
		return "", usagef("register: %s: %s is larger than %d bytes; it should hold only the secret", flag, path, maxSecretFile)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", usagef("register: %s: %s is empty", flag, path)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", usagef("register: %s: %s holds more than one line; it should hold only the secret", flag, path)
	}
	return s, nil
}

// waitForActivation is the code path: show the code, wait, loop.
func waitForActivation(ctx context.Context, e *env, r *regclient.Registrar, timeout time.Duration, stdout io.Writer) error {
	for {
		p, err := r.Start(ctx)
		if err != nil {
			return fmt.Errorf("register: %s", oneLine(err))
		}
		printCode(stdout, p, e.cfg.Site.RegistrationURL, r.PairingKey != "", e.g.ascii)
		for {
			out, err := r.Next(ctx)
			if err != nil {
				if ctx.Err() == context.DeadlineExceeded {
					return fmt.Errorf("register: timed out after %s waiting for activation; the code stays valid until %s (run register again to keep waiting)",
						timeout, p.ExpiresAt.Local().Format("15:04:05"))
				}
				if ctx.Err() != nil {
					return fmt.Errorf("register: interrupted; the code stays valid until %s", p.ExpiresAt.Local().Format("15:04:05"))
				}
				return fmt.Errorf("register: %s", oneLine(err))
			}
			switch out.Kind {
			case regclient.OutcomeWaiting:
				continue
			case regclient.OutcomeRetrying:
				fmt.Fprintf(stdout, "Check failed (%s); retrying in %s.\n", oneLine(out.Err), out.RetryIn.Round(time.Second))
				continue
			case regclient.OutcomeRegistered:
				fmt.Fprintf(stdout, "Registered as %s.\n", nameProject(out.Registration.Name, out.Registration.Project))
				return nil
			case regclient.OutcomeExpired:
				return errors.New("register: the activation code expired before anyone activated it; run register again for a new code")
			case regclient.OutcomeDenied:
				return errors.New("register: an admin denied the activation code")
			case regclient.OutcomeRestart:
				fmt.Fprintln(stdout, "The enrollment was replaced on the control plane; asking for a new code.")
			}
			break
		}
	}
}

// printCode shows the code, the URLs, and a QR code on a terminal.
func printCode(w io.Writer, p regclient.PendingCode, registrationURL string, pairingKey, ascii bool) {
	switch {
	case p.Redelivered:
		fmt.Fprintln(w, "The control plane had already approved this node's key; fetching its certificate again...")
		return
	case p.Approved && pairingKey:
		fmt.Fprintln(w, "The control plane accepted the pairing key: no code needs to be entered. Finishing registration...")
		return
	case p.Approved:
		fmt.Fprintln(w, "The control plane approved this node at once: no code needs to be entered. Finishing registration...")
		return
	}
	if p.Resumed {
		fmt.Fprintln(w, "Resuming the activation code requested earlier.")
	}
	fmt.Fprintf(w, "Activation code: %s\n", p.UserCode)
	if p.KeyFingerprint != "" {
		fmt.Fprintf(w, "Key fingerprint: %s (the admin checks it matches the one the portal shows)\n", p.KeyFingerprint)
	}
	fmt.Fprintf(w, "Node ID:         %s\n", p.NodeID)
	fmt.Fprintf(w, "Enter it at:     %s\n", p.VerificationURI)
	qr := p.QRURL(registrationURL)
	if qr != "" && qr != p.VerificationURI {
		fmt.Fprintf(w, "Or open:         %s\n", qr)
	}
	fmt.Fprintf(w, "Expires at:      %s\n", p.ExpiresAt.Local().Format("15:04:05"))
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && qr != "" {
		printQR(f, qr, ascii)
	}
	fmt.Fprintln(w, "Waiting for activation...")
}

// nameProject is "NAME (project PROJECT)" or "NAME".
func nameProject(name, project string) string {
	if project == "" {
		return name
	}
	return fmt.Sprintf("%s (project %s)", name, project)
}

// oneLine is err's sentence without the package prefix, for the one line
// on stderr.
func oneLine(err error) string {
	if is, ok := regclient.Storage(err); ok {
		return ui.StorageSentence(is)
	}
	var e *regclient.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
