package builtin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/golang-jwt/jwt/v5"

	"github.com/customer-portal/portal/internal/portal"
)

// codeGrant redeems an authorization code (RFC 6749 §4.1.3 with RFC 7636 S256).
func (i *Issuer) codeGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	code := form.Get("code")
	if code == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing parameter: code"})
		return
	}
	ctx := r.Context()
	now := i.now()
	sid, raw, err := i.sessions.TakeAuthorizationCode(ctx, hashSecret(code), now)
	switch {
	case portal.IsKind(err, portal.Conflict):
		// Someone holds a copy of a code that was redeemed already: whoever redeemed it first
		// may be the thief, so the session ends and its refresh tokens with it.
		i.log.Warn("authorization code replayed; session ended", "sid", sid, "client_ip", i.clientIP(r))
		if err := i.sessions.DeleteSSOSession(ctx, sid); err != nil {
			i.serverError(w, "code: end session of replayed code", err)
			return
		}
		writeJSON(w, http.StatusBadRequest, errCodeNotValid)
		return
	case portal.IsKind(err, portal.NotFound):
		writeJSON(w, http.StatusBadRequest, errCodeNotValid)
		return
	case err != nil:
		i.serverError(w, "code: redeem", err)
		return
	}
	var req codeRequest
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		i.serverError(w, "code: decode request", err)
		return
	}
	verifier := form.Get("code_verifier")
	switch {
	case req.ClientID != i.clientID:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Auth error"})
		return
	case form.Get("redirect_uri") != req.RedirectURI:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Incorrect redirect_uri"})
		return
	case verifier == "":
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "PKCE code verifier not specified"})
		return
	case !pkceValue.MatchString(verifier):
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "PKCE verification failed: Invalid code verifier"})
		return
	case s256(verifier) != req.Challenge:
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "PKCE verification failed: Invalid code verifier"})
		return
	}
	a, authTime, err := i.useSession(ctx, sid, "", now)
	switch {
	case portal.IsKind(err, portal.NotFound):
		writeJSON(w, http.StatusBadRequest, errSessionNotActive)
		return
	case err != nil:
		i.serverError(w, "code: read session", err)
		return
	case a.Subject != req.Subject:
		writeJSON(w, http.StatusBadRequest, errCodeNotValid)
		return
	}
	i.issue(w, a, session{id: sid, authTime: authTime, scope: req.Scope, nonce: req.Nonce, stored: true}, now)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// logoutConfirmPath is where the sign-out confirmation page posts, as in Keycloak.
const logoutConfirmPath = "/protocol/openid-connect/logout/logout-confirm"

// logoutRequest is a checked end-session request waiting for the user's confirmation. It
// travels signed in the confirmation form, bound to the browser like the login form.
type logoutRequest struct {
	Target  string `json:"t,omitempty"`
	State   string `json:"s,omitempty"`
	Expires int64  `json:"e"`
	Browser string `json:"b"`
}

// logout is the end-session endpoint with Keycloak 18+ semantics. The parameters are checked
// first: post_logout_redirect_uri needs client_id or id_token_hint and must match a registered
// pattern; an id_token_hint must be an ID token of this issuer and client (it may have
// expired). Then the session ends at once only when the hint names the browser's own session,
// or the browser has none and the hint's session ends. Otherwise, since a request with the
// cookie alone can come from any site (a cross-site GET or form POST carries the SameSite=Lax
// cookie on a top-level navigation), the user is asked to confirm on a page whose form is bound
// to this browser. keycloak-js sends id_token_hint with client_id and post_logout_redirect_uri,
// so its logout goes straight through.
func (i *Issuer) logout(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		i.errorPage(w, r, http.StatusMethodNotAllowed, func(t *texts) string { return t.OnlySignOutRequests })
		return
	}
	if i.sessions == nil {
		i.errorPage(w, r, http.StatusNotFound, func(t *texts) string { return t.BrowserSignInOff })
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidRequest })
			return
		}
		params = r.PostForm
	}
	var hint *idClaims
	if raw := params.Get("id_token_hint"); raw != "" {
		var err error
		if hint, err = i.parseIDTokenHint(raw); err != nil {
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidIDTokenHint })
			return
		}
	}
	clientID := params.Get("client_id")
	if clientID != "" && clientID != i.clientID {
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidClientID })
		return
	}
	target := params.Get("post_logout_redirect_uri")
	if target != "" {
		if clientID == "" && hint == nil {
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.MissingIDTokenHint })
			return
		}
		if _, ok := i.checkRedirect(target); !ok {
			i.log.Info("logout redirect refused: not registered", "post_logout_redirect_uri", target)
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidLogoutRedirect })
			return
		}
	}
	state := params.Get("state")

	_, sid, _, err := i.cookieSession(r)
	if err != nil {
		i.serverErrorPage(w, r, "logout: read session", err)
		return
	}
	if hint == nil || (sid != "" && hint.SessionID != sid) {
		i.logoutConfirmPage(w, r, logoutRequest{Target: target, State: state})
		return
	}
	// The hint names the browser's session, or the browser has none: end the hint's.
	if hint.SessionID != "" {
		if err := i.sessions.DeleteSSOSession(r.Context(), hint.SessionID); err != nil {
			i.serverErrorPage(w, r, "logout: end session", err)
			return
		}
		i.log.Info("browser sign-out", "sid", hint.SessionID, "confirmed", false)
	}
	i.signedOut(w, r, target, state)
}

