package regclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// Renewal files, beside node.key and node.crt (docs/protocol.md,
// "Renewal"). They exist only while a renewal is under way.
const (
	RenewKeyFile  = "identity/renew.key"
	RenewCertFile = "identity/renew.crt"
)

// RenewNotice is how long before its expiry the console warns about the
// certificate.
const RenewNotice = 14 * 24 * time.Hour

// Renewal steps, in order, each persisted (Renewer.Hook is called after
// each): the new key written, the new certificate written, the new pair
// proven to work (the server then supersedes the old one), node.key
// switched, node.crt switched.
const (
	StepRenewKey   = "renew-key"
	StepRenewCert  = "renew-cert"
	StepRenewUsed  = "renew-used"
	StepSwitchKey  = "switch-key"
	StepSwitchCert = "switch-cert"
)

// CertInfo is what the console and status show about the node certificate.
type CertInfo struct {
	NotBefore, NotAfter time.Time
	// RenewAfter is when renewal is due: two thirds of its life.
	RenewAfter time.Time
}

// Due reports whether the certificate should be renewed at now.
func (c CertInfo) Due(now time.Time) bool { return !now.Before(c.RenewAfter) }

// Expired reports whether the certificate is past its notAfter at now.
func (c CertInfo) Expired(now time.Time) bool { return !now.Before(c.NotAfter) }

// ExpiresSoon reports whether now is within RenewNotice of the expiry.
func (c CertInfo) ExpiresSoon(now time.Time) bool { return !now.Before(c.NotAfter.Add(-RenewNotice)) }

// CertificateInfo reads identity/node.crt.
func (s Store) CertificateInfo() (CertInfo, error) {
	c, err := s.NodeCertificate()
	if err != nil {
		return CertInfo{}, err
	}
	return CertInfo{NotBefore: c.NotBefore, NotAfter: c.NotAfter, RenewAfter: api.RenewAfter(c.NotBefore, c.NotAfter)}, nil
}

// RenewResult says what Renew did.
type RenewResult struct {
	// Renewed is false when nothing was due.
	Renewed bool
	// Cert is the certificate in use afterwards.
	Cert CertInfo
}

// Renewer renews the node certificate over mutual TLS with a new key
// (POST api.PathNodeRenew). Fill in the fields; not safe for concurrent
// use (one renewal at a time per state dir: the CLI and the console are
// serialised by the renewal files and the server's idempotent answer).
type Renewer struct {
	// Client talks to the control plane; Renew adds the node certificate.
	Client *Client
	// Store is the state dir.
	Store Store
	// NodeID is the node's ID.
	NodeID string
	// Logger receives the detail; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Hook, when set, is called after each persisted step (Step*); an
	// error stops the renewal there (tests: kill -9 at each step).
	Hook func(step string) error
}

func (r *Renewer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Renewer) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Renewer) step(name string) error {
	if r.Hook != nil {
		return r.Hook(name)
	}
	return nil
}

// Renew renews the certificate when two thirds of its life have passed
// (or always with force) and finishes a renewal a crash interrupted.
// The new key and certificate are written beside the old pair
// (renew.key, renew.crt); the new pair is tried on the control plane
// (GET api.PathNodeSelf) and only then moved over node.key and node.crt,
// so the old pair goes only after the new one worked. A failure leaves the
// node with the pair it had, which keeps working (the control plane
// accepts it until the new certificate is used or its grace passes).
func (r *Renewer) Renew(ctx context.Context, force bool) (RenewResult, error) {
	st, _, err := r.Store.Recover()
	if err != nil {
		return RenewResult{}, err
	}
	if st.State != Registered {
		return RenewResult{}, ErrNotRegistered
	}
	info, err := r.Store.CertificateInfo()
	if err != nil {
		return RenewResult{}, err
	}
	_, pendingErr := os.Lstat(r.Store.Path(RenewKeyFile))
	if !force && !info.Due(r.now()) && pendingErr != nil {
		return RenewResult{Cert: info}, nil
	}
	key, err := r.renewKey()
	if err != nil {
		return RenewResult{Cert: info}, err
	}
	certPEM, err := r.newCertificate(ctx, key)
	if errors.Is(err, ErrRevoked) {
		// The control plane may have issued renew.key's certificate
		// (its answer lost in a crash) and superseded the old one since.
		if pem, rerr := r.redeliver(ctx, key); rerr == nil {
			certPEM, err = pem, nil
		}
	}
	if err != nil {
		return RenewResult{Cert: info}, err
	}
	// Prove the new pair before giving up the old one.
	cert, ca, err := r.Store.loadPair(RenewKeyFile, RenewCertFile)
	if err != nil {
		return RenewResult{Cert: info}, err
	}
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		return RenewResult{Cert: info}, err
	}
	_, err = mc.Self(ctx)
	mc.CloseIdleConnections()
	if err != nil {
		return RenewResult{Cert: info}, fmt.Errorf("regclient: renew: try the new certificate: %w", err)
	}
	if err := r.step(StepRenewUsed); err != nil {
		return RenewResult{Cert: info}, err
	}
	if err := r.switchPair(); err != nil {
		return RenewResult{Cert: info}, err
	}
	next, err := r.Store.CertificateInfo()
	if err != nil {
		return RenewResult{Cert: info}, err
	}
	r.log().Info("certificate renewed", "nodeId", r.NodeID, "notAfter", next.NotAfter, "bytes", len(certPEM))
	return RenewResult{Renewed: true, Cert: next}, nil
}

