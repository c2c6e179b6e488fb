package regclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// identityDir creates the identity directory with mode 0700 (fixing a
// looser mode).
func (s Store) identityDir() error {
	dir := s.Path(IdentityDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("regclient: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("regclient: chmod %s: %w", dir, err)
	}
	return nil
}

// EnsureKey returns the node's ECDSA P-256 key from identity/node.key,
// creating it (mode 0600, directory 0700) on first use. The same key is
// reused across attempts, so an interrupted enrollment resumes. A key file
// with a looser mode is tightened to 0600. An unreadable key is replaced
// only when no certificate depends on it.
func (s Store) EnsureKey() (*ecdsa.PrivateKey, error) {
	if err := s.identityDir(); err != nil {
		return nil, err
	}
	path := s.Path(KeyFile)
	key, err := s.LoadKey()
	switch {
	case err == nil:
		if fi, serr := os.Stat(path); serr == nil && fi.Mode().Perm() != 0o600 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("regclient: chmod %s: %w", path, err)
			}
		}
		return key, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		if _, cerr := os.Stat(s.Path(CertFile)); cerr == nil {
			return nil, err
		}
		// A damaged key that nothing depends on: replace it.
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("regclient: generate node key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("regclient: encode node key: %w", err)
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("regclient: save node key: %w", err)
	}
	return key, nil
}

// LoadKey reads identity/node.key. A missing file gives an error matching
// fs.ErrNotExist.
func (s Store) LoadKey() (*ecdsa.PrivateKey, error) { return loadKeyFile(s.Path(KeyFile)) }

// loadKeyFile reads the ECDSA P-256 key at path.
func loadKeyFile(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("regclient: read node key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("regclient: %s holds no PEM key", path)
	}
	var k any
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("regclient: %s holds a %q, not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("regclient: parse %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("regclient: %s is not an ECDSA P-256 key", path)
	}
	return ek, nil
}