// logoutConfirm takes the confirmation page's POST and ends the browser's own session.
func (i *Issuer) logoutConfirm(w http.ResponseWriter, r *http.Request) {
	if !i.readPageForm(w, r, "sign-out", func(t *texts) formTexts { return t.SignOutForm }) {
		return
	}
	var lr logoutRequest
	err := i.openToken(logoutPurpose, r.PostForm.Get("session_code"), &lr)
	switch {
	case err != nil:
	case browserHash(r) == "" || subtle.ConstantTimeCompare([]byte(browserHash(r)), []byte(lr.Browser)) != 1:
		err = errFormBrowser
	case i.now().Unix() >= lr.Expires:
		err = errFormExpired
	case lr.Target != "":
		// Checked when the page was made; again in case the configuration changed since.
		if _, ok := i.checkRedirect(lr.Target); !ok {
			err = errFormInvalid
		}
	}
	if err != nil {
		i.log.Info("logout form refused: "+err.Error(), "client_ip", i.clientIP(r))
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.SignOutFormInvalid })
		return
	}
	_, sid, _, err := i.cookieSession(r)
	if err != nil {
		i.serverErrorPage(w, r, "logout: read session", err)
		return
	}
	if sid != "" {
		if err := i.sessions.DeleteSSOSession(r.Context(), sid); err != nil {
			i.serverErrorPage(w, r, "logout: end session", err)
			return
		}
		i.log.Info("browser sign-out", "sid", sid, "confirmed", true)
	}
	i.signedOut(w, r, lr.Target, lr.State)
}

// logoutConfirmPage asks the user to confirm signing out, with lr sealed in the form for this
// browser (its cookie set when missing), valid for formTTL.
func (i *Issuer) logoutConfirmPage(w http.ResponseWriter, r *http.Request, lr logoutRequest) {
	browser := browserHash(r)
	if browser == "" {
		v := rand.Text()
		http.SetCookie(w, i.cookie(browserCookie, v, 0))
		browser = hashSecret(v)
	}
	lr.Browser, lr.Expires = browser, i.now().Add(formTTL).Unix()
	tok, err := i.sealToken(logoutPurpose, lr)
	if err != nil {
		i.serverErrorPage(w, r, "logout form: seal", err)
		return
	}
	// The form's POST is answered with a redirect to the target, which form-action covers too.
	formTarget := ""
	if u, err := url.Parse(lr.Target); err == nil && lr.Target != "" {
		formTarget = originOf(u)
	}
	t := textsFor(r)
	i.page(w, r, http.StatusOK, formTarget, pageData{Kind: "logout-confirm", Title: t.SignOutTitle,
		Action: i.issuer + logoutConfirmPath, Token: tok})
}

// signedOut clears the session cookie and redirects to the checked target with state, or
// shows that the user is signed out.
func (i *Issuer) signedOut(w http.ResponseWriter, r *http.Request, target, state string) {
	http.SetCookie(w, i.cookie(SessionCookie, "", -1))
	if target == "" {
		i.page(w, r, http.StatusOK, "", pageData{Kind: "signed-out", Title: textsFor(r).SignedOutTitle})
		return
	}
	if state != "" {
		u, _ := url.Parse(target)
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// parseIDTokenHint verifies an ID token of this issuer and client. Like Keycloak it accepts an
// expired one: a user whose ID token has expired must still be able to sign out.
func (i *Issuer) parseIDTokenHint(raw string) (*idClaims, error) {
	var c idClaims
	_, err := jwt.ParseWithClaims(raw, &c, i.publicKey,
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	if err != nil {
		return nil, err
	}
	if c.Issuer != i.issuer || c.Type != "ID" || c.Aud != i.clientID {
		return nil, errors.New("not an ID token of this client")
	}
	return &c, nil
}
