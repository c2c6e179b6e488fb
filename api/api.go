// Package api is the wire contract between a node (the regclient package) and
// the reference control plane (the controlplane package).
//
// Two families of endpoints share one error shape (Error):
//
//   - The node API. Enrollment follows RFC 8628 (device authorization grant)
//     and uses its snake_case field names (device_code, user_code,
//     verification_uri, expires_in, interval). After enrollment the node calls
//     NodeSelf and NodeDeregister with mutual TLS, presenting the certificate
//     it received.
//   - The admin API, authenticated with "Authorization: Bearer <admin token>".
//     Its paths and camelCase fields are fixed (docs/protocol.md).
//
// Every time in JSON is RFC 3339 (time.Time's encoding). The server also sends
// an HTTP Date header on every answer; ServerTime fields and the Time endpoint
// give the same clock with sub-second precision so a node can measure skew.
package api

// Node API paths. All are under the control plane's base URL
// (for example https://cp.example:8443).
const (
	// PathEnroll starts (or resumes) an enrollment: POST EnrollRequest,
	// answer 200 EnrollResponse.
	PathEnroll = "/api/v1/enroll"
	// PathEnrollPoll is the long-poll for an enrollment's outcome:
	// POST PollRequest, answer 200 Registration or an Error with code
	// authorization_pending, slow_down, expired_token, access_denied or
	// invalid_grant.
	PathEnrollPoll = "/api/v1/enroll/poll"
	// PathEnrollCancel abandons a pending enrollment: POST CancelRequest,
	// answer 204.
	PathEnrollCancel = "/api/v1/enroll/cancel"
	// PathRegister registers a node at once with a registration token in
	// "Authorization: Bearer <token>": POST RegisterRequest, answer
	// 201 Registration.
	PathRegister = "/api/v1/register"
	// PathNodeSelf answers who the calling node is: GET with mutual TLS,
	// answer 200 NodeSelf.
	PathNodeSelf = "/api/v1/node/self"
	// PathNodeDeregister records a Deregister event and revokes the calling
	// node's certificate: POST DeregisterRequest with mutual TLS, answer
	// 200 DeregisterResponse. Afterwards that certificate gets 401
	// certificate_revoked.
	PathNodeDeregister = "/api/v1/node/deregister"
	// PathTime answers the server's clock: GET, answer 200 TimeResponse.
	// No authentication.
	PathTime = "/api/v1/time"
	// PathUpdate asks whether a newer nodeconsole build is offered:
	// GET with query parameters version and arch, answer 200 UpdateOffer or
	// 204 when there is nothing newer. No authentication.
	PathUpdate = "/api/v1/update"
)

// Admin API paths and patterns (Go 1.22 net/http patterns; {code} and {id}
// are path segments). All need "Authorization: Bearer <admin token>".
const (
	// PathActivations is the prefix of PatternActivation.
	PathActivations = "/api/v1/activations/"
	// PatternActivation: GET is Find (answer Activation), POST is License Node
	// (body LicenseRequest, answer LicenseResponse). {code} is the user code,
	// in any case, with or without the dash.
	PatternActivation = "/api/v1/activations/{code}"
	// PatternActivationDeny refuses a pending code: POST, answer 200
	// DenyResponse; the node's poll then gets access_denied.
	PatternActivationDeny = "/api/v1/activations/{code}/deny"
	// PathTokens: POST CreateTokenRequest answers 201 CreateTokenResponse
	// (the only time the token value is shown) with Location
	// PatternToken; GET answers TokenList.
	PathTokens = "/api/v1/tokens"
	// PatternToken: DELETE revokes the token, answer 204 (404 when it is
	// already revoked: every DELETE of something gone answers 404).
	PatternToken = "/api/v1/tokens/{id}"
	// PathNodes: POST AddNodesRequest ("Add Edge Hosts") answers
	// 201 NodeList (with Location PatternNode for one node); GET answers
	// NodeList.
	PathNodes = "/api/v1/nodes"
	// PatternNode: GET answers Node; DELETE deletes the node (its certificate
	// is refused from then on), answer 204.
	PatternNode = "/api/v1/nodes/{id}"
	// PathEvents: GET answers EventList, newest first.
	PathEvents = "/api/v1/events"
	// PathSites: GET answers SiteList; POST CreateSiteRequest answers
	// 201 Site with Location PatternSite.
	PathSites = "/api/v1/sites"
	// PatternSite: DELETE removes a site, answer 204.
	PatternSite = "/api/v1/sites/{id}"
)

// PathRegisterPage is the portal's QR registration page. A node's QR code may
// point at it with query parameters node (the node ID) and code (the user
// code); see RegisterPageURL.
const PathRegisterPage = "/register"

// PathActivatePage is the portal's Activate Node page; with query parameter
// code it is the verification_uri_complete of an enrollment.
const PathActivatePage = "/activate"
