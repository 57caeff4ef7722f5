package jiratest

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/contracttest"
)

// Path prefixes of the two APIs the server speaks.
const (
	jsmPrefix      = "/rest/servicedeskapi/"
	platformPrefix = "/rest/api/3/"
)

// route is one endpoint of the server. Path templates are those of the vendors' OpenAPI
// documents, parameter names included, so that routes can be looked up in them as they are.
type route struct {
	method string
	path   string // template; "{name}" matches one non-empty segment
	status int    // the status of success; the spec must list it
	handle func(c *call) reply
}

// params are the values of a route's path parameters, by name (unescaped).
type params map[string]string

// call is one authenticated request, as a handler sees it; handlers run with s.mu held.
type call struct {
	r    *http.Request
	p    params
	q    url.Values
	body []byte
	user *account
}

// reply is a handler's answer: a status and a value to send as JSON (nil for no body).
type reply struct {
	status int
	body   any
	header http.Header
}

// match reports whether path fits the template, and its parameters.
func (rt route) match(path string) (params, bool) {
	p, ok := contracttest.MatchTemplate(rt.path, path)
	if !ok {
		return nil, false
	}
	for name, v := range p {
		u, err := url.PathUnescape(v)
		if err != nil {
			return nil, false
		}
		p[name] = u
	}
	return p, true
}

// maxBody bounds what the server reads of a request body.
const maxBody = 10 << 20

// ServeHTTP answers a request. It reads the body, counts the call, waits SetLatency's delay,
// then applies the faults tests asked for (Reset, RateLimit, Fail, in that order), checks basic
// auth (401 unless the email and token are an agent's) and dispatches through the route table.
// Every answer is checked against the vendor's OpenAPI document.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	path := r.URL.EscapedPath()
	rt, p, pathKnown := s.find(r.Method, path)

	s.mu.Lock()
	s.calls++
	if rt != nil {
		s.callsTo[rt.method+" "+rt.path]++
	}
	latency := s.latency
	reset := s.resets > 0
	if reset {
		s.resets--
	}
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if reset {
		resetConnection(w)
		return
	}
	s.contract.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, path, rt, p, pathKnown, body)
	})
}

// serve answers a request whose latency and reset have been dealt with. The answer is worked
// out under the server's lock and written after it is released, so that a slow client holds up
// nobody else.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, path string, rt *route, p params, pathKnown bool, body []byte) {
	rep := s.answer(r, path, rt, p, pathKnown, body)
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	// Every body is JSON, with Jira's content type: go-atlassian decodes every 2xx body as JSON.
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body.([]byte))
}

// answer works a request's answer out, its body encoded; s.mu must not be held.
func (s *Server) answer(r *http.Request, path string, rt *route, p params, pathKnown bool, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep reply
	switch {
	case s.rateCount > 0:
		s.rateCount--
		secs := int(math.Ceil(s.retryAfter.Seconds()))
		rep = reply{status: http.StatusTooManyRequests, body: errorFor(path, "Rate limit exceeded."), header: http.Header{
			"Retry-After":           {strconv.Itoa(secs)},
			"X-Ratelimit-Limit":     {"100"},
			"X-Ratelimit-Remaining": {"0"},
		}}
	case s.failCount > 0:
		s.failCount--
		rep = reply{status: s.failStatus, body: errorFor(path, http.StatusText(s.failStatus))}
	default:
		user := s.authenticate(r)
		switch {
		case user == nil:
			rep = reply{
				status: http.StatusUnauthorized,
				body:   errorFor(path, "You are not authenticated. Authentication required to perform this operation."),
				header: http.Header{"X-Seraph-Loginreason": {"AUTHENTICATED_FAILED"}},
			}
		case rt == nil && pathKnown:
			rep = reply{status: http.StatusMethodNotAllowed, body: errorFor(path, "Method Not Allowed")}
		case rt == nil:
			rep = reply{status: http.StatusNotFound, body: errorFor(path, "null for uri: "+s.srv.URL+r.URL.RequestURI())}
		default:
			rep = rt.handle(&call{r: r, p: p, q: r.URL.Query(), body: body, user: user})
		}
	}
	if rep.body != nil {
		b, err := encodeJSON(rep.body)
		if err != nil {
			return reply{status: http.StatusInternalServerError, body: []byte(`{"errorMessage":"jiratest: cannot encode the answer"}`)}
		}
		rep.body = b
	}
	return rep
}

// find looks a request up in the route table: the route, its parameters, and whether some
// route has the path (with another method).
func (s *Server) find(method, path string) (*route, params, bool) {
	known := false
	for i := range s.routes {
		p, ok := s.routes[i].match(path)
		if !ok {
			continue
		}
		known = true
		if s.routes[i].method == method {
			return &s.routes[i], p, true
		}
	}
	return nil, nil, known
}

// authenticate returns the agent whose email and API token the request's basic auth carries.
func (s *Server) authenticate(r *http.Request) *account {
	email, token, ok := r.BasicAuth()
	if !ok || token == "" {
		return nil
	}
	u := s.userByEmail(email)
	if u == nil || u.Customer || u.Token != token {
		return nil
	}
	return u
}

// resetConnection drops the client's connection with a TCP reset instead of an answer.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("jiratest: the response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// jsmError is JSM's ErrorResponse.
type jsmError struct {
	ErrorMessage string `json:"errorMessage"`
}

// platformError is the platform API's ErrorCollection.
type platformError struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// errorFor is the error body of the API path belongs to.
func errorFor(path, message string) any {
	if strings.HasPrefix(path, jsmPrefix) {
		return jsmError{ErrorMessage: message}
	}
	return platformError{ErrorMessages: []string{message}, Errors: map[string]string{}}
}

func jsmFail(status int, message string) reply {
	return reply{status: status, body: jsmError{ErrorMessage: message}}
}

func platformFail(status int, messages ...string) reply {
	return reply{status: status, body: platformError{ErrorMessages: messages, Errors: map[string]string{}}}
}

// encodeJSON encodes an answer the way Jira's Jackson does: no HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeStrict decodes a JSON request body, refusing fields the target lacks, as Jira's
// Jackson configuration does.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
