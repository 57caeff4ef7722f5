package builtin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

// Sessions keeps what the browser sign-in must share between replicas: SSO sessions and
// authorization codes. *store.DB implements it on PostgreSQL and SQLite. Secrets reach it only
// as SHA-256 hashes; sessions and codes of a deleted account go with it.
type Sessions interface {
	// CreateSSOSession stores a new session of subject; an unknown subject is NotFound.
	CreateSSOSession(ctx context.Context, id, subject, secretHash, accountState string, authTime, idleExpiresAt, expiresAt time.Time) error
	// UseSSOSession returns the session if it is live at now and has secretHash (any when
	// secretHash is ""), and moves its idle expiry to idleExpiresAt (never beyond its maximum);
	// NotFound when it is unknown, ended, over or has another secret, which leaves it as it was.
	UseSSOSession(ctx context.Context, id, secretHash string, now, idleExpiresAt time.Time) (subject, accountState string, authTime time.Time, err error)
	// DeleteSSOSession ends a session and its codes; an unknown id is not an error.
	DeleteSSOSession(ctx context.Context, id string) error
	// PutAuthorizationCode stores a code's hash with its session and request until expiresAt.
	PutAuthorizationCode(ctx context.Context, hash, sessionID, request string, now, expiresAt time.Time) error
	// TakeAuthorizationCode redeems a code once: NotFound when unknown or expired, Conflict
	// (with its sessionID) when it was redeemed before.
	TakeAuthorizationCode(ctx context.Context, hash string, now time.Time) (sessionID, request string, err error)
}

const (
	// SessionCookie holds "<session id>.<secret>" of the browser's SSO session.
	SessionCookie = "PORTAL_SSO_SESSION"
	// browserCookie is a random value the login form's token is bound to, so that a form
	// fetched by another browser (login CSRF) is refused.
	browserCookie = "PORTAL_AUTH_BROWSER"
	// codeTTL is the lifetime of an authorization code (Keycloak's default is 60 s too).
	codeTTL = 60 * time.Second
	// formTTL is how long a login form can be submitted.
	formTTL = 15 * time.Minute

	authPath         = "/protocol/openid-connect/auth"
	authenticatePath = "/login-actions/authenticate"
)

// pkceValue is RFC 7636's alphabet and length of a code verifier; an S256 challenge is 43 of it.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authRequest is an authorization request that passed the checks that let the issuer redirect
// back to the client. It travels signed in the login form (short JSON names keep it small).
type authRequest struct {
	RedirectURI  string `json:"r"`
	ResponseMode string `json:"m"`
	State        string `json:"s,omitempty"`
	Nonce        string `json:"n,omitempty"`
	Scope        string `json:"sc"`
	Challenge    string `json:"c"`
	LoginHint    string `json:"h,omitempty"`
	// Expires and Browser (the hash of the browser cookie) are set only in the form's token.
	Expires int64  `json:"e,omitempty"`
	Browser string `json:"b,omitempty"`
}

// codeRequest is what an authorization code is bound to, stored with it.
type codeRequest struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
	Challenge   string `json:"code_challenge"`
	Nonce       string `json:"nonce,omitempty"`
	Scope       string `json:"scope"`
	Subject     string `json:"sub"`
}

