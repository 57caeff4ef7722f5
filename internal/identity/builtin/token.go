package builtin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

const (
	maxFormBytes = 64 << 10
	// baseScope is what Keycloak's default client scopes grant; "openid" is added when asked for.
	baseScope = "profile email"
)

// Keycloak's error answers of the token endpoint.
var (
	errMissingGrantType = oauthError{"invalid_request", "Missing form parameter: grant_type"}
	errInvalidClient    = oauthError{"invalid_client", "Invalid client or Invalid client credentials"}
	errUnsupportedGrant = oauthError{"unsupported_grant_type", "Unsupported grant_type"}
	errBadCredentials   = oauthError{"invalid_grant", "Invalid user credentials"}
	errAccountDisabled  = oauthError{"invalid_grant", "Account disabled"}
	errTooManyFailures  = oauthError{"invalid_grant", "Too many failed login attempts; try again later"}
	errNotActive        = oauthError{"invalid_grant", "Token is not active"}
	errBadRefresh       = oauthError{"invalid_grant", "Invalid refresh token"}
	errRefreshClient    = oauthError{"invalid_grant", "Invalid refresh token. Token client and authorized client don't match"}
	errSessionNotActive = oauthError{"invalid_grant", "Session not active"}
	errCodeNotValid     = oauthError{"invalid_grant", "Code not valid"}
)

// tokenResponse is Keycloak's token endpoint answer, in its field order.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token,omitempty"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	SessionState     string `json:"session_state"`
	Scope            string `json:"scope"`
}

// accessClaims is an access token. Aud shadows the embedded audience so that the one audience
// is written as a JSON string, as Keycloak writes it, rather than the one-element array
// jwt.ClaimStrings writes by default (auth.Claims reads both).
type accessClaims struct {
	auth.Claims
	Aud string `json:"aud,omitempty"`
}

// idClaims is an ID token: the access token's identity claims plus the OIDC login facts.
type idClaims struct {
	auth.Claims
	Aud      string           `json:"aud,omitempty"`
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	AtHash   string           `json:"at_hash,omitempty"`
	Nonce    string           `json:"nonce,omitempty"`
}

// refreshClaims is a refresh token. Like Keycloak's it is an HS512 JWT with typ "Refresh" and
// the issuer as audience; auth_time lets refreshing stop at the session's maximum age without
// server-side session state.
type refreshClaims struct {
	jwt.RegisteredClaims
	Type            string           `json:"typ"`
	AuthorizedParty string           `json:"azp"`
	SessionID       string           `json:"sid"`
	Scope           string           `json:"scope"`
	AuthTime        *jwt.NumericDate `json:"auth_time"`
	Nonce           string           `json:"nonce,omitempty"`
	// SSO marks the refresh tokens of a browser sign-in, whose session is kept in the
	// database: refreshing them needs that session to be live, so logging out ends them.
	SSO bool `json:"sso,omitempty"`
}

// session is one login, carried from the password grant or a browser sign-in through its
// refresh tokens.
type session struct {
	id       string
	authTime time.Time
	scope    string
	// nonce is the authorization request's, repeated in every ID token of the session.
	nonce string
	// stored says that the session is an SSO session in the database (browser sign-in).
	stored bool
}

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Content-Type must be application/x-www-form-urlencoded"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Malformed form body"})
		return
	}
	form := r.PostForm // parameters in the body only, never the URL, where they would be logged
	grant := form.Get("grant_type")
	if grant == "" {
		writeJSON(w, http.StatusBadRequest, errMissingGrantType)
		return
	}
	for _, vs := range form {
		if len(vs) > 1 {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "duplicated parameter"})
			return
		}
	}
	if !i.clientOK(r, form) {
		writeJSON(w, http.StatusUnauthorized, errInvalidClient)
		return
	}
	switch grant {
	case "password":
		i.passwordGrant(w, r, form)
	case "refresh_token":
		i.refreshGrant(w, r, form)
	case "authorization_code":
		if i.sessions == nil {
			writeJSON(w, http.StatusBadRequest, errUnsupportedGrant)
			return
		}
		i.codeGrant(w, r, form)
	default:
		writeJSON(w, http.StatusBadRequest, errUnsupportedGrant)
	}
}