// CreateCSR makes a PEM certificate request for nodeID signed by key.
func CreateCSR(key *ecdsa.PrivateKey, nodeID string) (string, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: nodeID},
	}, key)
	if err != nil {
		return "", fmt.Errorf("regclient: create CSR: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// LoadCertificate returns the node's key and certificate chain as a
// tls.Certificate for mutual TLS, and the CA bundle (identity/ca.crt, nil
// if missing). It fails unless the certificate matches the key.
func (s Store) LoadCertificate() (*tls.Certificate, []byte, error) {
	return s.loadPair(KeyFile, CertFile)
}

// loadPair is LoadCertificate for another key and certificate file.
func (s Store) loadPair(keyFile, certFile string) (*tls.Certificate, []byte, error) {
	certPEM, err := os.ReadFile(s.Path(certFile))
	if err != nil {
		return nil, nil, fmt.Errorf("regclient: read node certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(s.Path(keyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("regclient: read node key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("regclient: node certificate and key do not match: %w", err)
	}
	ca, err := os.ReadFile(s.Path(CAFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("regclient: read CA bundle: %w", err)
	}
	return &cert, ca, nil
}

// NodeCertificate parses identity/node.crt (the leaf).
func (s Store) NodeCertificate() (*x509.Certificate, error) {
	data, err := os.ReadFile(s.Path(CertFile))
	if err != nil {
		return nil, fmt.Errorf("regclient: read node certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("regclient: %s holds no PEM certificate", s.Path(CertFile))
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("regclient: parse node certificate: %w", err)
	}
	return c, nil
}

// checkCertificate verifies that certPEM is a certificate for key and
// nodeID (it must not be used otherwise).
func checkCertificate(certPEM string, key *ecdsa.PrivateKey, nodeID string) error {
	_, err := parseNodeCertificate(certPEM, key, nodeID)
	return err
}

// parseNodeCertificate is checkCertificate that also returns the leaf.
func parseNodeCertificate(certPEM string, key *ecdsa.PrivateKey, nodeID string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the certificate is not PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("the certificate is not for this node's key")
	}
	if nodeID != "" && c.Subject.CommonName != nodeID {
		return nil, fmt.Errorf("the certificate names %q, not %s", c.Subject.CommonName, nodeID)
	}
	return c, nil
}

// writeCertificates writes ca.crt, then node.crt, each atomically.
func (s Store) writeCertificates(certPEM, caPEM string) error {
	if err := s.identityDir(); err != nil {
		return err
	}
	if caPEM != "" {
		if err := atomicfile.WriteFile(s.Path(CAFile), []byte(caPEM), 0o644); err != nil {
			return fmt.Errorf("regclient: save CA bundle: %w", err)
		}
	}
	if err := atomicfile.WriteFile(s.Path(CertFile), []byte(certPEM), 0o644); err != nil {
		return fmt.Errorf("regclient: save node certificate: %w", err)
	}
	return nil
}

// removeIdentity removes node.crt, ca.crt and then node.key: never a
// certificate without its key.
func (s Store) removeIdentity() error {
	for _, f := range []string{RenewCertFile, CertFile, CAFile, RenewKeyFile, KeyFile} {
		if _, err := os.Lstat(s.Path(f)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := atomicfile.Remove(s.Path(f)); err != nil {
			return fmt.Errorf("regclient: remove %s: %w", f, err)
		}
	}
	return nil
}

// Reset removes the node's identity and returns state.json to
// unregistered, keeping the node ID. The order survives a crash at any
// instant: state.json first says "unregistered, wiping" (so nothing is left
// registered without its files), then node.crt, ca.crt and node.key go (so
// there is never a certificate without its key), then the marker is
// cleared. Recover finishes an interrupted Reset.
func (s Store) Reset() error {
	st, err := s.Load()
	if err != nil && !errors.Is(err, ErrNoState) {
		// An unreadable state file is replaced: the node ID is derived
		// again by the caller if needed.
		st = State{}
	}
	st = State{NodeID: st.NodeID, State: Unregistered, Wiping: true}
	if err := s.Save(st); err != nil {
		return fmt.Errorf("regclient: reset: %w", err)
	}
	if err := s.removeIdentity(); err != nil {
		return fmt.Errorf("regclient: reset: %w", err)
	}
	if err := s.removeTemps(); err != nil {
		return fmt.Errorf("regclient: reset: %w", err)
	}
	st.Wiping = false
	if err := s.Save(st); err != nil {
		return fmt.Errorf("regclient: reset: %w", err)
	}
	return nil
}

// RecoverAction says what Recover did.
type RecoverAction string

// What Recover can do.
const (
	// RecoverNothing: the state was consistent.
	RecoverNothing RecoverAction = ""
	// RecoverFinalized: a received certificate was finalized; the node is
	// registered.
	RecoverFinalized RecoverAction = "finalized"
	// RecoverWiped: an interrupted Reset was finished.
	RecoverWiped RecoverAction = "wiped"
	// RecoverCleaned: a stray certificate (from an unfinished write or
	// wipe) was removed; the phase is unchanged.
	RecoverCleaned RecoverAction = "cleaned"
	// RecoverReset: state.json said registered but the key is missing or
	// unreadable; the node was reset to unregistered.
	RecoverReset RecoverAction = "reset"
	// RecoverKeptKey: state.json said registered but node.crt is missing,
	// damaged or not for this node's key. The key is kept (the control
	// plane may still trust it), the certificate removed, and the state is
	// pending with State.Recovery saying so: register fetches the
	// certificate again with the same key.
	RecoverKeptKey RecoverAction = "kept-key"
)

// keepKey turns a registered state whose certificate is unusable into a
// pending one that keeps the key, with recovery (State.Recovery) saying
// why: state.json first (a crash after it leaves a stray certificate that
// the next Recover removes), then node.crt and ca.crt go.
func (s Store) keepKey(st State, recovery string) (State, error) {
	next := State{
		NodeID: st.NodeID, State: Pending, Endpoint: st.Endpoint, NodeName: st.NodeName, Project: st.Project, Site: st.Site,
		Recovery: recovery,
	}
	if err := s.Save(next); err != nil {
		return st, fmt.Errorf("regclient: recover: %w", err)
	}
	for _, f := range []string{CertFile, CAFile} {
		if _, err := os.Lstat(s.Path(f)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := atomicfile.Remove(s.Path(f)); err != nil {
			return next, fmt.Errorf("regclient: remove %s: %w", f, err)
		}
	}
	return next, nil
}

// removeTemps removes leftover temporary files (atomicfile's *.tmp-*) from
// the identity directory: a crash mid-write leaves them, and one may hold a
// private key.
func (s Store) removeTemps() error {
	tmps, err := filepath.Glob(filepath.Join(s.Path(IdentityDir), "*.tmp-*"))
	if err != nil {
		return fmt.Errorf("regclient: list temporary files: %w", err)
	}
	for _, f := range tmps {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("regclient: remove leftover %s: %w", f, err)
		}
	}
	return nil
}

// Recover brings the state dir to a consistent state after a crash or
// power cut, without the network: it finishes a registration whose
// certificate was received (pending + certReceived + a matching node.crt),
// finishes an interrupted Reset, and removes stray certificates. Call it
// at start, before reading the state for display.
func (s Store) Recover() (State, RecoverAction, error) {
	if err := s.removeTemps(); err != nil {
		return State{State: Unregistered}, RecoverNothing, err
	}
	if err := s.finishRenewal(); err != nil {
		return State{State: Unregistered}, RecoverNothing, err
	}
	st, err := s.Load()
	if errors.Is(err, ErrNoState) {
		return st, RecoverNothing, nil
	}
	if err != nil {
		return st, RecoverNothing, err
	}
	if st.Wiping {
		if err := s.Reset(); err != nil {
			return st, RecoverNothing, err
		}
		st, err = s.Load()
		return st, RecoverWiped, err
	}
	certErr := s.matchingCertificate(st.NodeID)
	_, statErr := os.Lstat(s.Path(CertFile))
	certExists := statErr == nil
	switch {
	case st.State == Registered:
		if certErr == nil {
			return st, RecoverNothing, nil
		}
		if _, kerr := s.LoadKey(); kerr == nil {
			// The control plane may still trust this key: keep it, and let
			// register fetch the certificate again (the resume path).
			what := "missing"
			if _, err := os.Lstat(s.Path(CertFile)); err == nil {
				what = "damaged or not for this node's key"
			}
			st, err = s.keepKey(st, "The node certificate ("+CertFile+") was "+what+". The node key was kept; register again to fetch the certificate for it.")
			if err != nil {
				err = fmt.Errorf("%w (certificate: %v)", err, certErr)
			}
			return st, RecoverKeptKey, err
		}
		if err := s.Reset(); err != nil {
			return st, RecoverNothing, err
		}
		st, err = s.Load()
		return st, RecoverReset, err
	case st.State == Pending && st.CertReceived && certErr == nil:
		if _, err := os.Stat(s.Path(CAFile)); err != nil {
			// ca.crt is written before node.crt, so this is not a crash
			// of ours; let the enrollment deliver again.
			break
		}
		st = registeredState(st, st.NodeName, st.Project, st.Site, st.RegisteredAt)
		if err := s.Save(st); err != nil {
			return st, RecoverNothing, err
		}
		return st, RecoverFinalized, nil
	}
	if certExists {
		for _, f := range []string{CertFile, CAFile} {
			if err := atomicfile.Remove(s.Path(f)); err != nil {
				return st, RecoverNothing, fmt.Errorf("regclient: recover: %w", err)
			}
		}
		return st, RecoverCleaned, nil
	}
	return st, RecoverNothing, nil
}

// matchingCertificate reports nil when node.crt and node.key exist and
// belong together, for nodeID.
func (s Store) matchingCertificate(nodeID string) error {
	key, err := s.LoadKey()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(s.Path(CertFile))
	if err != nil {
		return err
	}
	return checkCertificate(string(bytes.TrimSpace(data)), key, nodeID)
}

// registeredState is st turned registered: pending fields cleared.
func registeredState(st State, name, project, site string, at time.Time) State {
	return State{
		NodeID: st.NodeID, State: Registered, Endpoint: st.Endpoint,
		NodeName: name, Project: project, Site: site, RegisteredAt: at,
	}
}
