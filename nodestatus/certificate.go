package nodestatus

import (
	"strconv"
	"time"

	"github.com/nodeconsole/nodeconsole/regclient"
)

// Certificate is the node certificate part of a Snapshot
// (status --json: certificate.notAfter, certificate.renewAfter).
type Certificate struct {
	// NotAfter is when the certificate expires.
	NotAfter time.Time `json:"notAfter"`
	// RenewAfter is when the node renews it (two thirds of its life).
	RenewAfter time.Time `json:"renewAfter"`
}

// ExpiryLine is the certificate's expiry as the home screen, About and
// status show it beside the label "Certificate": "valid until
// 2026-03-01", with a notice from regclient.RenewNotice before the
// expiry, and what to do once expired.
func (c *Certificate) ExpiryLine(now time.Time) string {
	if c == nil {
		return ""
	}
	day := c.NotAfter.Local().Format(time.DateOnly)
	switch left := c.NotAfter.Sub(now); {
	case left <= 0:
		return "expired on " + day + ": choose Register Node to register again"
	case left <= regclient.RenewNotice:
		return "expires " + c.NotAfter.Local().Format("2006-01-02 15:04") + " (" + daysLeft(left) + "); renewing automatically"
	}
	return "valid until " + day
}

// ExpiresSoon reports whether ExpiryLine is a notice (within
// regclient.RenewNotice of the expiry, or expired).
func (c *Certificate) ExpiresSoon(now time.Time) bool {
	return c != nil && c.NotAfter.Sub(now) <= regclient.RenewNotice
}

func daysLeft(d time.Duration) string {
	switch days := int(d / (24 * time.Hour)); days {
	case 0:
		return "less than a day left"
	case 1:
		return "1 day left"
	default:
		return strconv.Itoa(days) + " days left"
	}
}