// clientOK reports whether the request names the configured public client, in the form
// (client_secret_post, none) or in HTTP Basic authentication (client_secret_basic). A public
// client has no secret, so, as in Keycloak, one sent along is ignored.
func (i *Issuer) clientOK(r *http.Request, form url.Values) bool {
	id := form.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok {
		basicID, err := url.QueryUnescape(user) // RFC 6749 §2.3.1 form-encodes it
		if err != nil || (id != "" && id != basicID) {
			return false
		}
		id = basicID
	}
	return id == i.clientID
}

func (i *Issuer) passwordGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	username := strings.ToLower(form.Get("username"))
	if username == "" {
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_request", "Missing parameter: username"})
		return
	}
	a, res := i.checkLogin(r, username, form.Get("password"))
	switch res.outcome {
	case loginBlocked:
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(res.retry.Seconds())), 10))
		writeJSON(w, http.StatusTooManyRequests, errTooManyFailures)
	case loginCancelled:
		writeJSON(w, http.StatusServiceUnavailable, oauthError{"temporarily_unavailable", "request cancelled"})
	case loginError:
		i.serverError(w, res.what, res.err)
	case loginBadCredentials:
		writeJSON(w, http.StatusUnauthorized, errBadCredentials)
	case loginDisabled:
		writeJSON(w, http.StatusBadRequest, errAccountDisabled)
	default:
		now := i.now()
		i.issue(w, a, session{id: uuid.NewString(), authTime: now, scope: grantedScope(form.Get("scope"))}, now)
	}
}

// loginOutcome is how a password check ended.
type loginOutcome int

const (
	loginOK loginOutcome = iota
	loginBadCredentials
	loginDisabled
	loginBlocked
	loginCancelled
	loginError
)

type loginResult struct {
	outcome loginOutcome
	retry   time.Duration // loginBlocked: how long
	what    string        // loginError: what failed, for the log
	err     error
}

// checkLogin checks a username (lower-cased) and password for the password grant and the login
// form alike: failed-login limits per username and client IP, argon2id in a bounded number of
// slots, the same time for unknown users, invited users without a password and wrong
// passwords, and disabled accounts refused only to those who know the password.
func (i *Issuer) checkLogin(r *http.Request, username, password string) (*portal.Account, loginResult) {
	ctx := r.Context()
	ip := i.clientIP(r)
	att, retry, err := i.guard.begin(ctx, username, ip, i.now())
	if err != nil {
		if ctx.Err() != nil {
			return nil, loginResult{outcome: loginCancelled}
		}
		return nil, loginResult{outcome: loginError, what: "login: count attempt", err: err}
	}
	if retry > 0 {
		i.log.Debug("login refused: too many failed attempts", "client_ip", ip, "retry_after", retry.Round(time.Second).String())
		return nil, loginResult{outcome: loginBlocked, retry: retry}
	}

	a, err := i.accounts.GetAccountByUsername(ctx, username)
	if err != nil && !portal.IsKind(err, portal.NotFound) {
		i.withdraw(ctx, att)
		return nil, loginResult{outcome: loginError, what: "login: read account", err: err}
	}
	// An unknown user and one who has not accepted their invitation (no password yet) are
	// checked against the dummy hash, so that they fail like a wrong password, in as long.
	hash := i.dummyHash
	if err != nil {
		a = nil
	} else if a.PasswordHash != "" {
		hash = a.PasswordHash
	}
	ok, err := i.verifyPassword(ctx, hash, password)
	if err != nil {
		i.withdraw(ctx, att)
		if ctx.Err() != nil {
			return nil, loginResult{outcome: loginCancelled}
		}
		return nil, loginResult{outcome: loginError, what: "login: verify password of " + username, err: err}
	}
	if a == nil || a.PasswordHash == "" || !ok {
		i.loginFailed(a, att)
		return nil, loginResult{outcome: loginBadCredentials}
	}
	if !a.Enabled {
		// Only someone who knows the password learns that the account is disabled.
		i.withdraw(ctx, att)
		i.log.Info("login refused: account disabled", "username", a.Username, "client_ip", ip)
		return nil, loginResult{outcome: loginDisabled}
	}
	if err := i.guard.succeeded(ctx, att); err != nil {
		// The user proved the password; at worst their earlier failures stay counted.
		i.log.Warn("login: clear failed attempts", "username", a.Username, "err", err)
	}
	return a, loginResult{outcome: loginOK}
}

