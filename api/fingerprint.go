package api

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// FingerprintBytes is how many bytes of the SHA-256 of a public key the
// short fingerprint shows (80 bits: enough that an attacker cannot make a
// key that matches a given node's fingerprint, short enough to compare by eye).
const FingerprintBytes = 10

// KeyFingerprint returns the short fingerprint of a node's public key that
// both the console (next to the activation code) and the portal's Find show,
// so the admin can check that the key being licensed is the one on the node:
// the first FingerprintBytes bytes of SHA-256 over the key's DER
// SubjectPublicKeyInfo, as lowercase hex in groups of four separated by
// spaces, e.g. "3f2a 9c01 77be 0d4e a1c2".
func KeyFingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("api: fingerprint: marshal public key: %w", err)
	}
	return FingerprintDER(der), nil
}

// FingerprintDER is KeyFingerprint for a key already in DER
// SubjectPublicKeyInfo form (x509.CertificateRequest.RawSubjectPublicKeyInfo).
func FingerprintDER(spki []byte) string {
	sum := sha256.Sum256(spki)
	h := hex.EncodeToString(sum[:FingerprintBytes])
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+4])
	}
	return b.String()
}
