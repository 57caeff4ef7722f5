package jiratest_test

import (
	"strconv"
	"testing"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

func TestRequestPriority(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	blocker := f.srv.AddPriority("Blocker")
	create := func(priority any) (*models.CustomerRequestScheme, *models.ResponseScheme, error) {
		fields := map[string]any{"summary": "Prioritised"}
		if priority != nil {
			fields["priority"] = priority
		}
		return f.jsm.Request.Create(f.ctx, &models.CreateCustomerRequestPayloadScheme{
			ServiceDeskID: strconv.Itoa(f.deskID), RequestTypeID: strconv.Itoa(f.incidentType),
			RaiseOnBehalfOf: f.ada, RequestFieldValues: fields,
		})
	}

	// Raised with a priority: stored, and JSM's request view carries the field.
	req, res, err := create(map[string]string{"id": blocker})
	if err != nil {
		t.Fatalf("Request.Create: %v: %s", err, body(res))
	}
	if is, _ := f.srv.Issue(req.IssueKey); is.Priority != blocker {
		t.Errorf("stored priority %q, want %q", is.Priority, blocker)
	}
	var got map[string]any
	for _, v := range req.RequestFieldValues {
		if v.FieldID == "priority" {
			got, _ = v.Value.(map[string]any)
		}
	}
	if got["id"] != blocker || got["name"] != "Blocker" {
		t.Errorf("request view priority = %v, want Blocker (%s)", got, blocker)
	}
	// By name too.
	req, res, err = create(map[string]string{"name": "high"})
	if err != nil {
		t.Fatalf("Request.Create by name: %v: %s", err, body(res))
	}
	if is, _ := f.srv.Issue(req.IssueKey); is.Priority != jiratest.PriorityHigh {
		t.Errorf("stored priority %q, want High", is.Priority)
	}

	// Without one: Jira's default, and no priority field in the request view.
	req, res, err = create(nil)
	if err != nil {
		t.Fatalf("Request.Create: %v: %s", err, body(res))
	}
	if is, _ := f.srv.Issue(req.IssueKey); is.Priority != jiratest.DefaultPriorityID {
		t.Errorf("stored priority %q, want the default", is.Priority)
	}
	for _, v := range req.RequestFieldValues {
		if v.FieldID == "priority" {
			t.Errorf("request view carries priority %v, raised without one", v.Value)
		}
	}

	// Unknown or malformed priorities are refused.
	for _, bad := range []any{map[string]string{"id": "99"}, map[string]string{"name": "Urgent"}, "1", map[string]string{}} {
		if _, res, err := create(bad); err == nil || res == nil || res.Code != 400 {
			t.Errorf("priority %v: %v (%s), want 400", bad, err, body(res))
		}
	}
}