// withdraw takes back an attempt that was no failed login; when that fails, it stays counted.
func (i *Issuer) withdraw(ctx context.Context, att attempt) {
	if err := i.guard.cancel(ctx, att); err != nil {
		i.log.Warn("login: withdraw attempt", "client_ip", att.ip, "err", err)
	}
}

// loginFailed logs a wrong username or password. The username is logged only when it names an
// account: an unknown "username" is often a password typed into the wrong field.
func (i *Issuer) loginFailed(a *portal.Account, att attempt) {
	switch {
	case a == nil:
		i.log.Info("login failed: unknown username", "client_ip", att.ip)
	case a.PasswordHash == "":
		i.log.Info("login failed: invitation not accepted yet", "username", a.Username, "client_ip", att.ip)
	default:
		i.log.Info("login failed: wrong password", "username", a.Username, "client_ip", att.ip)
		if att.userFailures == userFailureLimit {
			i.log.Warn("account blocked for too many failed logins", "username", a.Username, "client_ip", att.ip, "for", failureWindow.String())
		}
	}
	if att.ipFailures == ipFailureLimit {
		i.log.Warn("client blocked for too many failed logins", "client_ip", att.ip, "for", failureWindow.String())
	}
}

// verifyPassword runs VerifyPassword in one of a bounded number of slots, so that a burst of
// logins queues instead of allocating 19 MiB per request at once.
func (i *Issuer) verifyPassword(ctx context.Context, hash, pw string) (bool, error) {
	select {
	case i.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-i.hashSlots }()
	return VerifyPassword(hash, pw)
}

func (i *Issuer) refreshGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	raw := form.Get("refresh_token")
	if raw == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing parameter: refresh_token"})
		return
	}
	rc, err := i.parseRefreshToken(raw)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		writeJSON(w, http.StatusBadRequest, errNotActive)
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, errBadRefresh)
		return
	case rc.AuthorizedParty != i.clientID:
		writeJSON(w, http.StatusBadRequest, errRefreshClient)
		return
	}
	now := i.now()
	if !rc.AuthTime.Add(i.sMax).After(now) {
		writeJSON(w, http.StatusBadRequest, errNotActive)
		return
	}
	s := session{id: rc.SessionID, authTime: rc.AuthTime.Time, scope: rc.Scope, nonce: rc.Nonce, stored: rc.SSO}
	var a *portal.Account
	if s.stored {
		// A browser session: it must still be live, which also keeps it from idling out.
		if i.sessions == nil {
			writeJSON(w, http.StatusBadRequest, errSessionNotActive)
			return
		}
		var err error
		if a, _, err = i.useSession(r.Context(), rc.SessionID, "", now); err != nil {
			if !portal.IsKind(err, portal.NotFound) {
				i.serverError(w, "refresh: read session", err)
				return
			}
			i.log.Info("refresh refused: session ended", "sub", rc.Subject)
			writeJSON(w, http.StatusBadRequest, errSessionNotActive)
			return
		}
		if a.Subject != rc.Subject {
			writeJSON(w, http.StatusBadRequest, errBadRefresh)
			return
		}
	} else {
		var err error
		a, err = i.accounts.GetAccountBySubject(r.Context(), rc.Subject)
		switch {
		case portal.IsKind(err, portal.NotFound) || (err == nil && !a.Enabled):
			i.log.Info("refresh refused: account gone or disabled", "sub", rc.Subject)
			writeJSON(w, http.StatusBadRequest, errNotActive)
			return
		case err != nil:
			i.serverError(w, "refresh: read account", err)
			return
		}
	}
	i.issue(w, a, s, now)
}

// parseRefreshToken verifies a refresh token this issuer signed.
func (i *Issuer) parseRefreshToken(raw string) (*refreshClaims, error) {
	var rc refreshClaims
	_, err := jwt.ParseWithClaims(raw, &rc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k := i.keys.byKID(kid)
		if k == nil {
			return nil, errors.New("unknown kid")
		}
		return k.mac, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS512.Alg()}),
		jwt.WithIssuer(i.issuer),
		jwt.WithAudience(i.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(i.now),
	)
	if err != nil {
		return nil, err
	}
	if rc.Type != "Refresh" || rc.Subject == "" || rc.SessionID == "" || rc.AuthTime == nil {
		return nil, errors.New("not a refresh token")
	}
	return &rc, nil
}

// grantedScope is the scope Keycloak grants the client for a requested scope parameter.
func grantedScope(requested string) string {
	if slices.Contains(strings.Fields(requested), "openid") {
		return "openid " + baseScope
	}
	return baseScope
}

