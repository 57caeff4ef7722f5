package jiratest

import "slices"

// Status categories, as Jira numbers and names them; JSM's currentStatus.statusCategory uses
// the upper-case names.
const (
	categoryNew           = "NEW"
	categoryIndeterminate = "INDETERMINATE"
	categoryDone          = "DONE"
)

// status is a status of the service-request workflow every request type of the server uses.
type status struct {
	id         string
	name       string
	category   string
	resolution string // set when the issue enters the status; "" keeps it unresolved
}

// Status names of the workflow, those of JSM's "Service request" workflow. UpdateIssue accepts
// exactly these.
const (
	StatusWaitingForSupport  = "Waiting for support"
	StatusWaitingForCustomer = "Waiting for customer"
	StatusInProgress         = "In Progress"
	StatusResolved           = "Resolved"
	StatusCanceled           = "Canceled"
	StatusClosed             = "Closed"
)

const initialStatus = StatusWaitingForSupport

var statuses = []status{
	{id: "10001", name: StatusWaitingForSupport, category: categoryNew},
	{id: "10002", name: StatusWaitingForCustomer, category: categoryIndeterminate},
	{id: "3", name: StatusInProgress, category: categoryIndeterminate},
	{id: "10003", name: StatusResolved, category: categoryDone, resolution: "Done"},
	{id: "10004", name: StatusCanceled, category: categoryDone, resolution: "Won't Do"},
	{id: "6", name: StatusClosed, category: categoryDone, resolution: "Done"},
}

func statusByName(name string) *status {
	for i := range statuses {
		if statuses[i].name == name {
			return &statuses[i]
		}
	}
	return nil
}

func statusNames() []string {
	out := make([]string, len(statuses))
	for i, st := range statuses {
		out[i] = st.name
	}
	return out
}

// transition is a customer transition: what the portal offers a customer in a status.
type transition struct {
	id   string
	name string
	from []string
	to   string
}

// Customer transition ids, as GET /request/{key}/transition lists them.
const (
	TransitionResolve = "801"
	TransitionCancel  = "901"
	TransitionRespond = "851"
	TransitionReopen  = "701"
)

var transitions = []transition{
	{id: TransitionRespond, name: "Respond to support", from: []string{StatusWaitingForCustomer}, to: StatusWaitingForSupport},
	{id: TransitionResolve, name: "Resolve this issue", from: []string{StatusWaitingForSupport, StatusWaitingForCustomer, StatusInProgress}, to: StatusResolved},
	{id: TransitionCancel, name: "Cancel request", from: []string{StatusWaitingForSupport, StatusWaitingForCustomer, StatusInProgress}, to: StatusCanceled},
	{id: TransitionReopen, name: "Reopen", from: []string{StatusResolved}, to: StatusWaitingForSupport},
}

// transitionsFrom are the customer transitions available in a status.
func transitionsFrom(statusName string) []transition {
	var out []transition
	for _, t := range transitions {
		if slices.Contains(t.from, statusName) {
			out = append(out, t)
		}
	}
	return out
}

// categoryInfo is Jira's platform representation of a status category.
func categoryInfo(category string) (id int, key, name, color string) {
	switch category {
	case categoryDone:
		return 3, "done", "Done", "green"
	case categoryIndeterminate:
		return 4, "indeterminate", "In Progress", "yellow"
	default:
		return 2, "new", "To Do", "blue-gray"
	}
}

// resolutionID is the id of a resolution name.
func resolutionID(name string) string {
	if name == "Won't Do" {
		return "10001"
	}
	return "10000"
}
