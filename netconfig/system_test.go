package netconfig

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestValidateHostname(t *testing.T) {
	for _, ok := range []string{"node-12", "edge01.example.com", "a", "x1", strings.Repeat("a", 63) + ".example"} {
		if err := ValidateHostname(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                              "Host name is empty.",
		"-node":                         `Host name "-node" has a label starting or ending with a hyphen.`,
		"node-":                         `Host name "node-" has a label starting or ending with a hyphen.`,
		"node..example":                 `Host name "node..example" has an empty label (two dots, or a dot at either end).`,
		"node.":                         `Host name "node." has an empty label (two dots, or a dot at either end).`,
		"node_1":                        `Host name "node_1" has '_' in label 1; use letters, digits and hyphens.`,
		"nöde":                          `Host name "nöde" has 'ö' in label 1; use letters, digits and hyphens.`,
		"edge 1":                        `Host name "edge 1" has ' ' in label 1; use letters, digits and hyphens.`,
		"192.0.2.1":                     `Host name "192.0.2.1" is an IP address.`,
		"1234":                          `Host name "1234" is all digits.`,
		strings.Repeat("a", 64):         `Host name "` + strings.Repeat("a", 64) + `" has a label longer than 63 characters.`,
		strings.Repeat("abcdefgh.", 30): "Host name is 270 characters long; at most 253 are allowed.",
		"a;reboot":                      `Host name "a;reboot" has ';' in label 1; use letters, digits and hyphens.`,
	} {
		if err := ValidateHostname(name); err == nil || err.Error() != want {
			t.Errorf("ValidateHostname(%q) = %v, want %q", name, err, want)
		}
	}
}

func TestSetHostnameWritesFileAndRunsCommand(t *testing.T) {
	dir := t.TempDir()
	file, ran := filepath.Join(dir, "hostname"), filepath.Join(dir, "ran")
	err := SetHostname(context.Background(), file, []string{"sh", "-c", "echo \"$0\" > " + ran, "{name}"}, "edge-7")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{file: "edge-7\n", ran: "edge-7\n"} {
		if b, _ := os.ReadFile(path); string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
	if got, _ := ReadHostname(file); got != "edge-7" {
		t.Errorf("ReadHostname = %q", got)
	}
	// A bad name is a field error and writes nothing.
	err = SetHostname(context.Background(), file, nil, "bad_name")
	if !IsInvalid(err) {
		t.Errorf("bad name: %v, want a field error", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "edge-7\n" {
		t.Errorf("file changed by a refused name: %q", b)
	}
	// A failing command says so, after writing the file.
	err = SetHostname(context.Background(), file, []string{"sh", "-c", "echo not permitted >&2; exit 1"}, "edge-8")
	if err == nil || !strings.Contains(err.Error(), "not permitted") || !strings.Contains(err.Error(), file+" written") {
		t.Errorf("failing command: %v", err)
	}
}

func TestParseNTPServers(t *testing.T) {
	got, err := ParseNTPServers(" ntp1.example.com, 192.0.2.123,,2001:db8::123 ")
	if err != nil || !slices.Equal(got, []string{"ntp1.example.com", "192.0.2.123", "2001:db8::123"}) {
		t.Errorf("ParseNTPServers = %q, %v", got, err)
	}
	_, err = ParseNTPServers("ntp_1,224.0.0.1,0.0.0.0,fe80::1")
	var msgs []string
	for _, fe := range FieldErrors(err) {
		msgs = append(msgs, fe.Message)
	}
	want := []string{
		`NTP server 1 "ntp_1" is neither an IP address nor a host name.`,
		"NTP server 2 224.0.0.1 is not a unicast address.",
		"NTP server 3 0.0.0.0 is not a unicast address.",
		"NTP server 4 fe80::1 is not a unicast address.",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if _, err := ParseNTPServers(" , "); err == nil || !strings.Contains(err.Error(), "NTP servers are missing") {
		t.Errorf("empty: %v", err)
	}
}

func TestSetNTP(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := NTPOptions{Client: "auto", TimesyncdDropIn: filepath.Join(dir, "timesyncd.conf.d", "50-nodeconsole.conf"),
		ChronySources: filepath.Join(dir, "chrony", "sources.d", "nodeconsole.sources"), ReloadCommand: []string{"true"}}
	servers := []string{"ntp1.example.com", "192.0.2.123"}
	// auto without chrony's directory: timesyncd.
	path, err := SetNTP(ctx, o, servers)
	if err != nil || path != o.TimesyncdDropIn {
		t.Fatalf("SetNTP = %q, %v", path, err)
	}
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), "[Time]\nNTP=ntp1.example.com 192.0.2.123\n") {
		t.Errorf("timesyncd drop-in = %q", b)
	}
	if got, client, err := ReadNTP(o); err != nil || client != NTPTimesyncd || !slices.Equal(got, servers) {
		t.Errorf("ReadNTP = %q, %q, %v", got, client, err)
	}
	// auto with chrony's directory: chrony.
	if err := os.MkdirAll(filepath.Dir(o.ChronySources), 0o755); err != nil {
		t.Fatal(err)
	}
	if path, err = SetNTP(ctx, o, servers); err != nil || path != o.ChronySources {
		t.Fatalf("SetNTP = %q, %v", path, err)
	}
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), "server ntp1.example.com iburst\nserver 192.0.2.123 iburst\n") {
		t.Errorf("chrony sources = %q", b)
	}
	if got, client, err := ReadNTP(o); err != nil || client != NTPChrony || !slices.Equal(got, servers) {
		t.Errorf("ReadNTP = %q, %q, %v", got, client, err)
	}
	o.ReloadCommand = []string{"sh", "-c", "echo unit not found >&2; exit 5"}
	if _, err := SetNTP(ctx, o, servers); err == nil || !strings.Contains(err.Error(), "did not reload") || !strings.Contains(err.Error(), "unit not found") {
		t.Errorf("failing reload: %v", err)
	}
}
