package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (p *Portal) nodesPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Nodes", "nodes"
	list, err := p.d.Fleet.Nodes(r.Context())
	if err != nil {
		d.Error, _ = p.message(r, err)
	}
	d.Data = list
	p.render(w, r, http.StatusOK, "nodes", d)
}

func (p *Portal) deleteNode(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.d.Fleet.DeleteNode(r.Context(), r.PostFormValue("id"), p.d.SourceIP(r)); err != nil {
		msg, status := p.message(r, err)
		d.Title, d.Nav, d.Error = "Nodes", "nodes", msg
		list, _ := p.d.Fleet.Nodes(r.Context())
		d.Data = list
		p.render(w, r, status, "nodes", d)
		return
	}
	http.Redirect(w, r, "/nodes", http.StatusSeeOther)
}

type activateData struct {
	Code     string
	Found    *api.Activation
	TimeLeft string
	Sites    []api.Site
}

func (p *Portal) activatePage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	d.Data = activateData{Code: r.URL.Query().Get("code")}
	p.render(w, r, http.StatusOK, "activate", d)
}

// find is the Find button: show what the node reported.
func (p *Portal) find(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	code := strings.TrimSpace(r.PostFormValue("code"))
	data := activateData{Code: code}
	status := http.StatusOK
	a, err := p.d.Fleet.Find(r.Context(), code, p.d.SourceIP(r))
	if err != nil {
		d.Error, status = p.message(r, err)
	} else {
		if c, ok := api.NormalizeUserCode(code); ok {
			data.Code = api.FormatUserCode(c)
		}
		data.Found, data.TimeLeft = &a, timeLeft(a.ExpiresAt, p.d.Now())
		sites, _ := p.d.Fleet.Sites(r.Context())
		data.Sites = sites.Sites
	}
	d.Data = data
	p.render(w, r, status, "activate", d)
}

// license is the License Node button.
func (p *Portal) license(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	code := r.PostFormValue("code")
	req := api.LicenseRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project"), Site: r.PostFormValue("site"),
		KeyFingerprint: r.PostFormValue("keyFingerprint")}
	resp, err := p.d.Fleet.License(r.Context(), code, "", req, p.d.SourceIP(r))
	if err != nil {
		msg, status := p.message(r, err)
		d.Error, d.Data = msg, activateData{Code: code}
		p.render(w, r, status, "activate", d)
		return
	}
	d.Notice = "Node " + resp.NodeID + " is licensed as “" + resp.Name + "”. It picks up its certificate and appears as Registered in Nodes."
	d.Data = activateData{}
	p.render(w, r, http.StatusOK, "activate", d)
}

func (p *Portal) deny(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	resp, err := p.d.Fleet.Deny(r.Context(), r.PostFormValue("code"), p.d.SourceIP(r))
	status := http.StatusOK
	if err != nil {
		d.Error, status = p.message(r, err)
	} else {
		d.Notice = "The activation code of node " + resp.NodeID + " was denied."
	}
	d.Data = activateData{}
	p.render(w, r, status, "activate", d)
}

type tokensData struct {
	Tokens   []api.Token
	NewToken *newToken
}

type newToken struct{ Name, Value string }

func (p *Portal) renderTokens(w http.ResponseWriter, r *http.Request, d pageData, status int, nt *newToken) {
	d.Title, d.Nav = "Registration Tokens", "tokens"
	list, err := p.d.Fleet.Tokens(r.Context())
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	d.Data = tokensData{Tokens: list.Tokens, NewToken: nt}
	p.render(w, r, status, "tokens", d)
}

func (p *Portal) tokensPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderTokens(w, r, d, http.StatusOK, nil)
}

func (p *Portal) createToken(w http.ResponseWriter, r *http.Request, d pageData) {
	req := api.CreateTokenRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project"),
		ExpiresIn: r.PostFormValue("expiresIn"), SingleUse: r.PostFormValue("singleUse") != ""}
	resp, err := p.d.Fleet.CreateToken(r.Context(), req, p.d.SourceIP(r))
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderTokens(w, r, d, status, nil)
		return
	}
	d.Notice = "Token created."
	p.renderTokens(w, r, d, http.StatusOK, &newToken{Name: strings.TrimSpace(req.Name), Value: resp.Token})
}

