package api

import (
	"net/url"
	"regexp"
	"strings"
)

// UserCodeAlphabet is the alphabet of user codes (RFC 8628 §6.1): no vowels,
// so no words, and no look-alike digits.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is the number of letters in a user code.
const UserCodeLength = 8

var nodeIDPattern = regexp.MustCompile(`^edge-[0-9a-f]{32}$`)

// ValidNodeID reports whether id is "edge-" followed by 32 lowercase hex
// digits.
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// NormalizeUserCode upper-cases s and drops everything that is not a letter
// of UserCodeAlphabet's script (dashes, spaces, dots). It reports false if
// what remains is not UserCodeLength letters of UserCodeAlphabet.
func NormalizeUserCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '\t' || r == '.' || r == '_':
			// separators people type
		default:
			return "", false
		}
	}
	code := b.String()
	if len(code) != UserCodeLength {
		return "", false
	}
	for _, r := range code {
		if !strings.ContainsRune(UserCodeAlphabet, r) {
			return "", false
		}
	}
	return code, true
}

// FormatUserCode shows a normalised code as XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != UserCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// RegisterPageURL is the QR registration URL for a node: base (a portal base
// URL, or a site's registrationURL) with node and code query parameters
// added.
func RegisterPageURL(base, nodeID, userCode string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = PathRegisterPage
	}
	q := u.Query()
	q.Set("node", nodeID)
	q.Set("code", FormatUserCode(userCode))
	u.RawQuery = q.Encode()
	return u.String()
}
