package access

import (
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// UserInfo describes a user without secrets (user list).
type UserInfo struct {
	Name               string     `json:"name"`
	Role               store.Role `json:"role"`
	Sites              []string   `json:"sites,omitempty"`
	Disabled           bool       `json:"disabled"`
	TOTP               bool       `json:"totp"`
	MustChangePassword bool       `json:"mustChangePassword"`
	CreatedAt          time.Time  `json:"createdAt"`
	LastLogin          time.Time  `json:"lastLogin,omitzero"`
}

// APITokenInfo describes a personal API token without its value.
type APITokenInfo struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	LastUsed  time.Time `json:"lastUsed,omitzero"`
	Expired   bool      `json:"expired"`
}
