package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"
)

// csrPEM is a PEM CSR signed by key.
func csrPEM(f *testing.F, key any) string {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		f.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzCheckCSR: CheckCSR never panics, and what it accepts is a correctly
// signed ECDSA P-256 or Ed25519 CSR with its SPKI fingerprint.
func FuzzCheckCSR(f *testing.F) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	good := csrPEM(f, p256)
	for _, seed := range []string{good, csrPEM(f, ed), csrPEM(f, p384), csrPEM(f, rsaKey), good + "trailing",
		strings.Replace(good, "A", "B", 1), "", "-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
		strings.Repeat("x", MaxCSRBytes+1)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := CheckCSR(in)
		if err != nil {
			return
		}
		switch k := c.Request.PublicKey.(type) {
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				t.Fatalf("accepted curve %s", k.Curve.Params().Name)
			}
		case ed25519.PublicKey:
		default:
			t.Fatalf("accepted key %T", k)
		}
		if err := c.Request.CheckSignature(); err != nil {
			t.Fatalf("accepted a CSR whose signature fails: %v", err)
		}
		if !hex64.MatchString(c.Fingerprint) || len(in) > MaxCSRBytes {
			t.Fatalf("fingerprint %q, size %d", c.Fingerprint, len(in))
		}
	})
}
