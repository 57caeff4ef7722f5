package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestWebOriginsCORS: a page on a listed origin may call the API with a token; other origins
// get no CORS grant, so their scripts cannot read answers.
func TestWebOriginsCORS(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "page "+r.URL.Path) })
	h, err := httpapi.New(httpapi.Config{Service: portal.NewService(db, portal.Options{Logger: logger}), Verifier: principals,
		Logger: logger, UI: ui, WebOrigins: []string{"https://intranet.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	tests := []struct {
		name, method, path, origin, token string
		reqHeaders                        map[string]string
		wantStatus                        int
		wantAllowOrigin                   string
		wantBody                          string
	}{
		{name: "preflight from a listed origin", method: "OPTIONS", path: "/api/v1/customers", origin: "https://intranet.example.com",
			reqHeaders: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"},
			wantStatus: 204, wantAllowOrigin: "https://intranet.example.com"},
		{name: "preflight from another origin gets no grant", method: "OPTIONS", path: "/api/v1/customers", origin: "https://evil.example",
			reqHeaders: map[string]string{"Access-Control-Request-Method": "GET"}, wantStatus: 204, wantAllowOrigin: ""},
		{name: "request from a listed origin", method: "GET", path: "/api/v1/me", origin: "https://intranet.example.com", token: "admin",
			wantStatus: 200, wantAllowOrigin: "https://intranet.example.com"},
		{name: "request from another origin", method: "GET", path: "/api/v1/me", origin: "https://evil.example", token: "admin",
			wantStatus: 200, wantAllowOrigin: ""},
		{name: "portal page", method: "GET", path: "/", wantStatus: 200, wantBody: "page /"},
		{name: "widget bundle", method: "GET", path: "/ui/widgets.js", wantStatus: 200, wantBody: "page /ui/widgets.js"},
		{name: "client configuration", method: "GET", path: "/portal-config.json", wantStatus: 200, wantBody: "page /portal-config.json"},
		{name: "other paths stay problems", method: "GET", path: "/nothing-here", wantStatus: 404, wantBody: "urn:customer-portal:problem:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.reqHeaders {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.wantStatus, body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.wantAllowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.wantAllowOrigin)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q does not contain %q", body, tt.wantBody)
			}
		})
	}
}
