package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"regexp"
	"testing"
)

func TestKeyFingerprint(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f1, err := KeyFingerprint(&k1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{4}( [0-9a-f]{4}){4}$`).MatchString(f1) {
		t.Fatalf("fingerprint %q is not 5 groups of 4 hex digits", f1)
	}
	f2, _ := KeyFingerprint(&k2.PublicKey)
	if f1 == f2 {
		t.Fatalf("two keys share fingerprint %q", f1)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k1.PublicKey)
	if got := FingerprintDER(der); got != f1 {
		t.Fatalf("FingerprintDER = %q, KeyFingerprint = %q", got, f1)
	}
}
