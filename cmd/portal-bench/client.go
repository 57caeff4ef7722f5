package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// requestTimeout bounds every single HTTP exchange, so that a stuck server cannot hang a run.
const requestTimeout = 30 * time.Second

// parseBaseURL checks that s is an absolute http(s) URL and returns it without a trailing slash.
func parseBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// newHTTPClient returns a client whose transport keeps a warm keep-alive connection for each
// concurrent worker, so that the scenarios measure requests and not TCP handshakes.
func newHTTPClient(workers int) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          workers + 4,
		MaxIdleConnsPerHost:   workers + 4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// apiClient sends JSON requests to the portal's API.
type apiClient struct {
	base string // e.g. http://localhost:8080/api/v1
	http *http.Client
}

// response is one HTTP exchange's outcome; err is a transport error (no status then).
type response struct {
	status int
	body   []byte
	err    error
}

// ok reports a 2xx answer.
func (r response) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// describe renders a failed exchange for error messages.
func (r response) describe() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("HTTP %d: %s", r.status, truncate(strings.TrimSpace(string(r.body)), 300))
}

// do sends one request with the bearer token and reads the whole answer, so that the
// connection goes back to the pool.
func (c *apiClient) do(ctx context.Context, method, path, token string, body any) response {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return response{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.http.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{status: res.StatusCode, err: fmt.Errorf("read answer: %w", err)}
	}
	return response{status: res.StatusCode, body: b}
}

// call is do for setup steps: it returns an error unless the answer is 2xx and decodes it into
// out when out is not nil.
func (c *apiClient) call(ctx context.Context, ts *tokenSource, method, path string, body, out any) error {
	token, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	r := c.do(ctx, method, path, token, body)
	if !r.ok() {
		return fmt.Errorf("%s %s as %s: %s", method, path, ts.username, r.describe())
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// tokenSource gets access tokens with the OAuth password grant and gets a new one when the
// current one nears its expiry (expires_in), so runs may outlast a token's lifetime. It is safe
// for concurrent use; callers wait while one of them renews the token.
type tokenSource struct {
	http                                 *http.Client
	tokenURL, clientID, username, passwd string
	now                                  func() time.Time

	mu       sync.Mutex
	token    string
	renewAt  time.Time
	renewals int
}

func newTokenSource(hc *http.Client, tokenURL, clientID, username, password string) *tokenSource {
	return &tokenSource{http: hc, tokenURL: tokenURL, clientID: clientID, username: username, passwd: password, now: time.Now}
}

// renewMargin is how long before expiry a token is replaced: a fifth of its lifetime, at most
// a minute (so 60 s before the end of Keycloak's default 5-minute token).
func renewMargin(lifetime time.Duration) time.Duration {
	return min(lifetime/5, time.Minute)
}

// Token returns a token valid for a while yet.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.now()
	if ts.token != "" && now.Before(ts.renewAt) {
		return ts.token, nil
	}
	token, lifetime, err := ts.fetch(ctx)
	if err != nil {
		return "", err
	}
	if ts.token != "" {
		ts.renewals++
	}
	ts.token = token
	ts.renewAt = now.Add(lifetime - renewMargin(lifetime))
	return token, nil
}

// Renewals is how often a token was replaced before it expired.
func (ts *tokenSource) Renewals() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.renewals
}

// fetch runs the password grant.
func (ts *tokenSource) fetch(ctx context.Context) (token string, lifetime time.Duration, err error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {ts.clientID}, "username": {ts.username}, "password": {ts.passwd}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := ts.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("password grant for %s: %w", ts.username, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("password grant for %s: %w", ts.username, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("password grant for %s at %s: HTTP %d: %s", ts.username, ts.tokenURL, res.StatusCode, truncate(strings.TrimSpace(string(b)), 300))
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return "", 0, fmt.Errorf("password grant for %s: decode answer: %w", ts.username, err)
	}
	if body.AccessToken == "" {
		return "", 0, fmt.Errorf("password grant for %s: answer has no access_token", ts.username)
	}
	lifetime = time.Duration(body.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = time.Minute // no expires_in: assume a short-lived token
	}
	return body.AccessToken, lifetime, nil
}

// me is the part of GET /api/v1/me the benchmark checks.
type me struct {
	Username    string   `json:"username"`
	Roles       []string `json:"roles"`
	Permissions struct {
		ReadAllCustomers  bool `json:"readAllCustomers"`
		ManageCustomers   bool `json:"manageCustomers"`
		ManageProjects    bool `json:"manageProjects"`
		ManageAssignments bool `json:"manageAssignments"`
	} `json:"permissions"`
}

// signIn gets both users' tokens and calls GET /me with each: the portal learns the user
// (assignments by username need a user it has seen), and the roles are checked up front so a
// wrong account fails in a second, not after seeding.
func signIn(ctx context.Context, api *apiClient, admin, user *tokenSource) (username string, err error) {
	var a, u me
	if err := api.call(ctx, admin, http.MethodGet, "/me", nil, &a); err != nil {
		return "", err
	}
	if !a.Permissions.ManageCustomers || !a.Permissions.ManageProjects || !a.Permissions.ManageAssignments {
		return "", fmt.Errorf("-admin-user %s (roles %v) may not create customers, projects and assignments; it needs cp-admin", a.Username, a.Roles)
	}
	if err := api.call(ctx, user, http.MethodGet, "/me", nil, &u); err != nil {
		return "", err
	}
	if u.Permissions.ReadAllCustomers {
		return "", fmt.Errorf("-user %s (roles %v) reads everything, so its project list is not the scoped one; use a cp-customer user", u.Username, u.Roles)
	}
	if u.Username == "" {
		return "", errors.New("GET /me for -user answered without a username")
	}
	return u.Username, nil
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