func (p *Portal) revokeToken(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.d.Fleet.RevokeToken(r.Context(), r.PostFormValue("id"), p.d.SourceIP(r)); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderTokens(w, r, d, status, nil)
		return
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

type hostsData struct {
	IDs, Tags string
	Keys      map[string]string // generated pairing keys, shown once
}

func (p *Portal) hostsPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav, d.Data = "Add Edge Hosts", "hosts", hostsData{}
	p.render(w, r, http.StatusOK, "hosts", d)
}

// parseTags reads "key=value" lines.
func parseTags(s string) (map[string]string, bool) {
	tags := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, false
		}
		tags[k] = strings.TrimSpace(v)
	}
	return tags, true
}

func (p *Portal) addHosts(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Add Edge Hosts", "hosts"
	ids := strings.Fields(r.PostFormValue("ids"))
	d.Data = hostsData{IDs: r.PostFormValue("ids"), Tags: r.PostFormValue("tags")}
	tags, ok := parseTags(r.PostFormValue("tags"))
	if !ok {
		d.Error = "Tags must be one key=value per line."
		p.render(w, r, http.StatusBadRequest, "hosts", d)
		return
	}
	req := api.AddNodesRequest{IDs: ids, Tags: tags, Project: r.PostFormValue("project")}
	if r.PostFormValue("pairing") == api.PairingKeyGenerate {
		req.PairingKeys = map[string]string{}
		for _, id := range ids {
			req.PairingKeys[id] = api.PairingKeyGenerate
		}
	}
	list, err := p.d.Fleet.AddNodes(r.Context(), req, p.d.SourceIP(r))
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.render(w, r, status, "hosts", d)
		return
	}
	d.Notice = "Added " + plural(len(list.Nodes), "node ID") + "."
	d.Data = hostsData{Keys: list.PairingKeys}
	p.render(w, r, http.StatusOK, "hosts", d)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

type sitesData struct{ Sites []api.Site }

func (p *Portal) renderSites(w http.ResponseWriter, r *http.Request, d pageData, status int) {
	d.Title, d.Nav = "Sites", "sites"
	list, err := p.d.Fleet.Sites(r.Context())
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	d.Data = sitesData{Sites: list.Sites}
	p.render(w, r, status, "sites", d)
}

func (p *Portal) sitesPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderSites(w, r, d, http.StatusOK)
}

func (p *Portal) createSite(w http.ResponseWriter, r *http.Request, d pageData) {
	if _, err := p.d.Fleet.CreateSite(r.Context(), api.CreateSiteRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project")}); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderSites(w, r, d, status)
		return
	}
	http.Redirect(w, r, "/sites", http.StatusSeeOther)
}

func (p *Portal) deleteSite(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.d.Fleet.DeleteSite(r.Context(), r.PostFormValue("id")); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderSites(w, r, d, status)
		return
	}
	http.Redirect(w, r, "/sites", http.StatusSeeOther)
}

type registerData struct {
	Code  string
	Found *api.Activation
	Sites []api.Site
}

// sitesFor lists the sites the principal may register nodes at.
func (p *Portal) sitesFor(r *http.Request, who access.Principal) []api.Site {
	all, _ := p.d.Fleet.Sites(r.Context())
	var out []api.Site
	for _, st := range all.Sites {
		if who.MaySite(st.Name) {
			out = append(out, st)
		}
	}
	return out
}

// registerPage is the QR registration page: /register?node=ID&code=CODE.
func (p *Portal) registerPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Register node", "register"
	q := r.URL.Query()
	node, code := q.Get("node"), q.Get("code")
	status := http.StatusOK
	data := registerData{Code: code}
	if node == "" && code == "" {
		// No QR link: the form asks for the code on the node's screen.
	} else if node != "" && !api.ValidNodeID(node) {
		d.Error, status = "The link is damaged: the node ID in it is not valid. Scan the QR code on the node's screen again, or enter its code.", http.StatusBadRequest
	} else if data.Sites = p.sitesFor(r, d.Who); len(data.Sites) == 0 {
		d.Error, status = "There is no site you may register nodes at. Ask an admin to add one.", http.StatusForbidden
	} else if a, err := p.d.Fleet.Lookup(r.Context(), code, node, p.d.SourceIP(r)); err != nil {
		d.Error, status = p.message(r, err)
	} else {
		data.Found = &a
	}
	d.Data = data
	p.render(w, r, status, "register", d)
}

