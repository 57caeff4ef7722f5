// Package identitytest is the conformance suite of portal.Identity: one set of scenarios that
// the Keycloak adapter and the built-in provider both pass, so that the portal behaves the
// same whichever of them manages its users.
//
// The suite needs only what a user of the provider could do: the provider itself, a way to
// complete a mailed invitation or reset, a password login, and a count of the mails sent.
// It creates users with unique names, so a provider that is shared between runs (a Keycloak
// realm) works as long as nothing else changes users concurrently; see Harness.
package identitytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/portal"
)

// Harness adapts one identity provider to the suite. Its functions are called from parallel
// subtests and must be safe for concurrent use.
type Harness struct {
	// New returns a fresh, empty identity provider, or one whose users do not collide with
	// other runs (the suite uses unique usernames and emails). Providers returned by New must
	// share the backend that Login signs in against.
	New func(t *testing.T) portal.Identity
	// Accept completes the invitation or password reset most recently mailed to the user with
	// this subject, setting password, the way the provider's user would (built-in: RedeemToken
	// with the mailed token; Keycloak: whatever its harness does with the execute-actions
	// mail). It fails the test when there is no such mail or accepting fails.
	Accept func(t *testing.T, id portal.Identity, subject string, kind portal.TokenKind, password string)
	// Login checks that username/password can sign in now (a password grant against the
	// provider's token endpoint): nil on success, an error saying why not otherwise.
	Login func(t *testing.T, username, password string) error
	// MailsTo counts the mails (invitations and resets) sent to an address so far.
	MailsTo func(t *testing.T, email string) int
}

// Run runs the scenarios against h, each as a subtest. The CountEnabled scenario counts
// role holders before and after its own changes, so it runs before the parallel scenarios,
// and the provider must not be changed by other tests while Run runs it.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Accept == nil || h.Login == nil || h.MailsTo == nil {
		t.Fatal("identitytest: every Harness function is required")
	}
	s := &suite{h: h, run: randomHex(4)}
	// Sequential: it counts role holders, which the parallel scenarios change.
	t.Run("CountEnabled", s.countEnabled)
	for _, sc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"CreateUser", s.createUser},
		{"CreateUserEmailAsUsername", s.createUserEmailAsUsername},
		{"CreateUserDuplicateUsername", s.duplicateUsername},
		{"CreateUserDuplicateEmail", s.duplicateEmail},
		{"CreateUserInvalid", s.createUserInvalid},
		{"UnknownSubject", s.unknownSubject},
		{"Invitation", s.invitation},
		{"InvitationResent", s.invitationResent},
		{"PasswordReset", s.passwordReset},
		{"SetRole", s.setRole},
		{"SetEnabled", s.setEnabled},
		{"DeleteUser", s.deleteUser},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t)
		})
	}
}

type suite struct {
	h   Harness
	run string // distinguishes this run's users from other runs'
	seq atomic.Int64
}

// timeout bounds every call into the provider.
const timeout = 30 * time.Second

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// randomUUID returns a random version 4 UUID: a well-formed subject that names no user.
func randomUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// names returns a username and email no other user of any run has: "<label>-<run>-<n>".
func (s *suite) names(label string) (username, email string) {
	username = fmt.Sprintf("%s-%s-%d", label, s.run, s.seq.Add(1))
	return username, username + "@example.com"
}

// password returns a fresh password the provider accepts.
func password() string { return "Pw-" + randomHex(8) + "-x" }

// create creates a user with a unique username and the role, and returns it.
func (s *suite) create(t *testing.T, id portal.Identity, label string, role portal.Role) *portal.IdentityUser {
	t.Helper()
	username, email := s.names(label)
	u, err := id.CreateUser(ctx(t), portal.NewUser{Username: username, Email: email, FirstName: "Test", LastName: label, Role: role})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", username, err)
	}
	return u
}

