package httpapi_test

import (
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

var exportHeader = []string{"key", "summary", "status", "statusCategory", "priority", "type",
	"project", "customer", "reporter", "createdAt", "updatedAt"}

// newServerOpts is newServer with the service's options (export page size and bound).
func newServerOpts(t testing.TB, db *store.DB, opts portal.Options) *apiServer {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := httpapi.New(httpapi.Config{Service: portal.NewService(db, opts), Verifier: principals,
		Logger: opts.Logger, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db}
}

// export fetches an export that must succeed and returns its data rows, checking the header
// row and the download headers.
func (s *apiServer) export(token, query string) [][]string {
	s.t.Helper()
	r := s.do(token, "GET", "/api/v1/tickets/export"+query, nil)
	if r.status != 200 {
		s.t.Fatalf("export%s as %s: %d: %s", query, token, r.status, r.body)
	}
	for h, want := range map[string]string{"Content-Type": "text/csv; charset=utf-8", "X-Content-Type-Options": "nosniff"} {
		if got := r.header.Get(h); got != want {
			s.t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if cd := r.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="tickets-\d{8}\.csv"$`).MatchString(cd) {
		s.t.Errorf("Content-Disposition = %q", cd)
	}
	records, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		s.t.Fatalf("export is not CSV: %v: %q", err, r.body)
	}
	if len(records) == 0 || !cmp.Equal(records[0], exportHeader) {
		s.t.Fatalf("header row %q, want %q", records, exportHeader)
	}
	return records[1:]
}

// listKeys pages through GET /api/v1/tickets with query's filters and returns the keys.
func (s *apiServer) listKeys(token, query string) []string {
	s.t.Helper()
	var keys []string
	cursor := ""
	for {
		sep := "?"
		if query != "" {
			sep = query + "&"
		}
		page := s.must(200, token, "GET", "/api/v1/tickets"+sep+"limit=200&cursor="+url.QueryEscape(cursor), nil)
		for _, it := range page["items"].([]any) {
			keys = append(keys, it.(map[string]any)["key"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return keys
		}
		cursor = next
	}
}

func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

// TestExportTicketsAuthorization: the export holds exactly the tickets the caller's list
// holds: customers and partners their own projects' tickets, staff all, other customers and
// callers without a role none; a foreign project filter answers 404 as the list does.
func TestExportTicketsAuthorization(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer", "customer2", "nobody"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		tt := s.entitle(w.own["project"], w.foreign["project"])
		ownKey := s.must(201, "customer", "POST", "/api/v1/projects/"+w.own["project"]+"/tickets", ticketBody(tt, "Own printer"))["key"].(string)
		foreignKey := s.must(201, "admin", "POST", "/api/v1/projects/"+w.foreign["project"]+"/tickets", ticketBody(tt, "Foreign printer"))["key"].(string)
		s.must(201, "support", "POST", "/api/v1/tickets/"+ownKey+"/comments", map[string]any{"body": "internal-only remark", "internal": true})
		both := []string{foreignKey, ownKey}
		rows := []struct {
			token, query string
			wantStatus   int
			wantKeys     []string
		}{
			{"admin", "", 200, both},
			{"support", "", 200, both},
			{"customer", "", 200, []string{ownKey}},
			{"partner", "", 200, []string{ownKey}},
			{"customer2", "", 200, nil},
			{"nobody", "", 200, nil},
			{"customer", "?project=" + w.own["project"], 200, []string{ownKey}},
			{"customer", "?project=" + w.foreign["project"], 404, nil},
			{"customer2", "?project=" + w.own["project"], 404, nil},
			{"support", "?project=" + w.foreign["project"], 200, []string{foreignKey}},
			{"", "", 401, nil},
		}
		for _, r := range rows {
			t.Run(fmt.Sprintf("%s%s", r.token, r.query), func(t *testing.T) {
				s := &apiServer{t: t, url: s.url, db: s.db}
				if r.wantStatus != 200 {
					checkProblem(t, s.do(r.token, "GET", "/api/v1/tickets/export"+r.query, nil), r.wantStatus)
					return
				}
				got := s.export(r.token, r.query)
				if diff := cmp.Diff(r.wantKeys, column(got, 0)); diff != "" && len(r.wantKeys)+len(got) > 0 {
					t.Errorf("keys (-want +got):\n%s", diff)
				}
				// The list agrees.
				if r.query == "" {
					if keys := s.listKeys(r.token, ""); !cmp.Equal(keys, column(got, 0)) && len(keys)+len(got) > 0 {
						t.Errorf("list %v, export %v", keys, column(got, 0))
					}
				}
				for _, row := range got {
					if strings.Contains(strings.Join(row, ","), "internal-only") || strings.Contains(strings.Join(row, ","), "It broke.") {
						t.Errorf("export leaks a comment or the description: %q", row)
					}
				}
			})
		}
	})
}

// TestExportTicketsContent: filters select what the list selects, in the list's order; cells
// are RFC 4180 quoted and formulas defused; more rows than one page are all there.
func TestExportTicketsContent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newServerOpts(t, db, portal.Options{ExportPageSize: 100, MaxExportRows: 300})
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		tt := s.entitle(w.own["project"])
		// Summaries a Jira mirror may hold (the portal's own validation refuses control
		// characters and trims): written into the rows directly, as the sync would.
		hostile := []string{`a, "quoted" value`, "two\nlines", "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "ünïcode ✓"}
		var keys []string
		for i := range 250 {
			body := ticketBody(tt, fmt.Sprintf("Ticket %03d", i))
			if i%3 == 0 {
				body["priority"] = "low"
			}
			token := "customer"
			if i%5 == 0 {
				token = "partner"
			}
			keys = append(keys, s.must(201, token, "POST", "/api/v1/projects/"+w.own["project"]+"/tickets", body)["key"].(string))
		}
		s.must(200, "support", "PUT", "/api/v1/tickets/"+keys[7]+"/status", map[string]any{"status": "in_progress"})
		for i, h := range hostile {
			sql := fmt.Sprintf("UPDATE tickets SET summary = '%s' WHERE key = '%s'", strings.ReplaceAll(h, "'", "''"), keys[i])
			if _, err := db.SQL().Exec(sql); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("all pages in order", func(t *testing.T) {
			s := &apiServer{t: t, url: s.url, db: s.db}
			got := s.export("customer", "")
			if len(got) != 250 {
				t.Fatalf("%d rows, want 250", len(got))
			}
			if list := s.listKeys("customer", ""); !cmp.Equal(list, column(got, 0)) {
				t.Errorf("export order differs from the list's")
			}
			seen := map[string]bool{}
			for _, k := range column(got, 0) {
				if seen[k] {
					t.Errorf("%s exported twice", k)
				}
				seen[k] = true
			}
		})
		t.Run("filters as the list", func(t *testing.T) {
			for _, q := range []string{"?priority=low", "?statusCategory=indeterminate", "?reporter=" + users["partner"],
				"?reporter=me", "?q=ticket%2001", "?sort=updated", "?typeId=" + tt, "?priority=high&sort=updated&q=ticket"} {
				t.Run(q, func(t *testing.T) {
					s := &apiServer{t: t, url: s.url, db: s.db}
					got, want := column(s.export("customer", q), 0), s.listKeys("customer", q)
					if len(want) == 0 || !cmp.Equal(got, want) {
						t.Errorf("export %d keys, list %d: %v / %v", len(got), len(want), got, want)
					}
				})
			}
			checkProblem(t, s.do("customer", "GET", "/api/v1/tickets/export?reporter=bob", nil), 400)
			checkProblem(t, s.do("customer", "GET", "/api/v1/tickets/export?priority=urgent", nil), 400)
		})
		t.Run("cells", func(t *testing.T) {
			s := &apiServer{t: t, url: s.url, db: s.db}
			got := s.export("customer", "?sort=created")
			bySummary := map[string][]string{}
			for _, r := range got {
				if len(r) != len(exportHeader) {
					t.Fatalf("row of %d cells: %q", len(r), r)
				}
				bySummary[r[1]] = r
			}
			for in, out := range map[string]string{
				`a, "quoted" value`: `a, "quoted" value`, "two\nlines": "two\nlines", `=HYPERLINK("http://x")`: `'=HYPERLINK("http://x")`,
				"+1": "'+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tTab": "'\tTab", "\rCR": "'CR", // encoding/csv drops a lone CR in CRLF mode "ünïcode ✓": "ünïcode ✓",
			} {
				if _, ok := bySummary[out]; !ok {
					t.Errorf("summary %q not exported as %q", in, out)
				}
			}
			for s := range bySummary {
				if c := s[0]; c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' {
					t.Errorf("cell %q starts a formula", s)
				}
			}
			r := bySummary["Ticket 101"]
			if r == nil {
				t.Fatal("Ticket 101 missing")
			}
			if r[2] != "open" || r[3] != "new" || r[4] != "high" || r[6] != w.own["project"] || r[7] != w.own["customer"] ||
				r[8] != "cus" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(r[9]) || r[10] < r[9] {
				t.Errorf("row %q", r)
			}
			raw := string(s.do("customer", "GET", "/api/v1/tickets/export", nil).body)
			if !strings.Contains(raw, `"a, ""quoted"" value"`) || !strings.HasPrefix(raw, strings.Join(exportHeader, ",")+"\r\n") {
				t.Errorf("not RFC 4180 quoted: %.300q", raw)
			}
		})
		t.Run("bound", func(t *testing.T) {
			s := newServerOpts(t, db, portal.Options{ExportPageSize: 100, MaxExportRows: 249})
			p := checkProblem(t, s.do("customer", "GET", "/api/v1/tickets/export", nil), 422)
			if reasons, _ := p["reasons"].([]any); len(reasons) != 1 || reasons[0] != portal.ReasonExportTooLarge {
				t.Errorf("problem %v", p)
			}
			if got := s.export("customer", "?priority=low"); len(got) != 84 {
				t.Errorf("narrowed export: %d rows, want 84", len(got))
			}
			s = newServerOpts(t, db, portal.Options{ExportPageSize: 100, MaxExportRows: 250})
			if got := s.export("customer", ""); len(got) != 250 {
				t.Errorf("export at the bound: %d rows", len(got))
			}
		})
	})
}
