// Package auth verifies bearer tokens offline and turns their claims into a portal.Principal.
// It also defines the token layout (Keycloak's) that the built-in issuer and the Keycloak test
// server mint, so that one definition of a token serves every identity mode.
package auth

import (
	"encoding/json"

	"github.com/golang-jwt/jwt/v5"
)

// Access is a list of roles, as Keycloak nests it under realm_access and resource_access.
type Access struct {
	Roles []string `json:"roles"`
}

// Claims is an access token laid out exactly as Keycloak emits it (shared/contracts/NOTES.md §4).
// aud is a string or an array on the wire; jwt.ClaimStrings reads both.
type Claims struct {
	jwt.RegisteredClaims
	Type              string            `json:"typ,omitempty"`
	AuthorizedParty   string            `json:"azp,omitempty"`
	SessionID         string            `json:"sid,omitempty"`
	ACR               string            `json:"acr,omitempty"`
	AllowedOrigins    []string          `json:"allowed-origins,omitempty"`
	RealmAccess       *Access           `json:"realm_access,omitempty"`
	ResourceAccess    map[string]Access `json:"resource_access,omitempty"`
	Scope             string            `json:"scope,omitempty"`
	EmailVerified     *bool             `json:"email_verified,omitempty"`
	Name              string            `json:"name,omitempty"`
	PreferredUsername string            `json:"preferred_username,omitempty"`
	GivenName         string            `json:"given_name,omitempty"`
	FamilyName        string            `json:"family_name,omitempty"`
	Email             string            `json:"email,omitempty"`
	// ClientID is set on service-account tokens (KC 26 names it client_id).
	ClientID string `json:"client_id,omitempty"`
}

// String renders the claims as JSON, for debugging and tests.
func (c Claims) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}
