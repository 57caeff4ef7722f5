package portal

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	k := Key{Name: "Acme \"Ltd\" ü", ID: uuid.Must(uuid.NewV7())}
	got, err := DecodeCursor(EncodeCursor(k))
	if err != nil || *got != k {
		t.Fatalf("DecodeCursor(EncodeCursor(%v)) = %v, %v", k, got, err)
	}
	for _, bad := range []string{"!!", "e30", "bm90IGpzb24"} {
		if _, err := DecodeCursor(bad); !IsKind(err, Invalid) {
			t.Errorf("DecodeCursor(%q) = %v, want Invalid", bad, err)
		}
	}
}

func TestPageRequest(t *testing.T) {
	tests := []struct {
		limit     int
		wantLimit int
		wantErr   bool
	}{{0, DefaultLimit, false}, {1, 1, false}, {MaxLimit, MaxLimit, false}, {MaxLimit + 1, 0, true}, {-1, 0, true}}
	for _, tt := range tests {
		p, limit, err := PageRequest{Limit: tt.limit}.listParams()
		if (err != nil) != tt.wantErr || limit != tt.wantLimit || (err == nil && p.Limit != limit+1) {
			t.Errorf("limit %d: params %+v, limit %d, err %v", tt.limit, p, limit, err)
		}
	}
}

func TestPageOf(t *testing.T) {
	rows := []Key{{"a", uuid.New()}, {"b", uuid.New()}, {"c", uuid.New()}}
	key := func(k Key) Key { return k }
	if p := pageOf(rows, 3, key); p.NextCursor != "" || len(p.Items) != 3 {
		t.Errorf("full last page: %+v", p)
	}
	p := pageOf(rows, 2, key)
	if len(p.Items) != 2 {
		t.Fatalf("page size: %d", len(p.Items))
	}
	next, _ := DecodeCursor(p.NextCursor)
	if *next != rows[1] {
		t.Errorf("next cursor points at %v, want %v", next, rows[1])
	}
}

func TestIfMatch(t *testing.T) {
	tests := []struct {
		header string
		ok     bool
	}{{"", true}, {`"3"`, true}, {`W/"3"`, false}, {"*", true}, {`"2", "3"`, true}, {`"2"`, false}, {"3", false}}
	for _, tt := range tests {
		err := checkIfMatch(tt.header, 3)
		if (err == nil) != tt.ok || (err != nil && !IsKind(err, PreconditionFailed)) {
			t.Errorf("If-Match %q: %v", tt.header, err)
		}
	}
}

func TestValidation(t *testing.T) {
	in := CustomerInput{Name: "  Acme  ", CustomerNumber: " A1 ", ContactEmail: "Ada <ada@example.com>"}
	err := in.validate()
	pe, ok := err.(*Error)
	if !ok || pe.Kind != Invalid || len(pe.Fields) != 1 || pe.Fields[0].Field != "contactEmail" {
		t.Fatalf("validate() = %v", err)
	}
	if in.Name != "Acme" || in.CustomerNumber != "A1" {
		t.Errorf("fields not trimmed: %+v", in)
	}
	p := ProjectInput{CustomerID: uuid.New(), Name: "P", JSMOrganizationID: "0042"}
	if err := p.validate(); err != nil || p.JSMOrganizationID != "42" {
		t.Errorf("jsm id: %v %q", err, p.JSMOrganizationID)
	}
	bad := ProjectInput{Name: "\x00", JSMOrganizationID: "12a"}
	var fields []string
	for _, f := range bad.validate().(*Error).Fields {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"customerId", "name", "jsmOrganizationId"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestPermissions(t *testing.T) {
	tests := []struct {
		role Role
		want Permissions
	}{
		{RoleAdmin, Permissions{true, true, true, true, true, true, true, true, true, false, true, true, true}},
		{RoleSupport, Permissions{ReadAll: true, ViewNotes: true, WorkTickets: true}},
		{RolePartner, Permissions{RequestSubscriptions: true, OpenTickets: true}},
		{RoleCustomer, Permissions{RequestSubscriptions: true, OpenTickets: true}},
	}
	for _, tt := range tests {
		if got := PermissionsOf(Principal{Roles: []Role{tt.role}}); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.role, got, tt.want)
		}
	}
	id := uuid.New()
	if s := ScopeOf(Caller{Principal: Principal{Roles: []Role{RoleCustomer}}, UserID: id}); s.All || s.UserID != id {
		t.Errorf("customer scope: %+v", s)
	}
}

func TestUserCache(t *testing.T) {
	c := &userCache{ttl: time.Minute, max: 2, m: map[string]cachedUser{}}
	now := time.Unix(1000, 0)
	id := uuid.New()
	c.put("s", "u", "e", id, now)
	if got, ok := c.get("s", "u", "e", now.Add(30*time.Second)); !ok || got != id {
		t.Error("fresh entry missed")
	}
	if _, ok := c.get("s", "u2", "e", now); ok {
		t.Error("a changed username must refresh the row")
	}
	if _, ok := c.get("s", "u", "e", now.Add(2*time.Minute)); ok {
		t.Error("an expired entry must refresh the row")
	}
	c.put("a", "a", "", id, now)
	c.put("b", "b", "", id, now)
	if len(c.m) > 2 {
		t.Errorf("cache grew past its bound: %d", len(c.m))
	}
}

func TestChanges(t *testing.T) {
	notes := "n"
	before := &Project{ID: uuid.New(), Name: "A", JSMOrganizationID: "1", Notes: &notes, Version: 1}
	after := *before
	after.Name, after.JSMOrganizationID, after.Version = "B", "", 2
	got := Changes(before, &after)
	want := map[string]AuditChange{"name": {"A", "B"}, "jsmOrganizationId": {"1", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	created := Changes(nil, &Account{Username: "u", PasswordHash: "$argon2id$..."})
	if created["passwordHash"].After != "[redacted]" || created["username"].After != "u" {
		t.Errorf("create: %v", created)
	}
	if n := len(Changes(before, before)); n != 0 {
		t.Errorf("no change listed %d fields", n)
	}
}
