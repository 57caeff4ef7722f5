package keycloaktest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/contracttest"
)

// route is one endpoint of the server. Path templates use Keycloak's OpenAPI names for their
// parameters ("/admin/realms/{realm}/users/{user-id}"), so that /admin routes can be looked up
// in keycloak-admin-openapi.json as they are.
type route struct {
	method string
	path   string // template; "{name}" matches one non-empty segment
	status int    // the status of success; the spec must list it for /admin routes
	handle func(w http.ResponseWriter, r *http.Request, p params)
	// admin handles an /admin route instead of handle, with the authenticated caller.
	admin func(w http.ResponseWriter, r *http.Request, p params, c *caller)
}

// params are the values of a route's path parameters, by name.
type params map[string]string

// match reports whether path fits the template, and its parameters.
func (rt route) match(path string) (params, bool) {
	return contracttest.MatchTemplate(rt.path, path)
}

// ServeHTTP answers a request after the artificial latency (SetLatency). An /admin request is
// answered with SetUnavailable's status while one is set, else authenticated (401 without a
// valid access token) and dispatched with its caller; every /admin answer is checked against
// Keycloak's OpenAPI document. Other requests go straight to the route table.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
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
	if r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/") {
		s.contract.Serve(w, r, s.serveAdmin)
		return
	}
	s.dispatch(w, r, nil)
}

// dispatch routes a request through the table. Like Keycloak, it answers an unknown realm with
// 404 {"error":"Realm does not exist"} (admin requests: {"error":"Realm not found."}), a known
// path with another method with RESTEasy's 405, and an unknown path with RESTEasy's 404. An
// admin request comes with its caller, authenticated by serveAdmin.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, c *caller) {
	pathMatched := false
	for _, rt := range s.routes {
		p, ok := rt.match(r.URL.Path)
		if !ok {
			continue
		}
		if realm, ok := p["realm"]; ok && realm != s.realm {
			if c != nil {
				writeError(w, http.StatusNotFound, errorBody{Error: "Realm not found."})
				return
			}
			writeError(w, http.StatusNotFound, errorBody{Error: "Realm does not exist"})
			return
		}
		pathMatched = true
		if rt.method != r.Method {
			continue
		}
		if rt.admin != nil {
			rt.admin(w, r, p, c)
			return
		}
		rt.handle(w, r, p)
		return
	}
	if pathMatched {
		writeError(w, http.StatusMethodNotAllowed, errorBody{Error: "HTTP 405 Method Not Allowed"})
		return
	}
	writeError(w, http.StatusNotFound, errorBody{
		Error:       "Unable to find matching target resource method",
		Description: "For more on this error consult the server log.",
	})
}

// errorBody is every error Keycloak sends: OAuth errors use error and error_description, the
// admin API uses errorMessage (gocloak's HTTPErrorResponse reads all three).
type errorBody struct {
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
	Message     string `json:"errorMessage,omitempty"`
}

// statusText is the text Keycloak's error handler puts after "HTTP <code>".
func statusText(status int) string {
	return "HTTP " + strconv.Itoa(status) + " " + strings.TrimSpace(http.StatusText(status))
}

func writeError(w http.ResponseWriter, status int, body errorBody) {
	writeJSON(w, status, body)
}

// oauthError writes an OAuth 2.0 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorBody{Error: code, Description: description})
}

// writeJSON writes v with a JSON content type: resty, and so gocloak, decodes only JSON bodies.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
