package jira_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/ticketing/jira"
)

// TestGetTicketOfAnotherDesk: a request of another service desk (an internal HR desk shared
// with the same organization, say) is not the portal's, whatever a webhook says.
func TestGetTicketOfAnotherDesk(t *testing.T) {
	f := newFixture(t, nil)
	hr := f.srv.AddServiceDesk("HR", "People")
	hrType := f.srv.AddRequestType(hr, "Payroll", "")
	email, token := f.srv.Credentials()
	other, err := jira.New(jira.Config{SiteURL: f.srv.URL(), Email: email, APIToken: token,
		ServiceDeskID: strconv.Itoa(hr), RequestTypes: map[string]string{"": strconv.Itoa(hrType)},
		HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := other.CreateTicket(f.ctx, portal.NewRemoteTicket{OrganizationID: strconv.Itoa(f.acme),
		RequestTypeID: strconv.Itoa(hrType), Summary: "Salary question", ReporterEmail: "ada@acme.example", ReporterName: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.GetTicket(f.ctx, secret.Key); !portal.IsKind(err, portal.NotFound) {
		t.Fatalf("the support desk's client read an HR request: %v", err)
	}
	own := f.create(t, "Printer")
	if _, err := f.c.GetTicket(f.ctx, own.Key); err != nil {
		t.Fatalf("own desk's request: %v", err)
	}
}
