package network

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// "Site settings" (s on the interface list): the host name, the NTP
// servers and the HTTPS proxy, written through netconfig.Site as
// `network hostname|ntp|proxy` write them. The proxy's credentials are in
// a field of their own that never shows them.

// Site settings fields, in order; siteSave is the Save button.
const (
	siteHost = iota
	siteNTP
	siteProxy
	siteLogin
	siteNoProxy
	siteSave
)

var siteLabels = []string{"Host name", "NTP servers", "HTTPS proxy", "Proxy login", "No proxy"}

var siteHints = []string{"RFC 1123, e.g. node-12", "comma-separated", "blank: connect directly", "user:password, never shown", "optional: hosts, CIDRs"}

// siteLabelW is the Site settings label column.
const siteLabelW = 12

// siteInputW is the width of the fields on a screen w cells wide: 36, less
// where that does not fit (40 columns).
func siteInputW(w int) int { return max(min(36, w-3-siteLabelW-1), 8) }

// siteTimeout bounds saving (the host name and NTP reload commands).
const siteTimeout = 30 * time.Second

// siteForm is the Site settings editor.
type siteForm struct {
	inputs  []textinput.Model
	initial []string
	focus   int
	loaded  bool
	loadErr string
	saved   []string // what the last Save did, one sentence each
	saveErr string
	saving  bool
	// savedProxy: the last Save changed the proxy.
	savedProxy bool
}

type (
	siteMsg struct {
		gen  int
		host string
		ntp  []string
		err  error
	}
	siteSavedMsg struct {
		gen  int
		done []string
		err  error
	}
)

// siteCmd opens Site settings: it reads the host name and NTP files in a
// tea.Cmd.
func (m *Model) siteCmd() tea.Cmd {
	m.gen++
	m.phase, m.askDiscard = phaseSite, false
	m.site = siteForm{}
	for range siteLabels {
		m.site.inputs = append(m.site.inputs, ui.NewTextInput(m.st, siteInputW(m.width), 256))
	}
	m.site.inputs[siteLogin].EchoMode = textinput.EchoPassword
	m.site.inputs[siteLogin].EchoCharacter = '*'
	site, gen := *m.d.Site, m.gen
	return func() tea.Msg {
		host, err := site.Hostname()
		if err != nil {
			return siteMsg{gen: gen, err: err}
		}
		ntp, err := site.NTPServers()
		return siteMsg{gen: gen, host: host, ntp: ntp, err: err}
	}
}

func (m *Model) onSite(msg siteMsg) tea.Cmd {
	f := &m.site
	if msg.gen != m.gen || m.phase != phaseSite {
		return nil
	}
	if msg.err != nil {
		f.loadErr = "Cannot read the site settings: " + msg.err.Error()
		return ui.Error("Cannot read the site settings.", msg.err)
	}
	proxy, login := splitProxy(m.proxy)
	for i, v := range []string{msg.host, strings.Join(msg.ntp, ", "), proxy, login, m.noProxy} {
		f.inputs[i].SetValue(v)
	}
	f.initial = f.values()
	f.loaded = true
	return f.setFocus(siteHost)
}

// splitProxy splits a proxy URL into the URL without credentials and the
// "user:password" login.
func splitProxy(s string) (proxy, login string) {
	if s == "" {
		return "", ""
	}
	u, err := netconfig.ParseProxyURL(s)
	if err != nil {
		return "", ""
	}
	if u.User != nil {
		login = u.User.String()
		if un, err := url.PathUnescape(login); err == nil {
			login = un
		}
		u.User = nil
	}
	return u.String(), login
}

