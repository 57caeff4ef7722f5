package keycloaktest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// route is one endpoint of the server. Path templates use Keycloak's OpenAPI names for their
// parameters ("/admin/realms/{realm}/users/{user-id}"), so that /admin routes can be looked up
// in keycloak-admin-openapi.json as they are.
type route struct {
	method string
	path   string // template; "{name}" matches one non-empty segment
	status int    // the status of success; the spec must list it for /admin routes
	handle func(w http.ResponseWriter, r *http.Request, p params)
}

// params are the values of a route's path parameters, by name.
type params map[string]string

// match reports whether path fits the template, and its parameters.
func (rt route) match(path string) (params, bool) {
	want := strings.Split(strings.TrimPrefix(rt.path, "/"), "/")
	got := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(want) != len(got) {
		return nil, false
	}
	p := params{}
	for i, w := range want {
		if name, ok := strings.CutPrefix(w, "{"); ok && strings.HasSuffix(name, "}") {
			if got[i] == "" {
				return nil, false
			}
			p[strings.TrimSuffix(name, "}")] = got[i]
			continue
		}
		if w != got[i] {
			return nil, false
		}
	}
	return p, true
}

// ServeHTTP dispatches through the route table. Like Keycloak, it answers an unknown realm
// with 404 {"error":"Realm does not exist"} and an unknown path with RESTEasy's 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pathMatched := false
	for _, rt := range s.routes {
		p, ok := rt.match(r.URL.Path)
		if !ok {
			continue
		}
		if realm, ok := p["realm"]; ok && realm != s.realm {
			writeError(w, http.StatusNotFound, errorBody{Error: "Realm does not exist"})
			return
		}
		pathMatched = true
		if rt.method == r.Method {
			rt.handle(w, r, p)
			return
		}
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