// renewKey loads renew.key, or makes it (an interrupted renewal goes on
// with the key it had asked for: the control plane answers it the same).
func (r *Renewer) renewKey() (*ecdsa.PrivateKey, error) {
	key, err := loadKeyFile(r.Store.Path(RenewKeyFile))
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		// A damaged renew.key was never sent (the certificate would
		// follow it): replace it.
		r.log().Warn("renew: replacing an unreadable renew.key", "err", err)
	}
	if err := r.Store.identityDir(); err != nil {
		return nil, err
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("regclient: renew: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("regclient: renew: encode key: %w", err)
	}
	if err := atomicfile.WriteFile(r.Store.Path(RenewKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("regclient: renew: save key: %w", err)
	}
	return key, r.step(StepRenewKey)
}

// newCertificate returns renew.crt if it is for key, else asks the control
// plane (over mTLS with the current pair) and writes it.
func (r *Renewer) newCertificate(ctx context.Context, key *ecdsa.PrivateKey) (string, error) {
	if data, err := os.ReadFile(r.Store.Path(RenewCertFile)); err == nil {
		if checkCertificate(string(bytes.TrimSpace(data)), key, r.NodeID) == nil {
			return string(data), nil
		}
	}
	csr, err := CreateCSR(key, r.NodeID)
	if err != nil {
		return "", err
	}
	cert, ca, err := r.Store.LoadCertificate()
	if err != nil {
		return "", err
	}
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		return "", err
	}
	defer mc.CloseIdleConnections()
	var reg api.Registration
	if _, err := mc.call(ctx, "renew", http.MethodPost, api.PathNodeRenew, nil, api.RenewRequest{CSR: csr}, &reg, mc.timeout); err != nil {
		return "", err
	}
	if err := checkCertificate(reg.Certificate, key, r.NodeID); err != nil {
		return "", &Error{Op: "renew", Status: 200, Message: "the renewed certificate is unusable: " + err.Error(), kind: ErrNotAPI}
	}
	if err := atomicfile.WriteFile(r.Store.Path(RenewCertFile), []byte(reg.Certificate), 0o644); err != nil {
		return "", fmt.Errorf("regclient: renew: save certificate: %w", err)
	}
	return reg.Certificate, r.step(StepRenewCert)
}

// switchPair moves renew.key over node.key, then renew.crt over node.crt,
// each a rename (atomic); finishRenewal completes it after a crash between
// the two.
func (r *Renewer) switchPair() error {
	s := r.Store
	if err := os.Rename(s.Path(RenewKeyFile), s.Path(KeyFile)); err != nil {
		return fmt.Errorf("regclient: renew: switch key: %w", err)
	}
	if err := atomicfile.SyncDir(s.Path(IdentityDir)); err != nil {
		return err
	}
	if err := r.step(StepSwitchKey); err != nil {
		return err
	}
	if err := s.finishRenewal(); err != nil {
		return err
	}
	return r.step(StepSwitchCert)
}

// redeliver fetches the certificate of key through the enrollment path:
// the control plane delivers the current certificate again at once to its
// registered key, which renew.key is when a renewal's answer was lost and
// the old certificate is no longer accepted. It fails when the control
// plane does not approve at once (it does not know the key).
func (r *Renewer) redeliver(ctx context.Context, key *ecdsa.PrivateKey) (string, error) {
	csr, err := CreateCSR(key, r.NodeID)
	if err != nil {
		return "", err
	}
	resp, err := r.Client.Enroll(ctx, api.EnrollRequest{NodeID: r.NodeID, CSR: csr})
	if err != nil {
		return "", err
	}
	if resp.Status != "approved" {
		// A pending code nobody will license: leave it to expire.
		return "", errors.New("regclient: renew: the control plane does not know the new key")
	}
	reg, err := r.Client.Poll(ctx, resp.DeviceCode)
	if err != nil {
		return "", err
	}
	if err := checkCertificate(reg.Certificate, key, r.NodeID); err != nil {
		return "", &Error{Op: "renew", Status: 200, Message: "the delivered certificate is unusable: " + err.Error(), kind: ErrNotAPI}
	}
	if err := atomicfile.WriteFile(r.Store.Path(RenewCertFile), []byte(reg.Certificate), 0o644); err != nil {
		return "", fmt.Errorf("regclient: renew: save certificate: %w", err)
	}
	r.log().Info("renewal finished through the enrollment path (the old certificate was superseded)", "nodeId", r.NodeID)
	return reg.Certificate, r.step(StepRenewCert)
}

// finishRenewal completes a switch a crash interrupted: when renew.crt is
// the certificate of node.key (the key was switched), it replaces
// node.crt. A renew.key and renew.crt that were not switched yet are left
// for the next renewal, which tries them first.
func (s Store) finishRenewal() error {
	data, err := os.ReadFile(s.Path(RenewCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("regclient: read %s: %w", RenewCertFile, err)
	}
	key, err := s.LoadKey()
	if err != nil || checkCertificate(string(bytes.TrimSpace(data)), key, "") != nil {
		return nil
	}
	if err := os.Rename(s.Path(RenewCertFile), s.Path(CertFile)); err != nil {
		return fmt.Errorf("regclient: finish renewal: %w", err)
	}
	return atomicfile.SyncDir(s.Path(IdentityDir))
}
