package builtin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

// Handler serves the realm's endpoints at paths relative to the issuer URL; mount it with
// http.StripPrefix("/realms/portal", ...) for both "/realms/portal" and "/realms/portal/":
//
//	GET  ""  or "/"                         realm info (gocloak GetIssuer)
//	GET  /.well-known/openid-configuration  discovery
//	GET  /protocol/openid-connect/certs     JWKS
//	POST /protocol/openid-connect/token     password and refresh_token grants
//	GET  /protocol/openid-connect/userinfo  claims of the bearer's account (POST too, per OIDC)
//
// and, with Config.Sessions, the browser sign-in keycloak-js uses:
//
//	GET  /protocol/openid-connect/auth      authorization code flow with PKCE S256 (POST too)
//	POST /login-actions/authenticate        the login form
//	GET  /login-actions/authenticate        the login form again ("Back to sign in")
//	GET  /protocol/openid-connect/logout    end the SSO session (POST too), or ask to confirm
//	POST /protocol/openid-connect/logout/logout-confirm  the sign-out confirmation form
//	GET  /protocol/openid-connect/3p-cookies/step1.html, step2.html  keycloak-js's cookie check
//	GET  /resources/login.css               the sign-in pages' stylesheet
//
// and, with Config.Directory too, the login page's "Forgot password?":
//
//	GET  /login-actions/reset-credentials   the form asking for a username or email
//	POST /login-actions/reset-credentials   mails the reset link; always answers the same page
//
// The token, userinfo, certs and discovery endpoints answer CORS requests of the web origins.
func (i *Issuer) Handler() http.Handler {
	return http.HandlerFunc(i.serveHTTP)
}

func (i *Issuer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if corsPaths[r.URL.Path] && i.cors(w, r) {
		return
	}
	switch r.URL.Path {
	case authPath:
		i.authorize(w, r)
	case authenticatePath:
		if r.Method == http.MethodGet {
			i.restartLogin(w, r)
		} else {
			i.authenticate(w, r)
		}
	case resetPath:
		i.resetCredentials(w, r)
	case "/protocol/openid-connect/logout":
		i.logout(w, r)
	case logoutConfirmPath:
		i.logoutConfirm(w, r)
	case "/resources/login.css":
		i.resource(w, r, "login.css")
	case "/protocol/openid-connect/3p-cookies/step1.html", "/protocol/openid-connect/3p-cookies/step1.js",
		"/protocol/openid-connect/3p-cookies/step2.html", "/protocol/openid-connect/3p-cookies/step2.js":
		i.resource(w, r, strings.TrimPrefix(r.URL.Path, "/protocol/openid-connect/3p-cookies/"))
	case "", "/":
		i.static(w, r, i.realmJSON)
	case "/.well-known/openid-configuration":
		i.static(w, r, i.discoveryJSON)
	case "/protocol/openid-connect/certs":
		i.static(w, r, i.certsJSON)
	case "/protocol/openid-connect/token":
		i.token(w, r)
	case "/protocol/openid-connect/userinfo":
		i.userinfo(w, r)
	default:
		writeJSON(w, http.StatusNotFound, oauthError{Error: "Unable to find matching target resource method"})
	}
}

func (i *Issuer) static(w http.ResponseWriter, r *http.Request, body []byte) {
	if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// allowMethod answers 405 with Allow unless r's method is one of methods.
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, oauthError{Error: "invalid_request", Description: "HTTP method not allowed"})
	return false
}

// oauthError is the error body of Keycloak's OIDC endpoints (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// userInfo is the userinfo response, in Keycloak's field order.
type userInfo struct {
	Subject           string `json:"sub"`
	EmailVerified     bool   `json:"email_verified"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
}

func (i *Issuer) userinfo(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if !allowMethod(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		i.bearerError(w, "invalid_request", "Token not provided")
		return
	}
	claims, err := i.parseAccessToken(strings.TrimSpace(tok))
	if err != nil {
		i.bearerError(w, "invalid_token", "Token verification failed")
		return
	}
	a, err := i.accounts.GetAccountBySubject(r.Context(), claims.Subject)
	switch {
	case portal.IsKind(err, portal.NotFound) || (err == nil && !a.Enabled):
		i.bearerError(w, "invalid_token", "User not found or disabled")
		return
	case err != nil:
		i.serverError(w, "userinfo: read account", err)
		return
	}
	writeJSON(w, http.StatusOK, userInfo{
		Subject:           a.Subject,
		EmailVerified:     a.EmailVerified,
		Name:              fullName(a),
		PreferredUsername: a.Username,
		GivenName:         a.FirstName,
		FamilyName:        a.LastName,
		Email:             a.Email,
	})
}

// bearerError answers 401 as RFC 6750 §3 describes, with Keycloak's JSON body.
func (i *Issuer) bearerError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer realm=%q, error=%q, error_description=%q", i.realm, code, desc))
	writeJSON(w, http.StatusUnauthorized, oauthError{Error: code, Description: desc})
}

// serverError logs the cause and answers a generic 500.
func (i *Issuer) serverError(w http.ResponseWriter, what string, err error) {
	i.log.Error(what, "err", err)
	writeJSON(w, http.StatusInternalServerError, oauthError{Error: "server_error", Description: "internal error"})
}

// publicKey is jwt's key function for the tokens this issuer signed with its RSA keys.
func (i *Issuer) publicKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k := i.keys.byKID(kid)
	if k == nil {
		return nil, errors.New("unknown kid")
	}
	return &k.priv.PublicKey, nil
}

// parseAccessToken verifies an access token this issuer signed: RS256 with a published key,
// this issuer, this client, typ Bearer, not expired.
func (i *Issuer) parseAccessToken(tok string) (*auth.Claims, error) {
	var c auth.Claims
	_, err := jwt.ParseWithClaims(tok, &c, i.publicKey,
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(i.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(i.now),
	)
	if err != nil {
		return nil, err
	}
	if c.Type != "Bearer" || c.AuthorizedParty != i.clientID || c.Subject == "" {
		return nil, errors.New("not an access token of this client")
	}
	return &c, nil
}
