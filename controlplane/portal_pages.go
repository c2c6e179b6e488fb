package controlplane

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (p *portal) nodesPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Nodes", "nodes"
	list, err := p.s.nodes(r.Context())
	if err != nil {
		d.Error, _ = p.message(r, err)
	}
	d.Data = list
	p.render(w, r, http.StatusOK, "nodes", d)
}

func (p *portal) deleteNode(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.s.deleteNode(r.Context(), r.PostFormValue("id"), sourceIP(r)); err != nil {
		msg, status := p.message(r, err)
		d.Title, d.Nav, d.Error = "Nodes", "nodes", msg
		list, _ := p.s.nodes(r.Context())
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

func (p *portal) activatePage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	d.Data = activateData{Code: r.URL.Query().Get("code")}
	p.render(w, r, http.StatusOK, "activate", d)
}

// find is the Find button: show what the node reported.
func (p *portal) find(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	code := strings.TrimSpace(r.PostFormValue("code"))
	data := activateData{Code: code}
	status := http.StatusOK
	a, err := p.s.find(r.Context(), code, sourceIP(r))
	if err != nil {
		d.Error, status = p.message(r, err)
	} else {
		if c, ok := api.NormalizeUserCode(code); ok {
			data.Code = api.FormatUserCode(c)
		}
		data.Found, data.TimeLeft = &a, timeLeft(a.ExpiresAt, p.s.now())
		sites, _ := p.s.sites(r.Context())
		data.Sites = sites.Sites
	}
	d.Data = data
	p.render(w, r, status, "activate", d)
}

// license is the License Node button.
func (p *portal) license(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	code := r.PostFormValue("code")
	req := api.LicenseRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project"), Site: r.PostFormValue("site"),
		KeyFingerprint: r.PostFormValue("keyFingerprint")}
	resp, err := p.s.license(r.Context(), code, "", req, sourceIP(r))
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

func (p *portal) deny(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Activate Node", "activate"
	resp, err := p.s.deny(r.Context(), r.PostFormValue("code"), sourceIP(r))
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

func (p *portal) renderTokens(w http.ResponseWriter, r *http.Request, d pageData, status int, nt *newToken) {
	d.Title, d.Nav = "Registration Tokens", "tokens"
	list, err := p.s.tokens(r.Context())
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	d.Data = tokensData{Tokens: list.Tokens, NewToken: nt}
	p.render(w, r, status, "tokens", d)
}

func (p *portal) tokensPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderTokens(w, r, d, http.StatusOK, nil)
}

func (p *portal) createToken(w http.ResponseWriter, r *http.Request, d pageData) {
	req := api.CreateTokenRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project"),
		ExpiresIn: r.PostFormValue("expiresIn"), SingleUse: r.PostFormValue("singleUse") != ""}
	resp, err := p.s.createToken(r.Context(), req, sourceIP(r))
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderTokens(w, r, d, status, nil)
		return
	}
	d.Notice = "Token created."
	p.renderTokens(w, r, d, http.StatusOK, &newToken{Name: strings.TrimSpace(req.Name), Value: resp.Token})
}

func (p *portal) revokeToken(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.s.revokeToken(r.Context(), r.PostFormValue("id"), sourceIP(r)); err != nil {
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

func (p *portal) hostsPage(w http.ResponseWriter, r *http.Request, d pageData) {
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

func (p *portal) addHosts(w http.ResponseWriter, r *http.Request, d pageData) {
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
	list, err := p.s.addNodes(r.Context(), req, sourceIP(r))
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

func (p *portal) renderSites(w http.ResponseWriter, r *http.Request, d pageData, status int) {
	d.Title, d.Nav = "Sites", "sites"
	list, err := p.s.sites(r.Context())
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	d.Data = sitesData{Sites: list.Sites}
	p.render(w, r, status, "sites", d)
}

func (p *portal) sitesPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderSites(w, r, d, http.StatusOK)
}

func (p *portal) createSite(w http.ResponseWriter, r *http.Request, d pageData) {
	if _, err := p.s.createSite(r.Context(), api.CreateSiteRequest{Name: r.PostFormValue("name"), Project: r.PostFormValue("project")}); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderSites(w, r, d, status)
		return
	}
	http.Redirect(w, r, "/sites", http.StatusSeeOther)
}

func (p *portal) deleteSite(w http.ResponseWriter, r *http.Request, d pageData) {
	if err := p.s.deleteSite(r.Context(), r.PostFormValue("id")); err != nil {
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
func (p *portal) sitesFor(r *http.Request, who Principal) []api.Site {
	all, _ := p.s.sites(r.Context())
	var out []api.Site
	for _, st := range all.Sites {
		if who.MaySite(st.Name) {
			out = append(out, st)
		}
	}
	return out
}

// registerPage is the QR registration page: /register?node=ID&code=CODE.
func (p *portal) registerPage(w http.ResponseWriter, r *http.Request, d pageData) {
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
	} else if e, err := p.s.lookup(r.Context(), code, node, sourceIP(r)); err != nil {
		d.Error, status = p.message(r, err)
	} else if a, err := p.s.activation(r.Context(), e); err != nil {
		d.Error, status = p.message(r, err)
	} else {
		data.Found = &a
	}
	d.Data = data
	p.render(w, r, status, "register", d)
}

func (p *portal) register(w http.ResponseWriter, r *http.Request, d pageData) {
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
	resp, err := p.s.license(r.Context(), code, node, api.LicenseRequest{Name: r.PostFormValue("name"), Site: site,
		KeyFingerprint: r.PostFormValue("keyFingerprint")}, sourceIP(r))
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
func (p *portal) eventsPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Nav = "Events", "events"
	data := eventsData{Types: eventTypes}
	status := http.StatusOK
	q, err := eventQuery(r.URL.Query(), pageEventLimit)
	if err == nil {
		data.Filter = q
		var list api.EventList
		list, err = p.s.eventPage(r.Context(), q)
		data.Events = list.Events
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
