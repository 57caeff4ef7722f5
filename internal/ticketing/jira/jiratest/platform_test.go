package jiratest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// search runs a JQL search to its end the way the portal must: looping while NextPageToken is
// set (go-atlassian has no isLast). It returns the issues in order and the number of pages.
func (f *fixture) search(t *testing.T, jql string, fields []string, maxResults int) ([]*models.IssueScheme, int) {
	t.Helper()
	var out []*models.IssueScheme
	token := ""
	for pages := 1; ; pages++ {
		page, res, err := f.jira.Issue.Search.SearchJQL(f.ctx, jql, fields, nil, maxResults, token)
		if err != nil {
			t.Fatalf("SearchJQL(%q): %v: %s", jql, err, body(res))
		}
		out = append(out, page.Issues...)
		if page.NextPageToken == "" {
			var raw struct {
				IsLast *bool `json:"isLast"`
			}
			if err := json.Unmarshal(res.Bytes.Bytes(), &raw); err != nil || raw.IsLast == nil || !*raw.IsLast {
				t.Fatalf("last page without isLast: true: %s", res.Bytes.String())
			}
			return out, pages
		}
		if pages > 10000 {
			t.Fatal("search does not end")
		}
		token = page.NextPageToken
	}
}

func TestSearchJQLPagingClamped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetSearchLimit(40)
	keys := f.srv.SeedIssues(230)

	// maxResults 100 is clamped to 40: 6 pages. Fields default to the id alone.
	issues, pages := f.search(t, `project = SD ORDER BY updated ASC`, nil, 100)
	if pages != 6 || len(issues) != 230 {
		t.Fatalf("%d issues in %d pages, want 230 in 6", len(issues), pages)
	}
	if issues[0].Key != "" || issues[0].Fields != nil || issues[0].ID == "" {
		t.Errorf("default fields: issue = %+v, want the id alone", issues[0])
	}

	issues, _ = f.search(t, `project = SD ORDER BY updated ASC`, []string{"summary", "updated", "created", "status"}, 0)
	seen := map[string]int{}
	var last time.Time
	for i, is := range issues {
		seen[is.Key]++
		updated := time.Time(*is.Fields.Updated)
		if updated.Before(last) {
			t.Fatalf("issue %d (%s) updated %v before its predecessor's %v", i, is.Key, updated, last)
		}
		last = updated
		if is.Fields.Status == nil || is.Fields.Status.Name != jiratest.StatusWaitingForSupport {
			t.Errorf("%s status = %+v", is.Key, is.Fields.Status)
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("%s seen %d times", k, seen[k])
		}
	}
}

// TestSearchJQLSync plays the portal's incremental sync: everything updated since the last
// run, oldest first, then only what agents changed in Jira since.
func TestSearchJQLSync(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { return clock })
	keys := f.srv.SeedIssues(5) // updated 08:59:56 … 09:00:00
	clock = clock.Add(time.Hour)
	f.srv.UpdateIssue(keys[1], func(is *jiratest.Issue) {
		is.Status = jiratest.StatusInProgress
		is.Comments = append(is.Comments, jiratest.Comment{Body: "Looking into it", Public: true})
	})
	clock = clock.Add(time.Minute)
	f.srv.UpdateIssue(keys[3], func(is *jiratest.Issue) { is.Status = jiratest.StatusResolved })

	fields := []string{"summary", "status", "updated", "resolutiondate", "comment"}
	issues, _ := f.search(t, `project = SD AND updated >= "2025/06/01 10:00" ORDER BY updated ASC`, fields, 50)
	var got []string
	for _, is := range issues {
		got = append(got, is.Key+" "+is.Fields.Status.Name)
	}
	if diff := cmp.Diff([]string{keys[1] + " In Progress", keys[3] + " Resolved"}, got); diff != "" {
		t.Fatalf("changed since 10:00 (-want +got):\n%s", diff)
	}
	if is := issues[0]; is.Fields.Resolutiondate != nil || is.Fields.Comment == nil || len(is.Fields.Comment.Comments) != 1 {
		t.Errorf("%s: resolution date %v, comments %+v", is.Key, is.Fields.Resolutiondate, is.Fields.Comment)
	}
	if is := issues[1]; is.Fields.Resolutiondate == nil || !time.Time(*is.Fields.Resolutiondate).Equal(clock) {
		t.Errorf("%s resolved %v, want %v", is.Key, is.Fields.Resolutiondate, clock)
	}

	issues, _ = f.search(t, `project = "SD" AND updated > "2025-06-01 10:00" ORDER BY updated DESC`, fields, 50)
	if len(issues) != 1 || issues[0].Key != keys[3] {
		t.Errorf("updated after 10:00: %d issues", len(issues))
	}
	issues, _ = f.search(t, `project = SD AND updated >= "2025/06/01" ORDER BY updated DESC`, fields, 50)
	if len(issues) != 5 || issues[0].Key != keys[3] || issues[4].Key != keys[0] {
		t.Errorf("updated since the day began, newest first: %d issues", len(issues))
	}
}

func TestSearchJQLErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SeedIssues(3)
	for _, jql := range []string{
		`ORDER BY updated ASC`,                        // unbounded
		`project = XX ORDER BY updated ASC`,           // unknown project
		`project = SD OR project = HR`,                // OR
		`assignee = currentUser()`,                    // other fields
		`project = SD AND updated >= "-5d"`,           // relative dates
		`project = SD AND updated >= "2025/13/01"`,    // invalid date
		`project = SD ORDER BY updated`,               // no direction
		`project = SD AND updated >= "2025/01/01`,     // unterminated string
		`project = SD ORDER BY priority ASC`,          // other order
		`project = SD AND updated >= "2025/01/01" OR`, // trailing OR
	} {
		_, res, err := f.jira.Issue.Search.SearchJQL(f.ctx, jql, nil, nil, 0, "")
		if !errors.Is(err, models.ErrBadRequest) {
			t.Errorf("%s: error %v, want ErrBadRequest", jql, err)
			continue
		}
		var e struct {
			ErrorMessages []string          `json:"errorMessages"`
			Errors        map[string]string `json:"errors"`
		}
		if err := json.Unmarshal(res.Bytes.Bytes(), &e); err != nil || len(e.ErrorMessages) != 1 || e.Errors == nil {
			t.Errorf("%s: body %s, want Jira's {\"errorMessages\":[…],\"errors\":{}}", jql, res.Bytes.String())
		}
	}
	// A token belongs to its query.
	page, _, err := f.jira.Issue.Search.SearchJQL(f.ctx, "project = SD ORDER BY updated ASC", nil, nil, 1, "")
	if err != nil || page.NextPageToken == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if _, _, err := f.jira.Issue.Search.SearchJQL(f.ctx, "project = SD ORDER BY updated DESC", nil, nil, 1, page.NextPageToken); !errors.Is(err, models.ErrBadRequest) {
		t.Errorf("token of another query: error %v, want ErrBadRequest", err)
	}
}

func TestGetIssueAndComments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetTimeZone(time.FixedZone("ICT", 7*3600))
	clock := time.Date(2015, 10, 8, 7, 42, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { return clock })
	req := f.raise(t, f.ada, "Screen flickers", f.acme)
	if req.CreatedDate.Jira != "2015-10-08T14:42:00.000+0700" {
		t.Errorf("DateDTO in the user's zone: %+v", req.CreatedDate)
	}
	f.srv.UpdateIssue(req.IssueKey, func(is *jiratest.Issue) {
		is.Comments = append(is.Comments,
			jiratest.Comment{Body: "First line\nsecond line", Public: true},
			jiratest.Comment{Body: "Internal note", Public: false})
	})

	is, res, err := f.jira.Issue.Get(f.ctx, req.IssueKey, nil, nil)
	if err != nil {
		t.Fatalf("Issue.Get: %v: %s", err, body(res))
	}
	if !strings.Contains(res.Bytes.String(), `"created":"2015-10-08T14:42:00.000+0700"`) {
		t.Errorf("created not in Jira's form: %s", res.Bytes.String())
	}
	if got := time.Time(*is.Fields.Created); !got.Equal(clock) {
		t.Errorf("created %v, want %v", got, clock)
	}
	if is.Fields.Summary != "Screen flickers" || is.Fields.Project.Key != "SD" || is.Fields.Reporter.AccountID != f.ada {
		t.Errorf("fields = %+v", is.Fields)
	}
	if d := is.Fields.Description; d == nil || d.Type != "doc" || d.Content[0].Type != "paragraph" || d.Content[0].Content[0].Text != "Details of Screen flickers" {
		t.Errorf("description = %+v, want ADF", d)
	}
	var raw struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(res.Bytes.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	var orgs []struct{ ID, Name string }
	if err := json.Unmarshal(raw.Fields[jiratest.OrganizationsField], &orgs); err != nil || len(orgs) != 1 || orgs[0].Name != "Acme" {
		t.Errorf("organizations field = %s", raw.Fields[jiratest.OrganizationsField])
	}

	only, res, err := f.jira.Issue.Get(f.ctx, req.IssueID, []string{"summary"}, nil)
	if err != nil || only.Key != req.IssueKey || only.Fields.Summary != "Screen flickers" || only.Fields.Status != nil {
		t.Errorf("Issue.Get(fields=summary) = %+v, %v: %s", only, err, body(res))
	}
	if _, _, err := f.jira.Issue.Get(f.ctx, "SD-404", nil, nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown issue: error %v, want ErrNotFound", err)
	}

	comments, res, err := f.jira.Issue.Comment.Gets(f.ctx, req.IssueKey, "", nil, 0, 1)
	if err != nil {
		t.Fatalf("Comment.Gets: %v: %s", err, body(res))
	}
	if comments.Total != 2 || len(comments.Comments) != 1 {
		t.Fatalf("comments page = %+v", comments)
	}
	c := comments.Comments[0]
	if !c.JSDPublic || c.Body == nil || c.Body.Type != "doc" || c.Created != "2015-10-08T14:42:00.000+0700" {
		t.Errorf("comment = %+v", c)
	}
	if p := c.Body.Content[0].Content; len(p) != 3 || p[0].Text != "First line" || p[1].Type != "hardBreak" || p[2].Text != "second line" {
		t.Errorf("comment body = %+v", c.Body.Content[0])
	}
	rest, _, err := f.jira.Issue.Comment.Gets(f.ctx, req.IssueKey, "-created", nil, 0, 100)
	if err != nil || len(rest.Comments) != 2 || rest.Comments[0].JSDPublic {
		t.Errorf("newest first = %+v, %v", rest, err)
	}
}

