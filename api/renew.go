package api

import "time"

// Certificate lifecycle paths (docs/protocol.md, "Certificate lifecycle").
const (
	// PathCA answers the control plane's CA bundle (PEM), unauthenticated.
	PathCA = "/api/v1/ca"
	// PathCACRL answers the CA's certificate revocation list,
	// unauthenticated: DER (application/pkix-crl), or PEM when the request
	// says Accept: application/x-pem-file.
	PathCACRL = "/api/v1/ca/crl"
	// PathNodeRenew renews the calling node's certificate over mutual TLS:
	// POST RenewRequest with a CSR for a new key, answer 200 Registration.
	PathNodeRenew = "/api/v1/node/renew"
)

// RenewRequest is the body of POST PathNodeRenew.
type RenewRequest struct {
	// CSR is a PEM "CERTIFICATE REQUEST" for a new key: the key of the
	// certificate the request is made with is refused.
	CSR string `json:"csr"`
}

// CertBackdate is how far the control plane backdates a node
// certificate's notBefore, to tolerate nodes whose clock is behind.
const CertBackdate = time.Hour

// RenewAfter is when a certificate valid from notBefore to notAfter is due
// for renewal: two thirds of its life, counted from its issue
// (notBefore + CertBackdate), so that the backdating does not make a short
// certificate due at once.
func RenewAfter(notBefore, notAfter time.Time) time.Time {
	issued := notBefore
	if notAfter.Sub(notBefore) > CertBackdate {
		issued = notBefore.Add(CertBackdate)
	}
	return issued.Add(notAfter.Sub(issued) * 2 / 3)
}

// Certificate lifecycle event types (GET PathEvents).
const (
	// EventRenewed: a node renewed its certificate with a new key.
	EventRenewed = "certificate_renewed"
	// EventReregistered: a node whose certificate had expired enrolled
	// again with its registered key and was registered again at once.
	EventReregistered = "reregistered"
)