// active creates a user, invites them and accepts the invitation, and returns the user with
// their password.
func (s *suite) active(t *testing.T, id portal.Identity, label string, role portal.Role) (*portal.IdentityUser, string) {
	t.Helper()
	u := s.create(t, id, label, role)
	if err := id.SendInvitation(ctx(t), u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	pw := password()
	s.h.Accept(t, id, u.Subject, portal.TokenInvitation, pw)
	return u, pw
}

func get(t *testing.T, id portal.Identity, subject string) *portal.IdentityUser {
	t.Helper()
	u, err := id.GetUser(ctx(t), subject)
	if err != nil {
		t.Fatalf("GetUser %s: %v", subject, err)
	}
	return u
}

// wantKind fails unless err is a *portal.Error of kind; with field set, it must name field.
func wantKind(t *testing.T, what string, err error, kind portal.Kind, field string) {
	t.Helper()
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != kind {
		t.Errorf("%s: err = %v, want %s", what, err, kind)
		return
	}
	if pe.Message == "" {
		t.Errorf("%s: %s error without a message", what, kind)
	}
	if field != "" && !slices.ContainsFunc(pe.Fields, func(f portal.FieldError) bool { return f.Field == field }) {
		t.Errorf("%s: err = %v with fields %+v, want one naming %q", what, err, pe.Fields, field)
	}
}

func (s *suite) wantLogin(t *testing.T, username, pw string) {
	t.Helper()
	if err := s.h.Login(t, username, pw); err != nil {
		t.Errorf("login %s: %v, want success", username, err)
	}
}

func (s *suite) wantNoLogin(t *testing.T, what, username, pw string) {
	t.Helper()
	if err := s.h.Login(t, username, pw); err == nil {
		t.Errorf("%s: login %s succeeded, want it refused", what, username)
	}
}

func (s *suite) wantMails(t *testing.T, what, email string, want int) {
	t.Helper()
	if got := s.h.MailsTo(t, email); got != want {
		t.Errorf("%s: %d mails to %s, want %d", what, got, email, want)
	}
}

// ignoreCreatedAt leaves CreatedAt to its own checks: providers and databases round it
// differently between CreateUser and GetUser.
var ignoreCreatedAt = cmpopts.IgnoreFields(portal.IdentityUser{}, "CreatedAt")

func (s *suite) createUser(t *testing.T) {
	id := s.h.New(t)
	username, email := s.names("Mixed.Case")
	in := portal.NewUser{
		Username:  strings.ToUpper(username[:1]) + username[1:],
		Email:     strings.ToUpper(email),
		FirstName: "Ada",
		LastName:  "Lovelace",
		Role:      portal.RolePartner,
	}
	before := time.Now().Add(-time.Hour)
	u, err := id.CreateUser(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	want := &portal.IdentityUser{
		Subject:       u.Subject,
		Username:      strings.ToLower(username),
		Email:         strings.ToLower(email),
		FirstName:     "Ada",
		LastName:      "Lovelace",
		Enabled:       true,
		EmailVerified: false,
		Pending:       true,
		Roles:         []portal.Role{portal.RolePartner},
	}
	if u.Subject == "" {
		t.Errorf("CreateUser returned no subject")
	}
	if diff := cmp.Diff(want, u, ignoreCreatedAt); diff != "" {
		t.Errorf("CreateUser (-want +got):\n%s", diff)
	}
	got := get(t, id, u.Subject)
	if diff := cmp.Diff(want, got, ignoreCreatedAt); diff != "" {
		t.Errorf("GetUser (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Hour)) {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}
	s.wantMails(t, "CreateUser sends nothing", want.Email, 0)

	other := s.create(t, id, "other", portal.RoleCustomer)
	if other.Subject == u.Subject {
		t.Errorf("two users share the subject %s", u.Subject)
	}
}

func (s *suite) createUserEmailAsUsername(t *testing.T) {
	id := s.h.New(t)
	_, email := s.names("email-only")
	email = strings.Replace(email, "@", "+portal@", 1) // plus addressing is common in real addresses
	u, err := id.CreateUser(ctx(t), portal.NewUser{Email: strings.ToUpper(email), Role: portal.RoleCustomer})
	if err != nil {
		t.Fatalf("CreateUser without username: %v", err)
	}
	if u.Username != email || u.Email != email {
		t.Errorf("username %q, email %q: want both %q", u.Username, u.Email, email)
	}
	if got := get(t, id, u.Subject); got.Username != email {
		t.Errorf("GetUser: username %q, want %q", got.Username, email)
	}
	// The email is the login name, too.
	pw := password()
	if err := id.SendInvitation(ctx(t), u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	s.h.Accept(t, id, u.Subject, portal.TokenInvitation, pw)
	s.wantLogin(t, email, pw)
}

func (s *suite) duplicateUsername(t *testing.T) {
	id := s.h.New(t)
	first := s.create(t, id, "dup-user", portal.RoleCustomer)
	_, email := s.names("dup-user-other")
	_, err := id.CreateUser(ctx(t), portal.NewUser{Username: strings.ToUpper(first.Username), Email: email, Role: portal.RoleCustomer})
	wantKind(t, "same username, other case", err, portal.Conflict, "username")
	if got := get(t, id, first.Subject); got.Email != first.Email {
		t.Errorf("the first user changed: %+v", got)
	}
}

func (s *suite) duplicateEmail(t *testing.T) {
	id := s.h.New(t)
	first := s.create(t, id, "dup-mail", portal.RoleCustomer)
	username, _ := s.names("dup-mail-other")
	_, err := id.CreateUser(ctx(t), portal.NewUser{Username: username, Email: strings.ToUpper(first.Email), Role: portal.RoleSupport})
	wantKind(t, "same email, other case", err, portal.Conflict, "email")
}

func (s *suite) createUserInvalid(t *testing.T) {
	id := s.h.New(t)
	username, email := s.names("invalid")
	tests := []struct {
		name  string
		u     portal.NewUser
		field string
	}{
		{"unknown role", portal.NewUser{Username: username, Email: email, Role: "superuser"}, ""},
		{"no role", portal.NewUser{Username: username, Email: email}, ""},
		{"malformed email", portal.NewUser{Username: username, Email: "not-an-address", Role: portal.RoleCustomer}, ""},
		{"no email", portal.NewUser{Username: username, Role: portal.RoleCustomer}, ""},
	}
	for _, tt := range tests {
		_, err := id.CreateUser(ctx(t), tt.u)
		wantKind(t, tt.name, err, portal.Invalid, tt.field)
	}
	// None of them was created: the names are still free.
	if _, err := id.CreateUser(ctx(t), portal.NewUser{Username: username, Email: email, Role: portal.RoleCustomer}); err != nil {
		t.Errorf("CreateUser after refused attempts: %v", err)
	}
}

func (s *suite) unknownSubject(t *testing.T) {
	id := s.h.New(t)
	sub := randomUUID()
	c := ctx(t)
	_, err := id.GetUser(c, sub)
	wantKind(t, "GetUser", err, portal.NotFound, "")
	wantKind(t, "SendInvitation", id.SendInvitation(c, sub), portal.NotFound, "")
	wantKind(t, "SendPasswordReset", id.SendPasswordReset(c, sub), portal.NotFound, "")
	wantKind(t, "SetRole", id.SetRole(c, sub, portal.RoleSupport), portal.NotFound, "")
	wantKind(t, "SetEnabled(false)", id.SetEnabled(c, sub, false), portal.NotFound, "")
	wantKind(t, "SetEnabled(true)", id.SetEnabled(c, sub, true), portal.NotFound, "")
	wantKind(t, "DeleteUser", id.DeleteUser(c, sub), portal.NotFound, "")
}

func (s *suite) invitation(t *testing.T) {
	id := s.h.New(t)
	u := s.create(t, id, "invite", portal.RoleCustomer)
	pw := password()
	s.wantNoLogin(t, "created, not invited", u.Username, pw)

	if err := id.SendInvitation(ctx(t), u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	s.wantMails(t, "after SendInvitation", u.Email, 1)
	s.wantNoLogin(t, "invited, not accepted", u.Username, pw)
	if got := get(t, id, u.Subject); !got.Pending || got.EmailVerified {
		t.Errorf("invited: pending %v, verified %v: want pending, not verified", got.Pending, got.EmailVerified)
	}

	s.h.Accept(t, id, u.Subject, portal.TokenInvitation, pw)
	s.wantLogin(t, u.Username, pw)
	s.wantNoLogin(t, "wrong password", u.Username, pw+"-wrong")
	got := get(t, id, u.Subject)
	want := *u
	want.Pending, want.EmailVerified = false, true
	if diff := cmp.Diff(&want, got, ignoreCreatedAt); diff != "" {
		t.Errorf("accepted user (-want +got):\n%s", diff)
	}

	err := id.SendInvitation(ctx(t), u.Subject)
	wantKind(t, "SendInvitation after acceptance", err, portal.Conflict, "")
	s.wantMails(t, "after the refused invitation", u.Email, 1)
}

func (s *suite) invitationResent(t *testing.T) {
	id := s.h.New(t)
	u := s.create(t, id, "resend", portal.RoleSupport)
	for range 2 {
		if err := id.SendInvitation(ctx(t), u.Subject); err != nil {
			t.Fatalf("SendInvitation: %v", err)
		}
	}
	s.wantMails(t, "two invitations", u.Email, 2)
	pw := password()
	s.h.Accept(t, id, u.Subject, portal.TokenInvitation, pw)
	s.wantLogin(t, u.Username, pw)
}

func (s *suite) passwordReset(t *testing.T) {
	id := s.h.New(t)
	u := s.create(t, id, "reset", portal.RoleCustomer)
	err := id.SendPasswordReset(ctx(t), u.Subject)
	wantKind(t, "SendPasswordReset before acceptance", err, portal.Conflict, "")
	s.wantMails(t, "refused reset", u.Email, 0)

	if err := id.SendInvitation(ctx(t), u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	oldPW := password()
	s.h.Accept(t, id, u.Subject, portal.TokenInvitation, oldPW)

	if err := id.SendPasswordReset(ctx(t), u.Subject); err != nil {
		t.Fatalf("SendPasswordReset: %v", err)
	}
	s.wantMails(t, "invitation and reset", u.Email, 2)
	s.wantLogin(t, u.Username, oldPW) // until the reset is used

	newPW := password()
	s.h.Accept(t, id, u.Subject, portal.TokenPasswordReset, newPW)
	s.wantLogin(t, u.Username, newPW)
	s.wantNoLogin(t, "old password after the reset", u.Username, oldPW)
	if got := get(t, id, u.Subject); got.Pending || !got.Enabled {
		t.Errorf("after the reset: pending %v, enabled %v", got.Pending, got.Enabled)
	}
}

func (s *suite) setRole(t *testing.T) {
	id := s.h.New(t)
	u := s.create(t, id, "role", portal.RoleCustomer)
	for _, r := range []portal.Role{portal.RoleAdmin, portal.RoleAdmin, portal.RoleSupport, portal.RoleCustomer} {
		if err := id.SetRole(ctx(t), u.Subject, r); err != nil {
			t.Fatalf("SetRole %s: %v", r, err)
		}
		if got := get(t, id, u.Subject); !cmp.Equal(got.Roles, []portal.Role{r}) {
			t.Errorf("after SetRole %s: roles %v, want exactly [%s]", r, got.Roles, r)
		}
	}
	wantKind(t, "SetRole to an unknown role", id.SetRole(ctx(t), u.Subject, "superuser"), portal.Invalid, "")
	if got := get(t, id, u.Subject); !cmp.Equal(got.Roles, []portal.Role{portal.RoleCustomer}) {
		t.Errorf("a refused SetRole changed the roles to %v", got.Roles)
	}
	if got := get(t, id, u.Subject); !got.Pending || !got.Enabled {
		t.Errorf("SetRole changed pending %v or enabled %v", got.Pending, got.Enabled)
	}
}

func (s *suite) setEnabled(t *testing.T) {
	id := s.h.New(t)
	u, pw := s.active(t, id, "enabled", portal.RoleSupport)
	s.wantLogin(t, u.Username, pw)

	if err := id.SetEnabled(ctx(t), u.Subject, false); err != nil {
		t.Fatalf("SetEnabled(false): %v", err)
	}
	if got := get(t, id, u.Subject); got.Enabled || got.Pending {
		t.Errorf("disabled: enabled %v, pending %v", got.Enabled, got.Pending)
	}
	s.wantNoLogin(t, "disabled", u.Username, pw)
	if err := id.SetEnabled(ctx(t), u.Subject, false); err != nil {
		t.Errorf("SetEnabled(false) twice: %v", err)
	}

	if err := id.SetEnabled(ctx(t), u.Subject, true); err != nil {
		t.Fatalf("SetEnabled(true): %v", err)
	}
	if got := get(t, id, u.Subject); !got.Enabled || !cmp.Equal(got.Roles, []portal.Role{portal.RoleSupport}) {
		t.Errorf("enabled again: enabled %v, roles %v", got.Enabled, got.Roles)
	}
	s.wantLogin(t, u.Username, pw)
}

func (s *suite) countEnabled(t *testing.T) {
	id := s.h.New(t)
	count := func(r portal.Role) int {
		t.Helper()
		n, err := id.CountEnabled(ctx(t), r)
		if err != nil {
			t.Fatalf("CountEnabled %s: %v", r, err)
		}
		return n
	}
	want := func(what string, r portal.Role, n int) {
		t.Helper()
		if got := count(r); got != n {
			t.Errorf("%s: CountEnabled(%s) = %d, want %d", what, r, got, n)
		}
	}
	partners, supports := count(portal.RolePartner), count(portal.RoleSupport)

	p1 := s.create(t, id, "count-p1", portal.RolePartner)
	p2 := s.create(t, id, "count-p2", portal.RolePartner)
	s.create(t, id, "count-s1", portal.RoleSupport)
	// Pending users are enabled users: they count.
	want("two partners and a support user created", portal.RolePartner, partners+2)
	want("two partners and a support user created", portal.RoleSupport, supports+1)

	if err := id.SetEnabled(ctx(t), p1.Subject, false); err != nil {
		t.Fatalf("SetEnabled(false): %v", err)
	}
	want("one partner disabled", portal.RolePartner, partners+1)
	if err := id.SetRole(ctx(t), p2.Subject, portal.RoleSupport); err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	want("a partner became support", portal.RolePartner, partners)
	want("a partner became support", portal.RoleSupport, supports+2)
	if err := id.SetEnabled(ctx(t), p1.Subject, true); err != nil {
		t.Fatalf("SetEnabled(true): %v", err)
	}
	want("the partner enabled again", portal.RolePartner, partners+1)
	if err := id.DeleteUser(ctx(t), p2.Subject); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	want("the former partner deleted", portal.RoleSupport, supports+1)

	_, err := id.CountEnabled(ctx(t), "superuser")
	wantKind(t, "CountEnabled of an unknown role", err, portal.Invalid, "")
}

func (s *suite) deleteUser(t *testing.T) {
	id := s.h.New(t)
	u, pw := s.active(t, id, "delete", portal.RoleCustomer)
	if err := id.DeleteUser(ctx(t), u.Subject); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := id.GetUser(ctx(t), u.Subject)
	wantKind(t, "GetUser after DeleteUser", err, portal.NotFound, "")
	wantKind(t, "second DeleteUser", id.DeleteUser(ctx(t), u.Subject), portal.NotFound, "")
	s.wantNoLogin(t, "deleted", u.Username, pw)

	// The username and email are free again; the new user is someone else.
	again, err := id.CreateUser(ctx(t), portal.NewUser{Username: u.Username, Email: u.Email, Role: portal.RoleCustomer})
	if err != nil {
		t.Fatalf("CreateUser with a deleted user's names: %v", err)
	}
	if again.Subject == u.Subject || !again.Pending {
		t.Errorf("recreated user: subject %s (old %s), pending %v", again.Subject, u.Subject, again.Pending)
	}
	s.wantNoLogin(t, "recreated, not accepted", u.Username, pw)
}