// authorize is the authorization endpoint (authorization code flow with PKCE S256 only).
// Until client_id and redirect_uri are known good, every problem is an error page: redirecting
// to an unchecked URI would make the issuer an open redirector.
func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		i.errorPage(w, r, http.StatusMethodNotAllowed, func(t *texts) string { return t.OnlySignInRequests })
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
	for _, vs := range params {
		if len(vs) > 1 {
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.DuplicatedParameter })
			return
		}
	}
	if params.Get("client_id") != i.clientID {
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.ClientNotFound })
		return
	}
	if _, ok := i.checkRedirect(params.Get("redirect_uri")); !ok {
		i.log.Info("authorization refused: redirect_uri not registered", "redirect_uri", params.Get("redirect_uri"))
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidRedirectURI })
		return
	}
	ar := &authRequest{
		RedirectURI:  params.Get("redirect_uri"),
		ResponseMode: params.Get("response_mode"),
		State:        params.Get("state"),
		Nonce:        params.Get("nonce"),
		Scope:        grantedScope(params.Get("scope")),
		Challenge:    params.Get("code_challenge"),
		LoginHint:    params.Get("login_hint"),
	}
	switch ar.ResponseMode {
	case "":
		ar.ResponseMode = "query" // the default of response_type=code
	case "query", "fragment":
	default:
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidResponseMode })
		return
	}
	// From here on, errors go back to the client, which shows them to its user.
	fail := func(code, desc string) {
		i.redirectBack(w, r, ar, url.Values{"error": {code}, "error_description": {desc}})
	}
	prompt := strings.Fields(params.Get("prompt"))
	switch {
	case params.Get("response_type") == "":
		fail("invalid_request", "Missing parameter: response_type")
	case params.Get("response_type") != "code":
		fail("unsupported_response_type", "Client is not allowed to initiate browser login with given response_type.")
	case params.Has("request"):
		fail("request_not_supported", "Request objects are not supported")
	case params.Has("request_uri"):
		fail("request_uri_not_supported", "Request URIs are not supported")
	case ar.Challenge == "":
		fail("invalid_request", "Missing parameter: code_challenge")
	case params.Get("code_challenge_method") == "":
		fail("invalid_request", "Missing parameter: code_challenge_method")
	case params.Get("code_challenge_method") != "S256":
		fail("invalid_request", "Invalid parameter: code_challenge_method")
	case len(ar.Challenge) != 43 || !pkceValue.MatchString(ar.Challenge):
		fail("invalid_request", "Invalid parameter: code_challenge")
	case slices.Contains(prompt, "none") && len(prompt) > 1:
		fail("invalid_request", "Invalid parameter: prompt")
	case i.sessions == nil:
		fail("temporarily_unavailable", "Browser sign-in is not enabled")
	default:
		maxAge := -1
		if s := params.Get("max_age"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				fail("invalid_request", "Invalid parameter: max_age")
				return
			}
			maxAge = n
		}
		i.authorizeChecked(w, r, ar, slices.Contains(prompt, "none"), slices.Contains(prompt, "login"), maxAge)
	}
}

// authorizeChecked answers a valid authorization request: with a code at once when the browser
// has a live SSO session that may be used, else with the login form (or login_required when
// the client asked for no interaction).
func (i *Issuer) authorizeChecked(w http.ResponseWriter, r *http.Request, ar *authRequest, none, forceLogin bool, maxAge int) {
	a, sid, authTime, err := i.cookieSession(r)
	if err != nil {
		i.serverErrorPage(w, r, "authorize: read session", err)
		return
	}
	now := i.now()
	if a != nil && maxAge >= 0 && now.Sub(authTime) > time.Duration(maxAge)*time.Second {
		forceLogin = true
	}
	switch {
	case a != nil && !forceLogin:
		i.redirectWithCode(w, r, ar, a, sid)
	case none:
		i.redirectBack(w, r, ar, url.Values{"error": {"login_required"}})
	default:
		i.loginForm(w, r, ar, http.StatusOK, nil)
	}
}

// readPageForm checks that a POST comes from one of the issuer's own pages (the sign-in or
// sign-out form, named by what in the log; form picks its messages) and parses it; when not, it
// has answered with an error page.
func (i *Issuer) readPageForm(w http.ResponseWriter, r *http.Request, what string, form func(*texts) formTexts) bool {
	noStore(w)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		i.errorPage(w, r, http.StatusMethodNotAllowed, func(t *texts) string { return form(t).OnlyForm })
		return false
	}
	if i.sessions == nil {
		i.errorPage(w, r, http.StatusNotFound, func(t *texts) string { return t.BrowserSignInOff })
		return false
	}
	if !i.sameOrigin(r) {
		i.log.Info(what+" form refused: foreign origin", "origin", r.Header.Get("Origin"), "client_ip", i.clientIP(r))
		i.errorPage(w, r, http.StatusForbidden, func(t *texts) string { return form(t).Foreign })
		return false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidRequest })
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidRequest })
		return false
	}
	return true
}