// issue mints the tokens for a and writes the token response.
func (i *Issuer) issue(w http.ResponseWriter, a *portal.Account, s session, now time.Time) {
	resp, err := i.mint(a, s, now)
	if err != nil {
		i.serverError(w, "mint tokens", err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (i *Issuer) mint(a *portal.Account, s session, now time.Time) (*tokenResponse, error) {
	now = now.Truncate(time.Second)
	key := i.keys.active()
	// Verified once the user redeemed a mailed link (Directory.RedeemToken).
	verified := a.EmailVerified

	roles := make([]string, len(a.Roles))
	for n, role := range a.Roles {
		roles[n] = string(role)
	}
	resources := map[string]auth.Access{"account": {Roles: []string{"manage-account", "view-profile"}}}
	if len(roles) > 0 {
		resources[i.clientID] = auth.Access{Roles: roles}
	}
	identity := auth.Claims{
		Type:              "Bearer",
		AuthorizedParty:   i.clientID,
		SessionID:         s.id,
		ACR:               "1",
		EmailVerified:     &verified,
		Name:              fullName(a),
		PreferredUsername: a.Username,
		GivenName:         a.FirstName,
		FamilyName:        a.LastName,
		Email:             a.Email,
	}

	registered := jwt.RegisteredClaims{
		ExpiresAt: jwt.NewNumericDate(now.Add(i.accessTTL)),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        uuid.NewString(),
		Issuer:    i.issuer,
		Subject:   a.Subject,
	}
	access := accessClaims{Claims: identity, Aud: "account"}
	access.RegisteredClaims = registered
	access.RealmAccess = &auth.Access{Roles: []string{"default-roles-" + i.realm, "offline_access", "uma_authorization"}}
	access.ResourceAccess = resources
	access.Scope = s.scope
	accessToken, err := sign(jwt.SigningMethodRS256, access, key)
	if err != nil {
		return nil, err
	}

	refreshExp := now.Add(i.refreshTTL)
	if sessionEnd := s.authTime.Add(i.sMax); sessionEnd.Before(refreshExp) {
		refreshExp = sessionEnd
	}
	refreshToken, err := sign(jwt.SigningMethodHS512, refreshClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(refreshExp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.issuer},
			Subject:   a.Subject,
		},
		Type:            "Refresh",
		AuthorizedParty: i.clientID,
		SessionID:       s.id,
		Scope:           s.scope,
		AuthTime:        jwt.NewNumericDate(s.authTime),
		Nonce:           s.nonce,
		SSO:             s.stored,
	}, key)
	if err != nil {
		return nil, err
	}

	resp := &tokenResponse{
		AccessToken:      accessToken,
		ExpiresIn:        int64(i.accessTTL / time.Second),
		RefreshExpiresIn: int64(refreshExp.Sub(now) / time.Second),
		RefreshToken:     refreshToken,
		TokenType:        "Bearer",
		SessionState:     s.id,
		Scope:            s.scope,
	}
	if slices.Contains(strings.Fields(s.scope), "openid") {
		id := idClaims{Claims: identity, Aud: i.clientID, AuthTime: jwt.NewNumericDate(s.authTime), AtHash: atHash(accessToken), Nonce: s.nonce}
		id.Type = "ID"
		id.RegisteredClaims = registered
		id.ID = uuid.NewString()
		if resp.IDToken, err = sign(jwt.SigningMethodRS256, id, key); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// sign signs claims with key and checks that the header segment is free of '-' and '_', which
// gocloak's standard-alphabet header decoding rejects (keyID picks kids for which it is).
func sign(method jwt.SigningMethod, claims jwt.Claims, key *signingKey) (string, error) {
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = key.kid
	var k any = key.priv
	if method == jwt.SigningMethodHS512 {
		k = key.mac
	}
	s, err := t.SignedString(k)
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", method.Alg(), err)
	}
	if head, _, _ := strings.Cut(s, "."); strings.ContainsAny(head, "-_") {
		return "", fmt.Errorf("sign %s token: header %q is not standard-base64 clean", method.Alg(), head)
	}
	return s, nil
}

// atHash is the OIDC at_hash of an RS256-signed access token.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func fullName(a *portal.Account) string {
	return strings.TrimSpace(a.FirstName + " " + a.LastName)
}
