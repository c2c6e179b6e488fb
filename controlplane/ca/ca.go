// Package ca is the control plane's certificate authority: the CA key and
// certificate in the data directory (created on first start), the server's
// TLS certificate, node certificates signed from checked CSRs, and CRLs.
package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// Files in the data directory, the sizes and times of certificates.
const (
	// CertFile is the CA certificate (PEM), the bundle nodes trust.
	CertFile = "ca.pem"
	// KeyFile is the CA key (PEM, 0600).
	KeyFile = "ca-key.pem"
	// MaxCSRBytes bounds the PEM CSR a node may send.
	MaxCSRBytes = 8 << 10
	// CertBackdate tolerates nodes whose clock is behind the server's.
	CertBackdate = api.CertBackdate
	caLifetime   = 20 * 365 * 24 * time.Hour
)

// Authority is the control plane's certificate authority: it signs the
// server's TLS certificate and every node certificate.
type Authority struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// LoadOrCreate reads DATA/ca.pem and DATA/ca-key.pem, creating both on
// first start.
func LoadOrCreate(dir string, now time.Time) (*Authority, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return create(certPath, keyPath, now)
	}
	if err != nil {
		return nil, fmt.Errorf("controlplane: read CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("controlplane: read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("controlplane: load CA from %s: not PEM", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("controlplane: parse %s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("controlplane: parse %s: %w", keyPath, err)
	}
	return &Authority{cert: cert, certPEM: certPEM, key: key}, nil
}

func create(certPath, keyPath string, now time.Time) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("controlplane: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "nodeconsole control plane CA"},
		NotBefore:             now.Add(-CertBackdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("controlplane: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("controlplane: parse CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("controlplane: marshal CA key: %w", err)
	}
	// Key first: a crash between the two writes leaves no ca.pem, so the
	// next start makes a new pair instead of finding a certificate without
	// its key.
	if err := atomicfile.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := atomicfile.WriteFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	return &Authority{cert: cert, certPEM: certPEM, key: key}, nil
}

func randomSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b)
}

// ServerCertificate issues a TLS certificate for key and hosts (DNS names
// or IP addresses), kept in memory only (the control plane keeps the key in
// DATA, see loadOrCreateServerKey there).
func (a *Authority) ServerCertificate(key *ecdsa.PrivateKey, hosts []string, now time.Time) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-CertBackdate),
		NotAfter:     now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("controlplane: sign server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: key}, nil
}

// PEM is the CA certificate in PEM (the bundle nodes trust).
func (a *Authority) PEM() []byte { return a.certPEM }

// SignCRL signs a certificate revocation list with the CA.
func (a *Authority) SignCRL(rl *x509.RevocationList) ([]byte, error) {
	return x509.CreateRevocationList(rand.Reader, rl, a.cert, a.key)
}

// Pool is a cert pool holding the CA, for verifying client certificates.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.cert)
	return p
}

// CSR is a CSR that passed CheckCSR.
type CSR struct {
	// Request is the parsed request.
	Request *x509.CertificateRequest
	// Fingerprint is the hex SHA-256 of its SubjectPublicKeyInfo.
	Fingerprint string
}

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// CheckCSR parses and checks a PEM CSR: size limit, key type (ECDSA P-256
// or Ed25519), no request to be a CA, and then the signature (so a CSR
// with a key that is costly to verify, RSA-8192, is refused before that
// cost).
func CheckCSR(pemText string) (CSR, error) {
	if len(pemText) > MaxCSRBytes {
		return CSR{}, fmt.Errorf("CSR is larger than %d bytes", MaxCSRBytes)
	}
	block, rest := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return CSR{}, errors.New(`CSR is not a PEM "CERTIFICATE REQUEST" block`)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return CSR{}, errors.New("CSR has trailing data after the PEM block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return CSR{}, fmt.Errorf("parse CSR: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return CSR{}, fmt.Errorf("CSR key is ECDSA %s; only P-256 is accepted", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return CSR{}, fmt.Errorf("CSR key is %T; only ECDSA P-256 and Ed25519 are accepted", csr.PublicKey)
	}
	for _, ext := range csr.Extensions {
		if !ext.Id.Equal(oidBasicConstraints) {
			continue
		}
		var bc struct {
			IsCA bool `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(ext.Value, &bc); err != nil || bc.IsCA {
			return CSR{}, errors.New("CSR asks for a CA certificate")
		}
	}
	// Last: the signature is the expensive check, and the key type is
	// known to be cheap to verify by now.
	if err := csr.CheckSignature(); err != nil {
		return CSR{}, fmt.Errorf("CSR signature: %w", err)
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return CSR{Request: csr, Fingerprint: hex.EncodeToString(sum[:])}, nil
}

// NodeProfile is what every node certificate carries besides its key and
// subject: its lifetime (Options.CertTTL) and the SPIFFE trust domain of
// its URI SAN.
type NodeProfile struct {
	// TTL is how long a node certificate is valid (capped at the CA's
	// own expiry).
	TTL time.Duration
	// TrustDomain is the SPIFFE trust domain of the URI SAN.
	TrustDomain string
}

// spiffeID is the URI SAN of nodeID's certificate:
// spiffe://TRUST-DOMAIN/node/NODE-ID.
func (p NodeProfile) spiffeID(nodeID string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: p.TrustDomain, Path: "/node/" + nodeID}
}

// subjectKeyID is the RFC 5280 §4.2.1.2 method 1 key identifier: SHA-1 of
// the subjectPublicKey bit string of spki.
func subjectKeyID(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	sum := sha1.Sum(info.PublicKey.Bytes)
	return sum[:], nil
}

// SignNode issues a client certificate for nodeID with the CSR's public key.
// Only the key is taken from the CSR: the subject is the node ID, the URI
// SAN its SPIFFE ID, and no requested extension is copied. The Authority
// Key Identifier is the CA's Subject Key Identifier (crypto/x509 copies
// it).
func (a *Authority) SignNode(c CSR, nodeID string, p NodeProfile, now time.Time) (certPEM string, cert *x509.Certificate, err error) {
	notAfter := now.Add(p.TTL)
	if notAfter.After(a.cert.NotAfter) {
		notAfter = a.cert.NotAfter
	}
	ski, err := subjectKeyID(c.Request.RawSubjectPublicKeyInfo)
	if err != nil {
		return "", nil, fmt.Errorf("controlplane: sign certificate for %s: %w", nodeID, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: nodeID},
		NotBefore:    now.Add(-CertBackdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{p.spiffeID(nodeID)},
		SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, c.Request.PublicKey.(crypto.PublicKey), a.key)
	if err != nil {
		return "", nil, fmt.Errorf("controlplane: sign certificate for %s: %w", nodeID, err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return "", nil, fmt.Errorf("controlplane: parse certificate for %s: %w", nodeID, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert, nil
}

// SerialHex formats a certificate serial as stored in Node.CertSerial.
func SerialHex(n *big.Int) string { return n.Text(16) }