// authenticate takes the login form's POST.
func (i *Issuer) authenticate(w http.ResponseWriter, r *http.Request) {
	if !i.readPageForm(w, r, "sign-in", func(t *texts) formTexts { return t.SignInForm }) {
		return
	}
	ar, err := i.openAuthToken(loginPurpose, r.PostForm.Get("auth_request"), browserHash(r))
	switch {
	case errors.Is(err, errFormExpired):
		ar.LoginHint = strings.TrimSpace(r.PostForm.Get("username"))
		i.loginForm(w, r, ar, http.StatusOK, func(t *texts) string { return t.SignInTimedOut })
		return
	case err != nil:
		i.log.Info("login form refused: "+err.Error(), "client_ip", i.clientIP(r))
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.SignInFormInvalid })
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	ar.LoginHint = username
	password := r.PostForm.Get("password")
	if username == "" || password == "" {
		i.loginForm(w, r, ar, http.StatusUnauthorized, msgBadCredentials)
		return
	}
	a, res := i.checkLogin(r, username, password)
	switch res.outcome {
	case loginBlocked:
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(res.retry.Seconds())), 10))
		i.loginForm(w, r, ar, http.StatusTooManyRequests, func(t *texts) string { return t.TooManyFailures })
		return
	case loginCancelled:
		i.errorPage(w, r, http.StatusServiceUnavailable, func(t *texts) string { return t.Cancelled })
		return
	case loginError:
		i.serverErrorPage(w, r, res.what, res.err)
		return
	case loginBadCredentials, loginDisabled:
		// A disabled account gets the same answer: the page is for anyone on the internet.
		i.loginForm(w, r, ar, http.StatusUnauthorized, msgBadCredentials)
		return
	}

	// A new sign-in replaces the browser's earlier session.
	if _, old, _, err := i.cookieSession(r); err == nil && old != "" {
		if err := i.sessions.DeleteSSOSession(r.Context(), old); err != nil {
			i.log.Warn("end replaced session", "err", err)
		}
	}
	now := i.now().Truncate(time.Second)
	sid, secret := uuid.NewString(), rand.Text()
	err = i.sessions.CreateSSOSession(r.Context(), sid, a.Subject, hashSecret(secret), accountState(a),
		now, now.Add(i.refreshTTL), now.Add(i.sMax))
	if err != nil {
		i.serverErrorPage(w, r, "login: create session", err)
		return
	}
	http.SetCookie(w, i.cookie(SessionCookie, sid+"."+secret, 0))
	i.log.Info("browser sign-in", "username", a.Username, "sid", sid, "client_ip", i.clientIP(r))
	i.redirectWithCode(w, r, ar, a, sid)
}

// msgBadCredentials is the one answer to a wrong username, a wrong password and a disabled
// account, in every language.
var msgBadCredentials msg = func(t *texts) string { return t.BadCredentials }

// sameOrigin reports whether a form POST comes from a page of this issuer's origin, by Origin
// or, when a browser sends none, by Referer. A request with neither is let through: the form
// token bound to the browser cookie still refuses forged forms.
func (i *Issuer) sameOrigin(r *http.Request) bool {
	own := i.origins[0]
	if o := r.Header.Get("Origin"); o != "" {
		return strings.EqualFold(o, own)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && originOf(u) == own
	}
	return true
}

// cookieSession returns the account and session of the browser's SSO session cookie, or a nil
// account when there is none that may be used. err is only for failures of the store.
func (i *Issuer) cookieSession(r *http.Request) (a *portal.Account, sid string, authTime time.Time, err error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, "", time.Time{}, nil
	}
	sid, secret, ok := strings.Cut(c.Value, ".")
	if !ok || secret == "" || uuid.Validate(sid) != nil {
		return nil, "", time.Time{}, nil
	}
	a, authTime, err = i.useSession(r.Context(), sid, secret, i.now())
	if portal.IsKind(err, portal.NotFound) {
		return nil, "", time.Time{}, nil
	}
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return a, sid, authTime, nil
}

// useSession returns the account of a live session (checking secret unless it is empty) and
// keeps the session from idling out. A session whose account is gone, disabled or changed in
// its roles since sign-in is ended: NotFound, as for one that never existed.
func (i *Issuer) useSession(ctx context.Context, sid, secret string, now time.Time) (*portal.Account, time.Time, error) {
	secretHash := ""
	if secret != "" {
		secretHash = hashSecret(secret)
	}
	// The store checks the secret in the statement that keeps the session alive: a request
	// with the session id alone (tokens and redirects carry it) must not extend it.
	subject, state, authTime, err := i.sessions.UseSSOSession(ctx, sid, secretHash, now, now.Add(i.refreshTTL))
	if err != nil {
		return nil, time.Time{}, err
	}
	a, err := i.accounts.GetAccountBySubject(ctx, subject)
	if err != nil && !portal.IsKind(err, portal.NotFound) {
		return nil, time.Time{}, err
	}
	if err != nil || !a.Enabled || accountState(a) != state {
		i.log.Info("session ended: account deleted, disabled or its roles changed", "sub", subject, "sid", sid)
		if err := i.sessions.DeleteSSOSession(ctx, sid); err != nil {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, portal.Errorf(portal.NotFound, "session not found")
	}
	return a, authTime, nil
}

// accountState is what a session remembers of its account: its roles and a fingerprint of its
// password hash. When either changes, the session ends, so that nobody keeps signing in
// silently with what an admin took away, or after the user reset a password they believe
// someone else learned.
func accountState(a *portal.Account) string {
	roles := make([]string, len(a.Roles))
	for n, r := range a.Roles {
		roles[n] = string(r)
	}
	slices.Sort(roles)
	return strings.Join(roles, ",") + ";" + hashSecret("password\x00" + a.PasswordHash)[:16]
}

// redirectWithCode issues an authorization code of session sid and sends the browser back.
func (i *Issuer) redirectWithCode(w http.ResponseWriter, r *http.Request, ar *authRequest, a *portal.Account, sid string) {
	code := rand.Text() + rand.Text() // 260 bits
	req, err := json.Marshal(codeRequest{ClientID: i.clientID, RedirectURI: ar.RedirectURI, Challenge: ar.Challenge,
		Nonce: ar.Nonce, Scope: ar.Scope, Subject: a.Subject})
	if err != nil {
		i.serverErrorPage(w, r, "authorize: encode code", err)
		return
	}
	now := i.now()
	if err := i.sessions.PutAuthorizationCode(r.Context(), hashSecret(code), sid, string(req), now, now.Add(codeTTL)); err != nil {
		i.serverErrorPage(w, r, "authorize: store code", err)
		return
	}
	i.redirectBack(w, r, ar, url.Values{"code": {code}, "session_state": {sid}})
}

// redirectBack sends the browser to the checked redirect URI with the response parameters, in
// the query or the fragment, with state and iss (RFC 9207) as Keycloak adds them.
func (i *Issuer) redirectBack(w http.ResponseWriter, r *http.Request, ar *authRequest, v url.Values) {
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	v.Set("iss", i.issuer)
	target := ar.RedirectURI
	if ar.ResponseMode == "fragment" {
		target += "#" + v.Encode()
	} else {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + v.Encode()
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", target)
	w.WriteHeader(status)
}

// cookie returns a cookie of the issuer: on its path only, HttpOnly, SameSite=Lax (sent on the
// top-level navigations of a sign-in, not on cross-site subrequests), Secure over https.
// maxAge < 0 deletes it; 0 makes it last for the browser session.
func (i *Issuer) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: i.cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: i.secureCookies, SameSite: http.SameSiteLaxMode}
}

