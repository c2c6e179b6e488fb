package api

import "testing"

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"WDJB-MJHT", "WDJBMJHT", true},
		{"wdjb mjht", "WDJBMJHT", true},
		{" wdjb-mjht ", "WDJBMJHT", true},
		{"WDJBMJH", "", false},
		{"WDJBMJHTX", "", false},
		{"WAJB-MJHT", "", false},      // vowel
		{"WDJB-MJH1", "", false},      // digit
		{"WDJB-MJHТ", "", false},      // Cyrillic Т
		{"WDJB\u200bMJHT", "", false}, // zero-width space
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeUserCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidNodeID(t *testing.T) {
	for id, want := range map[string]bool{
		"edge-0123456789abcdef0123456789abcdef":   true,
		"edge-0123456789ABCDEF0123456789abcdef":   false,
		"edge-0123456789abcdef0123456789abcde":    false,
		"edge-../456789abcdef0123456789abcdef":    false,
		"node-0123456789abcdef0123456789abcdef":   false,
		"edge-0123456789abcdef0123456789abcdef\n": false,
	} {
		if got := ValidNodeID(id); got != want {
			t.Errorf("ValidNodeID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestRegisterPageURL(t *testing.T) {
	got := RegisterPageURL("https://cp.example:8443", "edge-0123456789abcdef0123456789abcdef", "WDJBMJHT")
	want := "https://cp.example:8443/register?code=WDJB-MJHT&node=edge-0123456789abcdef0123456789abcdef"
	if got != want {
		t.Errorf("RegisterPageURL = %q, want %q", got, want)
	}
}

func TestErrorCodeStatus(t *testing.T) {
	for code, want := range map[ErrorCode]int{
		CodeAuthorizationPending: 400, CodeUnauthorized: 401, CodeInvalidCode: 404,
		CodeConflict: 409, CodeRateLimited: 429, ErrorCode("new"): 500,
	} {
		if got := code.Status(); got != want {
			t.Errorf("%s.Status() = %d, want %d", code, got, want)
		}
	}
}