func (p *Portal) register(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title = "Register node"
	node, code, site := r.PostFormValue("node"), r.PostFormValue("code"), r.PostFormValue("site")
	if site == "" {
		d.Error, d.Data = "Choose a site.", registerData{}
		p.render(w, r, http.StatusBadRequest, "register", d)
		return
	}
	if !d.Who.MaySite(site) {
		p.renderMessage(w, r, http.StatusForbidden, d, "Not allowed",
			"You may not register nodes at site “"+site+"”. Ask an admin if you need it.", "/")
		return
	}
	resp, err := p.d.Fleet.License(r.Context(), code, node, api.LicenseRequest{Name: r.PostFormValue("name"), Site: site,
		KeyFingerprint: r.PostFormValue("keyFingerprint")}, p.d.SourceIP(r))
	if err != nil {
		msg, status := p.message(r, err)
		d.Error, d.Data = msg, registerData{}
		p.render(w, r, status, "register", d)
		return
	}
	d.Notice = "Node " + resp.NodeID + " is registered as “" + resp.Name + "” at site " + site + "."
	d.Data = registerData{}
	p.render(w, r, http.StatusOK, "register", d)
}

type eventsData struct {
	Events []api.Event
	Filter store.EventQuery
	Types  []string
	// Older is the link to the next page, empty on the last.
	Older string
}

// eventTypes are the types the events page filter offers.
var eventTypes = []string{api.EventEnrollmentStarted, api.EventActivated, api.EventDenied, api.EventRegistered,
	api.EventDeregistered, api.EventCancelled, api.EventCodeLookupFailed, api.EventTokenRejected, api.EventNodeAdded,
	api.EventNodeDeleted, api.EventTokenCreated, api.EventTokenRevoked, api.EventSiteCreated, api.EventSiteDeleted,
	api.EventLogin, api.EventLoginFailed, api.EventTOTPFailed, api.EventLogout, api.EventUserCreated,
	api.EventUserChanged, api.EventUserDeleted, api.EventPasswordChanged, api.EventAPITokenCreated,
	api.EventAPITokenRevoked, api.EventAdminTokenRotated}

// eventsPage shows events, filtered by actor, node and type, a page at a
// time.
func (p *Portal) eventsPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Events", "events"
	data := eventsData{Types: eventTypes}
	status := http.StatusOK
	q, list, err := p.d.Fleet.Events(r.Context(), r.URL.Query(), pageEventLimit)
	data.Filter, data.Events = q, list.Events
	if err == nil {
		if list.Next != "" {
			v := url.Values{"cursor": {list.Next}}
			for k, f := range map[string]string{"actor": q.Actor, "node": q.NodeID, "type": q.Type} {
				if f != "" {
					v.Set(k, f)
				}
			}
			data.Older = "/events?" + v.Encode()
		}
	}
	if err != nil {
		d.Error, status = p.message(r, err)
	}
	d.Data = data
	p.render(w, r, status, "events", d)
}

// eventLabels are the words the events page shows for event types.
var eventLabels = map[string]string{
	api.EventCodeLookupFailed: "Code lookup failed",
	api.EventAPITokenCreated:  "API token created",
	api.EventAPITokenRevoked:  "API token revoked",
	api.EventTOTPFailed:       "Two-factor code failed",
	api.EventLogin:            "Logged in",
	api.EventLogout:           "Logged out",
	api.EventNodeAdded:        "Node pre-added",
	api.EventCancelled:        "Enrollment cancelled",
}

// eventLabel turns an event type into words: "code_lookup_failed" becomes
// "Code lookup failed".
func eventLabel(typ string) string {
	if l, ok := eventLabels[typ]; ok {
		return l
	}
	s := strings.ReplaceAll(typ, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// timeLeft formats the time until t for people.
func timeLeft(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d <= 0 {
		return "expired"
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}