// hashSecret is how codes and session secrets are stored.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browserHash is the hash of the browser cookie, or "" when the request has none.
func browserHash(r *http.Request) string {
	c, err := r.Cookie(browserCookie)
	if err != nil || len(c.Value) < 26 {
		return ""
	}
	return hashSecret(c.Value)
}

var (
	errFormExpired = errors.New("login form expired")
	errFormInvalid = errors.New("login form token missing or forged")
	errFormBrowser = errors.New("login form token of another browser")
)

// Purposes of the tokens sealed in the issuer's forms: a token made for one form does not
// open as another's.
const (
	loginPurpose  = "login-form"
	logoutPurpose = "logout-form"
	resetPurpose  = "reset-form"
)

// sealAuthToken signs ar for a form of purpose (the login or the password-reset form), valid
// for formTTL in the browser with this cookie hash.
func (i *Issuer) sealAuthToken(purpose string, ar authRequest, browser string, now time.Time) (string, error) {
	ar.Expires = now.Add(formTTL).Unix()
	ar.Browser = browser
	return i.sealToken(purpose, ar)
}

// sealToken signs v (JSON) for a form of purpose with the active key.
func (i *Issuer) sealToken(purpose string, v any) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + base64.RawURLEncoding.EncodeToString(formMAC(i.keys.active().form, purpose, payload)), nil
}

// openToken verifies a token of sealToken for purpose against every published key (a rotation
// must not break forms in flight) and decodes it into v. Expiry and browser binding are the
// caller's to check.
func (i *Issuer) openToken(purpose, tok string, v any) error {
	payload, sig, ok := strings.Cut(tok, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil {
		return errFormInvalid
	}
	authentic := false
	for _, k := range i.keys.keys {
		if hmac.Equal(mac, formMAC(k.form, purpose, payload)) {
			authentic = true
			break
		}
	}
	if !authentic {
		return errFormInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return errFormInvalid
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errFormInvalid
	}
	return nil
}

// openAuthToken verifies a token of sealAuthToken for purpose and the browser's cookie hash.
// An expired but authentic token of this browser is returned with errFormExpired, so that the
// sign-in can start over.
func (i *Issuer) openAuthToken(purpose, tok, browser string) (*authRequest, error) {
	var ar authRequest
	if err := i.openToken(purpose, tok, &ar); err != nil {
		return nil, err
	}
	if browser == "" || subtle.ConstantTimeCompare([]byte(browser), []byte(ar.Browser)) != 1 {
		return nil, errFormBrowser
	}
	// The redirect URI was checked when the form was made; check again in case the
	// configuration changed since.
	if _, ok := i.checkRedirect(ar.RedirectURI); !ok {
		return nil, errFormInvalid
	}
	if i.now().Unix() >= ar.Expires {
		return &ar, errFormExpired
	}
	return &ar, nil
}

func formMAC(key []byte, purpose, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
