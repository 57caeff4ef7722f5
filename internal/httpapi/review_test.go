package httpapi_test

import (
	"testing"
)

// TestMovedProjectLeavesItsPeopleBehind: moving a project to another customer must not hand
// the old customer's users the new customer's data.
func TestMovedProjectLeavesItsPeopleBehind(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		uid := s.meID("customer")
		a := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "A", "customerNumber": "A"})
		b := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "B", "customerNumber": "B"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": a["id"], "name": "P"})
		pid := p["id"].(string)
		s.must(201, "admin", "POST", "/api/v1/projects/"+pid+"/users", map[string]any{"userId": uid})
		s.must(200, "customer", "GET", "/api/v1/projects/"+pid, nil)
		s.must(200, "admin", "PUT", "/api/v1/projects/"+pid, map[string]any{"customerId": b["id"], "name": "P"})
		s.must(404, "customer", "GET", "/api/v1/customers/"+b["id"].(string), nil)
		s.must(404, "customer", "GET", "/api/v1/projects/"+pid, nil)
		if users := s.must(200, "admin", "GET", "/api/v1/projects/"+pid+"/users", nil)["items"].([]any); len(users) != 0 {
			t.Errorf("assignments survived the move: %v", users)
		}
		// A rename without a move keeps them.
		s.must(201, "admin", "POST", "/api/v1/projects/"+pid+"/users", map[string]any{"userId": uid})
		s.must(200, "admin", "PUT", "/api/v1/projects/"+pid, map[string]any{"customerId": b["id"], "name": "P2"})
		s.must(200, "customer", "GET", "/api/v1/projects/"+pid, nil)
	})
}

// TestRolelessUserSeesNothing: a user whose portal role was taken away keeps no access
// through assignments left behind.
func TestRolelessUserSeesNothing(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		uid := s.meID("nobody")
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "A", "customerNumber": "A"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "P", "ticketVisibility": "own"})
		s.must(201, "admin", "POST", "/api/v1/projects/"+p["id"].(string)+"/users", map[string]any{"userId": uid})
		s.must(404, "nobody", "GET", "/api/v1/projects/"+p["id"].(string), nil)
		s.must(404, "nobody", "GET", "/api/v1/customers/"+c["id"].(string), nil)
		if got := s.must(200, "nobody", "GET", "/api/v1/tickets", nil)["items"].([]any); len(got) != 0 {
			t.Errorf("role-less user lists tickets: %v", got)
		}
	})
}

// TestDeletedUserTokensAreRefused: deleting a user refuses the tokens they hold, and they
// do not come back by using one.
func TestDeletedUserTokensAreRefused(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		uid := s.meID("customer")
		s.must(204, "admin", "DELETE", "/api/v1/users/"+uid, nil)
		checkProblem(t, s.do("customer", "GET", "/api/v1/me", nil), 401)
		if got := s.must(200, "admin", "GET", "/api/v1/users?q=cus", nil)["items"].([]any); len(got) != 0 {
			t.Errorf("a deleted user came back: %v", got)
		}
	})
}

// TestTicketHistoryIsKept: a project with tickets cannot be deleted, internal comments do not
// move the time customers see, and co-users' emails reach staff only.
func TestTicketHistoryIsKept(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		own := w.own["project"]
		tt := s.entitle(own)
		key := s.must(201, "customer", "POST", "/api/v1/projects/"+own+"/tickets", ticketBody(tt, "History"))["key"].(string)
		checkProblem(t, s.do("admin", "DELETE", "/api/v1/projects/"+own, nil), 409)
		before := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)["updatedAt"]
		s.must(201, "support", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "internal", "internal": true})
		if after := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)["updatedAt"]; after != before {
			t.Errorf("an internal comment moved updatedAt from %v to %v", before, after)
		}
		for _, it := range s.must(200, "customer", "GET", "/api/v1/projects/"+own+"/users", nil)["items"].([]any) {
			if _, has := it.(map[string]any)["email"]; has {
				t.Errorf("a customer sees a co-user's email: %v", it)
			}
		}
		staff := s.must(200, "support", "GET", "/api/v1/projects/"+own+"/users", nil)["items"].([]any)
		found := false
		for _, it := range staff {
			_, has := it.(map[string]any)["email"]
			found = found || has
		}
		if !found {
			t.Error("staff lost the emails of project users")
		}
	})
}