// joinProxy is the proxy URL with the login as its credentials.
func joinProxy(proxy, login string) string {
	proxy, login = strings.TrimSpace(proxy), strings.TrimSpace(login)
	if proxy == "" {
		return ""
	}
	u, err := netconfig.ParseProxyURL(proxy)
	if err != nil || login == "" {
		return proxy
	}
	user, pass, ok := strings.Cut(login, ":")
	if ok {
		u.User = url.UserPassword(user, pass)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// moveCredentials moves "user:password@" typed or pasted into the proxy
// URL to the Proxy login field, which never shows it.
func (f *siteForm) moveCredentials() {
	v := f.inputs[siteProxy].Value()
	at := strings.LastIndex(v, "@")
	if at < 0 {
		return
	}
	start := 0
	if i := strings.Index(v, "://"); i >= 0 && i < at {
		start = i + 3
	}
	login := v[start:at]
	if un, err := url.PathUnescape(login); err == nil {
		login = un
	}
	f.inputs[siteProxy].SetValue(v[:start] + v[at+1:])
	f.inputs[siteLogin].SetValue(login)
}

func (f *siteForm) values() []string {
	out := make([]string, len(f.inputs))
	for i, in := range f.inputs {
		out[i] = in.Value()
	}
	return out
}

func (f *siteForm) changed(i int) bool {
	return strings.TrimSpace(f.inputs[i].Value()) != strings.TrimSpace(f.initial[i])
}

func (f *siteForm) dirty() bool {
	for i := range f.inputs {
		if f.changed(i) {
			return true
		}
	}
	return false
}

// problems are the validation sentences per field ("" when fine); only
// what changed is checked.
func (f *siteForm) problems() []string {
	out := make([]string, len(f.inputs))
	v := func(i int) string { return strings.TrimSpace(f.inputs[i].Value()) }
	if f.changed(siteHost) {
		if err := netconfig.ValidateHostname(v(siteHost)); err != nil {
			out[siteHost] = err.Error()
		}
	}
	if f.changed(siteNTP) {
		if _, err := netconfig.ParseNTPServers(v(siteNTP)); err != nil {
			out[siteNTP] = netconfig.FieldMessages(err)
		}
	}
	if f.changed(siteProxy) || f.changed(siteLogin) {
		switch u, err := netconfig.ParseProxyURL(v(siteProxy)); {
		case v(siteProxy) == "" && v(siteLogin) != "":
			out[siteLogin] = "A proxy login needs a proxy."
		case v(siteProxy) == "":
		case err != nil:
			out[siteProxy] = strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
		case u.User != nil:
			out[siteProxy] = "Put the user name and password in Proxy login, where they are not shown."
		}
	}
	if err := netconfig.ValidateNoProxy(v(siteNoProxy)); err != nil {
		out[siteNoProxy] = strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
	}
	return out
}

func (f *siteForm) valid() bool {
	for _, p := range f.problems() {
		if p != "" {
			return false
		}
	}
	return true
}

func (f *siteForm) setFocus(i int) tea.Cmd {
	f.focus = i
	var cmd tea.Cmd
	for j := range f.inputs {
		if j == i {
			cmd = f.inputs[j].Focus()
		} else {
			f.inputs[j].Blur()
		}
	}
	return cmd
}

func (f *siteForm) move(delta int) tea.Cmd {
	return f.setFocus((f.focus + delta + siteSave + 1) % (siteSave + 1))
}

// siteKey handles a key on Site settings.
func (m *Model) siteKey(k tea.KeyPressMsg) tea.Cmd {
	f := &m.site
	if m.askDiscard {
		m.discardKey(k)
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Cancel) || (f.focus == siteSave && key.Matches(k, m.keys.nav.Back)):
		if f.loaded && f.dirty() {
			m.askDiscard = true
			return nil
		}
		m.gen++ // a late read or save answer is dropped
		m.phase = phaseList
		return nil
	case !f.loaded || f.saving:
		return nil
	case key.Matches(k, m.keys.FieldNext):
		return f.move(1)
	case key.Matches(k, m.keys.FieldPrev):
		return f.move(-1)
	case f.focus == siteSave && key.Matches(k, m.keys.Enter):
		if !f.valid() || !f.dirty() {
			return nil
		}
		return m.saveSiteCmd()
	case key.Matches(k, m.keys.Enter):
		return f.move(1)
	}
	return f.update(k)
}

func (f *siteForm) update(msg tea.Msg) tea.Cmd {
	if f.focus >= siteSave || !f.loaded {
		return nil
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	f.saved, f.saveErr, f.savedProxy = nil, "", false
	if f.focus == siteProxy {
		f.moveCredentials()
	}
	return cmd
}

// saveSiteCmd writes what changed, in a tea.Cmd: the host name, the NTP
// servers, the proxy. Each is audited; the proxy without its credentials.
func (m *Model) saveSiteCmd() tea.Cmd {
	f := &m.site
	f.saving, f.saved, f.saveErr, f.savedProxy = true, nil, "", false
	v := func(i int) string { return strings.TrimSpace(f.inputs[i].Value()) }
	host, hostChanged := v(siteHost), f.changed(siteHost)
	ntp, _ := netconfig.ParseNTPServers(v(siteNTP))
	ntpChanged := f.changed(siteNTP)
	proxy, noProxy := joinProxy(v(siteProxy), v(siteLogin)), v(siteNoProxy)
	proxyChanged := f.changed(siteProxy) || f.changed(siteLogin) || f.changed(siteNoProxy)
	var audits []tea.Cmd
	if hostChanged {
		audits = append(audits, ui.Audit("network hostname", "hostname", host))
	}
	if ntpChanged {
		audits = append(audits, ui.Audit("network ntp", "servers", strings.Join(ntp, ",")))
	}
	if proxyChanged {
		shown := "none"
		if proxy != "" {
			shown = netconfig.ProxyShown(proxy)
		}
		audits = append(audits, ui.Audit("network proxy", "proxy", shown, "noProxy", noProxy))
	}
	site, gen := *m.d.Site, m.gen
	return tea.Batch(append(audits, func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), siteTimeout)
		defer cancel()
		var done []string
		if hostChanged {
			if err := site.SetHostname(ctx, host); err != nil {
				return siteSavedMsg{gen: gen, done: done, err: err}
			}
			done = append(done, "Host name "+host+" saved.")
		}
		if ntpChanged {
			path, err := site.SetNTP(ctx, ntp)
			if err != nil {
				return siteSavedMsg{gen: gen, done: done, err: err}
			}
			done = append(done, fmt.Sprintf("NTP servers %s written to %s.", strings.Join(ntp, ", "), path))
		}
		if proxyChanged {
			if _, err := site.SetProxy(proxy, noProxy); err != nil {
				return siteSavedMsg{gen: gen, done: done, err: err}
			}
			if proxy == "" {
				done = append(done, "No proxy: connections to the control plane go direct.")
			} else {
				done = append(done, "Proxy "+netconfig.ProxyShown(proxy)+" saved.")
			}
		}
		return siteSavedMsg{gen: gen, done: done}
	})...)
}

func (m *Model) onSiteSaved(msg siteSavedMsg) tea.Cmd {
	f := &m.site
	if msg.gen != m.gen || m.phase != phaseSite {
		return nil
	}
	f.saving, f.saved = false, msg.done
	if msg.err != nil {
		// The form stays as typed, so that Save tries again.
		f.saveErr = "Not all saved: " + msg.err.Error()
		return tea.Batch(ui.StatusChanged, ui.Error("The site settings were not all saved.", msg.err))
	}
	// What was saved is the new starting point, the proxy included.
	vals := f.values()
	f.savedProxy = f.changed(siteProxy) || f.changed(siteLogin) || f.changed(siteNoProxy)
	f.initial = vals
	m.proxy, m.noProxy = joinProxy(vals[siteProxy], vals[siteLogin]), strings.TrimSpace(vals[siteNoProxy])
	if f.savedProxy && m.d.ProxyChanged != nil {
		m.d.ProxyChanged(m.proxy, m.noProxy)
	}
	return ui.StatusChanged // the home screen shows the host name
}
