package jiratest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/jira/sm"
	v3 "github.com/ctreminiom/go-atlassian/v2/jira/v3"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// fixture is a site with one service desk (key SD), two request types, an organization with
// two customers and a customer outside it, and go-atlassian clients logged in as the API user.
type fixture struct {
	srv                *jiratest.Server
	jsm                *sm.Client
	jira               *v3.Client
	ctx                context.Context
	deskID             int
	incidentType       int
	questionType       int
	acme               int
	ada, grace, nobody string // customers; ada and grace are in acme
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := jiratest.New(t)
	f := &fixture{srv: srv, ctx: context.Background()}
	f.deskID = srv.AddServiceDesk("SD", "Support")
	f.incidentType = srv.AddRequestType(f.deskID, "Report an incident", "Something is broken")
	f.questionType = srv.AddRequestType(f.deskID, "Ask a question", "")
	f.acme = srv.AddOrganization("Acme")
	f.ada = srv.AddCustomer("ada@acme.example", "Ada Lovelace")
	f.grace = srv.AddCustomer("grace@acme.example", "Grace Hopper")
	f.nobody = srv.AddCustomer("nobody@elsewhere.example", "Nobody")
	srv.AddToOrganization(f.acme, f.ada, f.grace)
	f.jsm, f.jira = clients(t, srv, &http.Client{Timeout: 10 * time.Second})
	return f
}

// clients are go-atlassian's JSM and platform clients for srv, with the API user's credentials.
func clients(t testing.TB, srv *jiratest.Server, hc *http.Client) (*sm.Client, *v3.Client) {
	t.Helper()
	email, token := srv.Credentials()
	jsm, err := sm.New(hc, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	jsm.Auth.SetBasicAuth(email, token)
	jira, err := v3.New(hc, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	jira.Auth.SetBasicAuth(email, token)
	return jsm, jira
}