func TestMyself(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	me, res, err := f.jira.MySelf.Details(f.ctx, nil)
	if err != nil {
		t.Fatalf("MySelf.Details: %v: %s", err, body(res))
	}
	email, _ := f.srv.Credentials()
	if me.AccountID != f.srv.AgentAccountID() || me.EmailAddress != email || me.AccountType != "atlassian" || !me.Active {
		t.Errorf("myself = %+v", me)
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := f.raise(t, f.ada, "Password reset", f.acme)
	var created struct {
		Timestamp    int64  `json:"timestamp"`
		WebhookEvent string `json:"webhookEvent"`
		Issue        struct {
			ID     string `json:"id"`
			Key    string `json:"key"`
			Fields struct {
				Summary     string `json:"summary"`
				Description string `json:"description"`
				Updated     string `json:"updated"`
				Status      struct {
					Name string `json:"name"`
				} `json:"status"`
			} `json:"fields"`
		} `json:"issue"`
		Changelog struct {
			Items []struct {
				Field, FromString, ToString string
			} `json:"items"`
		} `json:"changelog"`
		Comment struct {
			Body   string `json:"body"`
			Author struct {
				AccountID string `json:"accountId"`
			} `json:"author"`
		} `json:"comment"`
	}
	if err := json.Unmarshal(f.srv.Webhook(jiratest.EventIssueCreated, req.IssueKey), &created); err != nil {
		t.Fatal(err)
	}
	if created.WebhookEvent != "jira:issue_created" || created.Timestamp == 0 || created.Issue.Key != req.IssueKey ||
		created.Issue.Fields.Summary != "Password reset" || created.Issue.Fields.Description != "Details of Password reset" {
		t.Errorf("issue_created = %+v", created)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", created.Issue.Fields.Updated); err != nil {
		t.Errorf("updated: %v", err)
	}

	f.srv.UpdateIssue(req.IssueKey, func(is *jiratest.Issue) { is.Status = jiratest.StatusWaitingForCustomer })
	var updated = created
	if err := json.Unmarshal(f.srv.Webhook(jiratest.EventIssueUpdated, req.IssueKey), &updated); err != nil {
		t.Fatal(err)
	}
	if updated.WebhookEvent != "jira:issue_updated" || updated.Issue.Fields.Status.Name != jiratest.StatusWaitingForCustomer ||
		len(updated.Changelog.Items) != 1 || updated.Changelog.Items[0].ToString != jiratest.StatusWaitingForCustomer {
		t.Errorf("issue_updated = %+v", updated)
	}

	if _, _, err := f.jsm.Request.Comment.Create(f.ctx, req.IssueKey, "Try again now", true); err != nil {
		t.Fatal(err)
	}
	var commented = created
	if err := json.Unmarshal(f.srv.Webhook(jiratest.EventCommentCreated, req.IssueKey), &commented); err != nil {
		t.Fatal(err)
	}
	if commented.WebhookEvent != "comment_created" || commented.Comment.Body != "Try again now" || commented.Comment.Author.AccountID != f.srv.AgentAccountID() {
		t.Errorf("comment_created = %+v", commented)
	}
}

// BenchmarkSearchJQLSync measures a full sync of 10⁴ issues through go-atlassian: token paging
// at the default clamp of 100, with the fields a sync reads.
func BenchmarkSearchJQLSync(b *testing.B) {
	srv := jiratest.New(b)
	desk := srv.AddServiceDesk("SD", "Support")
	srv.AddRequestType(desk, "Report an incident", "")
	start := time.Now()
	srv.SeedIssues(10_000)
	b.Logf("seeded 10⁴ issues in %v", time.Since(start))
	_, jira := clients(b, srv, &http.Client{Timeout: time.Minute})
	ctx := context.Background()
	fields := []string{"summary", "status", "updated", "created", "resolutiondate"}
	b.ResetTimer()
	for b.Loop() {
		n, token := 0, ""
		for {
			page, res, err := jira.Issue.Search.SearchJQL(ctx, `project = SD AND updated >= "2000/01/01" ORDER BY updated ASC`, fields, nil, 100, token)
			if err != nil {
				b.Fatalf("SearchJQL: %v: %s", err, body(res))
			}
			n += len(page.Issues)
			if page.NextPageToken == "" {
				break
			}
			token = page.NextPageToken
		}
		if n != 10_000 {
			b.Fatalf("synced %d issues", n)
		}
	}
}
