package proxyurl

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "proxy.example.com:3128", want: "http://proxy.example.com:3128"},
		{in: "https://proxy.example.com", want: "https://proxy.example.com"},
		{in: "http://proxy.example.com:65535/", want: "http://proxy.example.com:65535"},
		{in: "http://proxy.example.com:99999", err: "the proxy port 99999 is not a port number from 1 to 65535"},
		{in: "http://proxy.example.com:0", err: "the proxy port 0 is not a port number from 1 to 65535"},
		{in: "http://user:secret@proxy.example.com:70000", err: "the proxy port 70000 is not"},
		{in: "ftp://proxy.example.com", err: `the proxy scheme "ftp" is not http, https or socks5`},
		{in: "", err: "the proxy URL is empty"},
	} {
		u, err := Parse(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tt.in, u, err, tt.err)
			}
		case err != nil || u.String() != tt.want:
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}
