package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"gopkg.in/yaml.v3"
)

// leaf is one settable key of Config, found by walking the struct tags.
type leaf struct {
	key   string // dotted, as in the file
	path  []int  // field index from Config
	typ   reflect.Type
	check string
}

func leaves(t reflect.Type, prefix string, path []int) []leaf {
	var out []leaf
	for i := range t.NumField() {
		f := t.Field(i)
		key := join(prefix, yamlName(f))
		p := append(slices.Clone(path), i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			out = append(out, leaves(f.Type, key, p)...)
			continue
		}
		out = append(out, leaf{key: key, path: p, typ: f.Type, check: f.Tag.Get("check")})
	}
	return out
}

// sample returns a YAML value for l that differs from the default, and the
// Go value it must decode to.
func sample(l leaf) (string, any) {
	name := strings.ReplaceAll(l.key, ".", "-")
	switch {
	case l.typ == durationType:
		return "7m30s", 7*time.Minute + 30*time.Second
	case l.check == "https":
		return "https://" + name + ".example:8443", "https://" + name + ".example:8443"
	case l.check == "abspath":
		return "/x/" + name, "/x/" + name
	case strings.HasPrefix(l.check, "oneof="):
		w := strings.Split(strings.TrimPrefix(l.check, "oneof="), "|")
		return w[len(w)-1], w[len(w)-1]
	case l.typ.Kind() == reflect.String:
		return "v-" + name, "v-" + name
	case l.typ.Kind() == reflect.Bool:
		return "true", true
	case l.typ.Kind() == reflect.Int:
		return "42", 42
	case l.typ == reflect.TypeFor[[]string]():
		return "[a-" + name + ", b]", []string{"a-" + name, "b"}
	case l.typ == reflect.TypeFor[map[string]string]():
		return "{k-" + name + ": v}", map[string]string{"k-" + name: "v"}
	case l.typ == reflect.TypeFor[map[string]Model]():
		return "{m1: {make: A, model: B, endpoint: https://m1.example}}",
			map[string]Model{"m1": {Make: "A", Model: "B", Endpoint: "https://m1.example"}}
	}
	panic("no sample for " + l.key + " of type " + l.typ.String())
}

// TestEveryFieldDecoded sets every key of Config, found from the struct tags,
// in a file and checks each one arrives: a field the decoder skips (no yaml
// tag, a type it does not handle, a check that drops good values) fails here.
func TestEveryFieldDecoded(t *testing.T) {
	ls := leaves(reflect.TypeFor[Config](), "", nil)
	// Build a nested YAML document from the dotted keys.
	doc := map[string]map[string]yaml.Node{}
	var top []string
	for _, l := range ls {
		if l.typ.Kind() == reflect.Struct || len(l.path) == 0 {
			t.Fatalf("%s: bad leaf", l.key)
		}
		f := reflect.TypeFor[Config]().FieldByIndex(l.path)
		if yamlName(f) == "" || yamlName(f) == "-" {
			t.Errorf("field %s has no yaml tag: it cannot be set from a file", l.key)
		}
		sec, k, nested := strings.Cut(l.key, ".")
		if !nested {
			top = append(top, l.key)
			continue
		}
		if doc[sec] == nil {
			doc[sec] = map[string]yaml.Node{}
		}
		y, _ := sample(l)
		doc[sec][k] = yaml.Node{Kind: yaml.ScalarNode, Value: y}
	}
	var b strings.Builder
	for sec, keys := range doc {
		fmt.Fprintf(&b, "%s:\n", sec)
		for k, v := range keys {
			fmt.Fprintf(&b, "  %s: %s\n", k, v.Value)
		}
	}
	for _, l := range ls {
		if slices.Contains(top, l.key) {
			y, _ := sample(l)
			fmt.Fprintf(&b, "%s: %s\n", l.key, y)
		}
	}
	cfg := Default()
	if probs := MergeBytes(&cfg, "all.yaml", []byte(b.String())); len(probs) != 0 {
		t.Fatalf("problems: %v\nin:\n%s", probs, b.String())
	}
	v := reflect.ValueOf(cfg)
	def := reflect.ValueOf(Default())
	for _, l := range ls {
		_, want := sample(l)
		got := v.FieldByIndex(l.path).Interface()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v after decoding; want %#v (the decoder skips this field)", l.key, got, want)
		}
		if reflect.DeepEqual(def.FieldByIndex(l.path).Interface(), want) {
			t.Errorf("%s: the sample equals the default, so the test proves nothing", l.key)
		}
	}
	if len(ls) < 20 {
		t.Errorf("found only %d keys; the walk is broken", len(ls))
	}
}

