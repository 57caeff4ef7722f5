package jiratest

import (
	"strings"
)

// listCustomers answers GET /servicedesk/{serviceDeskId}/customer: the customer accounts whose
// email address or display name contains query (case-insensitive), in a stable order. JSM lists
// the customers of the desk; the server treats every customer as a customer of every desk, as an
// open service desk does.
func (s *Server) listCustomers(c *call) reply {
	if _, fail := s.deskParam(c); fail != nil {
		return *fail
	}
	query := strings.ToLower(c.q.Get("query"))
	var ids []string
	for _, u := range s.sortedUsers() {
		if !u.Customer {
			continue
		}
		if query == "" || strings.Contains(strings.ToLower(u.Email), query) || strings.Contains(strings.ToLower(u.DisplayName), query) {
			ids = append(ids, u.AccountID)
		}
	}
	return s.userPage(c, ids)
}
