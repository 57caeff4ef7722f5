package jiratest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Webhook events Webhook can build.
const (
	EventIssueCreated   = "jira:issue_created"
	EventIssueUpdated   = "jira:issue_updated"
	EventCommentCreated = "comment_created"
)

// Webhook returns the JSON body Jira Cloud would POST to a webhook for event on the issue with
// issueKey: {"timestamp","webhookEvent","issue_event_type_name"?,"user"?,"issue":{"id","self",
// "key","fields"},"comment"?}. As in Jira, the issue is in the REST API v2 representation
// (description and comment bodies are plain text, not ADF) with every field; comment_created
// carries the issue's latest comment. It panics on an unknown event or issue, or on
// comment_created for an issue without comments.
func (s *Server) Webhook(event, issueKey string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issue(issueKey)
	if is == nil {
		panic(fmt.Sprintf("jiratest: Webhook: no issue %q", issueKey))
	}
	all := selectFields([]string{"*all"}, nil)
	issue := s.issueBean(is, all, false)
	delete(issue, "expand")
	payload := map[string]any{
		"timestamp":    s.clock().UnixMilli(),
		"webhookEvent": event,
		"issue":        issue,
	}
	switch event {
	case EventIssueCreated:
		payload["issue_event_type_name"] = "issue_created"
		payload["user"] = s.platformUser(s.users[is.Reporter])
	case EventIssueUpdated:
		payload["issue_event_type_name"] = "issue_generic"
		payload["user"] = s.platformUser(s.users[s.agent])
		payload["changelog"] = map[string]any{"id": strconv.Itoa(s.newID()), "items": s.statusChangelog(is)}
	case EventCommentCreated:
		if len(is.Comments) == 0 {
			panic(fmt.Sprintf("jiratest: Webhook: issue %q has no comment", issueKey))
		}
		payload["comment"] = s.platformComment(is, is.Comments[len(is.Comments)-1], false, false)
	default:
		panic(fmt.Sprintf("jiratest: Webhook: unknown event %q", event))
	}
	b, err := json.Marshal(payload)
	if err != nil {
		panic("jiratest: Webhook: " + err.Error())
	}
	return b
}

// statusChangelog is the changelog item of the issue's last status change, if it has had one.
func (s *Server) statusChangelog(is *Issue) []any {
	if len(is.history) < 2 {
		return []any{}
	}
	from, to := statusByName(is.history[len(is.history)-2].status), statusByName(is.history[len(is.history)-1].status)
	return []any{map[string]any{
		"field": "status", "fieldtype": "jira", "fieldId": "status",
		"from": from.id, "fromString": from.name, "to": to.id, "toString": to.name,
	}}
}