// TestDHCPClientWords keeps the config's list of DHCP clients the one
// netconfig accepts.
func TestDHCPClientWords(t *testing.T) {
	f, _ := reflect.TypeFor[Network]().FieldByName("DHCPClient")
	words := strings.Split(strings.TrimPrefix(f.Tag.Get("check"), "oneof="), "|")
	if !slices.Equal(words, netconfig.DHCPClients) {
		t.Errorf("network.dhcpClient accepts %v; netconfig accepts %v", words, netconfig.DHCPClients)
	}
}

// TestConfigReferenceListsEveryKey keeps docs/config.md true: every key of
// Config is documented there.
func TestConfigReferenceListsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaves(reflect.TypeFor[Config](), "", nil) {
		if !regexp.MustCompile("`" + regexp.QuoteMeta(l.key) + "`").Match(doc) {
			t.Errorf("docs/config.md does not document `%s`", l.key)
		}
	}
}

func TestMergeBytesNamesTheSource(t *testing.T) {
	cfg := Default()
	probs := MergeBytes(&cfg, "user-data", []byte("node:\n  name: a\n  colour: red\nconsole:\n  idleLogout: soon\n"))
	got := probs.Error()
	for _, w := range []string{"user-data:3: node.colour: unknown key"} {
		if !strings.Contains(got, w) {
			t.Errorf("problems %q do not contain %q", got, w)
		}
	}
	if cfg.Node.Name != "a" {
		t.Errorf("name = %q", cfg.Node.Name)
	}
}

func TestMergeNodeKeepsLinesOfTheWholeFile(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("#cloud-config\nhostname: x\nnodeconsole:\n  site:\n    endpoint: cp.example.com\n"), &root); err != nil {
		t.Fatal(err)
	}
	top := root.Content[0]
	var sec *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "nodeconsole" {
			sec = top.Content[i+1]
		}
	}
	cfg := Default()
	probs := MergeNode(&cfg, "user-data", sec)
	if len(probs) != 1 || probs[0].String() != "user-data:5: site.endpoint: must start with https:// (such as https://cp.example.com)" {
		t.Errorf("problems = %v", probs)
	}
}

func TestModelsMergeAndKeepValidParts(t *testing.T) {
	cfg := Default()
	MergeBytes(&cfg, "a.yaml", []byte("models: {m1: {make: A, model: One}}\n"))
	probs := MergeBytes(&cfg, "b.yaml", []byte("models:\n  m2:\n    make: B\n    endpoint: http://x\n"))
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "b.yaml:4: models.m2.endpoint: must use https") {
		t.Errorf("problems = %v", probs)
	}
	want := map[string]Model{"m1": {Make: "A", Model: "One"}, "m2": {Make: "B"}}
	if !reflect.DeepEqual(cfg.Models, want) {
		t.Errorf("models = %v; want %v", cfg.Models, want)
	}
}

func TestEndpointProblems(t *testing.T) {
	for in, want := range map[string]string{
		"https://cp.example.com":        "",
		"https://cp.example.com:8443/x": "",
		"https://192.0.2.1:8443":        "",
		"https://[2001:db8::1]:8443":    "",
		"https://999.1.2.3:8443":        "999.1.2.3 is not a valid IP address",
		"https://1.2.3:8443":            "1.2.3 is not a valid IP address",
		"cp.example.com":                "must start with https:// (such as https://cp.example.com)",
		"cp.example.com:8443":           "must start with https://",
		"http://cp.example.com":         "must use https, not http",
		"https://cp.example.com:0":      "port 0 is not between 1 and 65535",
		"https://cp.example.com:70000":  "port 70000 is not between 1 and 65535",
		"https://cp.example.com:":       "has an empty port",
		"https://":                      "has no host name",
		"https://cp_x.example.com":      `"cp_x.example.com" is not a valid host name`,
		"https://u:p@cp.example.com":    "must not carry a user name or password",
	} {
		got := endpointProblem(in)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("endpointProblem(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestLocalOnlyKeys keeps every key naming a command the node runs or a
// file it writes out of user data's reach: a new one without its `local`
// tag fails here.
func TestLocalOnlyKeys(t *testing.T) {
	for _, l := range leaves(reflect.TypeFor[Config](), "", nil) {
		f := reflect.TypeFor[Config]().FieldByIndex(l.path)
		want := ""
		switch {
		case strings.HasSuffix(yamlName(f), "Command"):
			want = "command"
		case f.Tag.Get("check") == "abspath":
			want = "file"
		}
		if got := LocalOnly(l.key); got != want {
			t.Errorf("LocalOnly(%s) = %q, want %q", l.key, got, want)
		}
	}
	for _, k := range []string{"console", "site.endpoint", "nosuch.key", "network.nosuch", "models.endpoint"} {
		if got := LocalOnly(k); got != "" {
			t.Errorf("LocalOnly(%s) = %q, want \"\"", k, got)
		}
	}
}
