package builtin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/portal"
)

// TestDirectory runs the built-in provider's own directory tests over the in-memory store
// (store_test.go runs them over the real store on both databases).
func TestDirectory(t *testing.T) {
	t.Parallel()
	runDirectoryTests(t, func(*testing.T) portal.AccountDirectory { return newMemAccounts() })
}

// runDirectoryTests runs what the conformance suite cannot see: the tokens behind the links.
// open returns the account store for one subtest; it may be shared between them.
func runDirectoryTests(t *testing.T, open func(*testing.T) portal.AccountDirectory) {
	tests := []struct {
		name string
		fn   func(*testing.T, *dirEnv)
	}{
		{"TokenSingleUse", testTokenSingleUse},
		{"TokenConcurrentRedeem", testTokenConcurrentRedeem},
		{"InvitationExpires", testInvitationExpires},
		{"ResetExpires", testResetExpires},
		{"TokenKindsDoNotMix", testTokenKindsDoNotMix},
		{"NewInvitationReplacesOld", testNewInvitationReplacesOld},
		{"BadPasswordKeepsToken", testBadPasswordKeepsToken},
		{"MalformedTokens", testMalformedTokens},
		{"OnlyHashStored", testOnlyHashStored},
		{"NoTokensLogged", testNoTokensLogged},
		{"DisabledUser", testDisabledUser},
		{"DeletedUserTokens", testDeletedUserTokens},
		{"MailFailure", testMailFailure},
		{"InvitationMail", testInvitationMail},
		{"ResetMail", testResetMail},
		{"PendingLogin", testPendingLogin},
		{"EmailVerifiedClaim", testEmailVerifiedClaim},
		{"CreateUserValidation", testCreateUserValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newDirEnv(t, open(t)))
		})
	}
}

func testTokenSingleUse(t *testing.T, e *dirEnv) {
	u, tok := e.invite(t, "single")
	sub, err := e.dir.RedeemToken(context.Background(), portal.TokenInvitation, tok, "first-password")
	if err != nil || sub != u.Subject {
		t.Fatalf("RedeemToken = %q, %v; want %s", sub, err, u.Subject)
	}
	_, err = e.dir.RedeemToken(context.Background(), portal.TokenInvitation, tok, "second-password")
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.NotFound || pe.Message != "this link is invalid, used or expired; ask for a new one" {
		t.Errorf("second RedeemToken: %v, want NotFound with the link message", err)
	}
	if err := e.login(t, u.Username, "first-password"); err != nil {
		t.Errorf("the first password no longer works: %v", err)
	}
	if err := e.login(t, u.Username, "second-password"); err == nil {
		t.Errorf("the second redemption set the password")
	}

	// The same holds for resets.
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	reset := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	e.redeem(t, "reset", portal.TokenPasswordReset, reset, "reset-password-1", nil)
	e.redeem(t, "reset again", portal.TokenPasswordReset, reset, "reset-password-2", kind(portal.NotFound))
}

func testTokenConcurrentRedeem(t *testing.T, e *dirEnv) {
	_, tok := e.invite(t, "race")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.dir.RedeemToken(context.Background(), portal.TokenInvitation, tok, "racing-password")
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !portal.IsKind(err, portal.NotFound):
			t.Errorf("concurrent RedeemToken: %v, want success or NotFound", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
	}
}

func testInvitationExpires(t *testing.T, e *dirEnv) {
	ctx := context.Background()
	// Still valid just before the end of its lifetime.
	u, tok := e.invite(t, "expiring")
	e.clock.Advance(DefaultInvitationTTL - clockSkew)
	e.redeem(t, "just before expiry", portal.TokenInvitation, tok, "in-time-password", nil)
	if got, _ := e.dir.GetUser(ctx, u.Subject); got == nil || got.Pending {
		t.Errorf("user still pending after a redemption in time")
	}

	late, tok := e.invite(t, "late")
	e.clock.Advance(DefaultInvitationTTL + clockSkew)
	e.redeem(t, "after expiry", portal.TokenInvitation, tok, "too-late-password", kind(portal.NotFound))
	if got, _ := e.dir.GetUser(ctx, late.Subject); got == nil || !got.Pending {
		t.Errorf("an expired invitation set the password")
	}
	// A new invitation works again.
	if err := e.dir.SendInvitation(ctx, late.Subject); err != nil {
		t.Fatal(err)
	}
	e.redeem(t, "new invitation", portal.TokenInvitation, e.mails.lastToken(t, late.Email, portal.TokenInvitation), "on-time-password", nil)
}

func testResetExpires(t *testing.T, e *dirEnv) {
	u, pw := e.accepted(t, "reset-expiry")
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	tok := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	e.clock.Advance(DefaultResetTTL + clockSkew)
	e.redeem(t, "expired reset", portal.TokenPasswordReset, tok, "too-late-password", kind(portal.NotFound))
	if err := e.login(t, u.Username, pw); err != nil {
		t.Errorf("the old password stopped working after an expired reset: %v", err)
	}

	// A configured TTL is honoured.
	short := newDirEnv(t, e.accounts.AccountDirectory, func(c *DirectoryConfig) { c.ResetTTL = 10 * time.Minute })
	u2, _ := short.accepted(t, "reset-short")
	if err := short.dir.SendPasswordReset(context.Background(), u2.Subject); err != nil {
		t.Fatal(err)
	}
	tok = short.mails.lastToken(t, u2.Email, portal.TokenPasswordReset)
	short.clock.Advance(10*time.Minute + clockSkew)
	short.redeem(t, "reset past a 10 minute TTL", portal.TokenPasswordReset, tok, "too-late-password", kind(portal.NotFound))
}

func testTokenKindsDoNotMix(t *testing.T, e *dirEnv) {
	u, tok := e.invite(t, "kinds")
	e.redeem(t, "invitation token as a reset", portal.TokenPasswordReset, tok, "sneaky-password", kind(portal.NotFound))
	// The attempt with the wrong kind did not spend it.
	e.redeem(t, "invitation token as an invitation", portal.TokenInvitation, tok, "proper-password", nil)

	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	reset := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	e.redeem(t, "reset token as an invitation", portal.TokenInvitation, reset, "sneaky-password", kind(portal.NotFound))
	e.redeem(t, "reset token as a reset", portal.TokenPasswordReset, reset, "new-proper-password", nil)
	e.redeem(t, "unknown kind", "magic_login", reset, "new-proper-password", kind(portal.Invalid))
}

func testNewInvitationReplacesOld(t *testing.T, e *dirEnv) {
	u, first := e.invite(t, "replaced")
	if err := e.dir.SendInvitation(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	second := e.mails.lastToken(t, u.Email, portal.TokenInvitation)
	if first == second {
		t.Fatalf("the new invitation carries the old token")
	}
	e.redeem(t, "the first invitation", portal.TokenInvitation, first, "first-password", kind(portal.NotFound))
	e.redeem(t, "the second invitation", portal.TokenInvitation, second, "second-password", nil)

	// Likewise for resets, and a reset does not touch an invitation's token or vice versa:
	// they are replaced per kind.
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	r1 := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	r2 := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	e.redeem(t, "the first reset", portal.TokenPasswordReset, r1, "reset-password-1", kind(portal.NotFound))
	e.redeem(t, "the second reset", portal.TokenPasswordReset, r2, "reset-password-2", nil)
}

func testBadPasswordKeepsToken(t *testing.T, e *dirEnv) {
	u, tok := e.invite(t, "typo")
	for _, pw := range []string{"", "short", strings.Repeat("p", maxPasswordLen+1)} {
		_, err := e.dir.RedeemToken(context.Background(), portal.TokenInvitation, tok, pw)
		var pe *portal.Error
		if !errors.As(err, &pe) || pe.Kind != portal.Invalid || len(pe.Fields) != 1 || pe.Fields[0].Field != "password" {
			t.Errorf("password of %d characters: %v, want Invalid on password", len(pw), err)
		}
	}
	if got, _ := e.dir.GetUser(context.Background(), u.Subject); got == nil || !got.Pending {
		t.Errorf("a refused password changed the user")
	}
	e.redeem(t, "after the typos", portal.TokenInvitation, tok, "eight-ch", nil)
	if err := e.login(t, u.Username, "eight-ch"); err != nil {
		t.Errorf("login with the chosen password: %v", err)
	}
}

func testMalformedTokens(t *testing.T, e *dirEnv) {
	_, tok := e.invite(t, "malformed")
	for _, bad := range []string{"", "x", tok[:len(tok)-1], tok + "A", strings.ToUpper(tok), strings.Repeat("A", 10000), hashToken(tok)} {
		e.redeem(t, "token "+bad[:min(len(bad), 12)], portal.TokenInvitation, bad, "valid-password", kind(portal.NotFound))
	}
	e.redeem(t, "the real token", portal.TokenInvitation, tok, "valid-password", nil)
}

func testOnlyHashStored(t *testing.T, e *dirEnv) {
	u, tok := e.invite(t, "hashed")
	if err := e.dir.SendInvitation(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	tok2 := e.mails.lastToken(t, u.Email, portal.TokenInvitation)
	e.redeem(t, "invitation", portal.TokenInvitation, tok2, "hashed-password", nil)
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	tok3 := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)

	stored := e.accounts.stored()
	if len(stored) != 3 {
		t.Fatalf("%d tokens stored, want 3", len(stored))
	}
	raw := []string{tok, tok2, tok3}
	kinds := []portal.TokenKind{portal.TokenInvitation, portal.TokenInvitation, portal.TokenPasswordReset}
	ttls := []time.Duration{DefaultInvitationTTL, DefaultInvitationTTL, DefaultResetTTL}
	for i, st := range stored {
		sum := sha256.Sum256([]byte(raw[i]))
		want := portal.AccountToken{Hash: hex.EncodeToString(sum[:]), Subject: u.Subject, Kind: kinds[i], ExpiresAt: e.clock.Now().Add(ttls[i])}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("token %d (-want +got):\n%s", i, diff)
		}
		for _, r := range raw {
			if strings.Contains(st.Hash+st.Subject, r) {
				t.Errorf("the store received a raw token")
			}
		}
	}
	if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not 32 bytes of unpadded base64url", tok)
	}
}

func testNoTokensLogged(t *testing.T, e *dirEnv) {
	ctx := context.Background()
	u, tok := e.invite(t, "quiet")
	e.redeem(t, "bad password", portal.TokenInvitation, tok, "short", kind(portal.Invalid))
	e.redeem(t, "wrong kind", portal.TokenPasswordReset, tok, "quiet-password", kind(portal.NotFound))
	e.redeem(t, "invitation", portal.TokenInvitation, tok, "quiet-password", nil)
	e.redeem(t, "used", portal.TokenInvitation, tok, "quiet-password", kind(portal.NotFound))
	if err := e.dir.SendPasswordReset(ctx, u.Subject); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.SetEnabled(ctx, u.Subject, false); err != nil {
		t.Fatal(err)
	}
	reset := e.mails.lastToken(t, u.Email, portal.TokenPasswordReset)
	e.redeem(t, "disabled", portal.TokenPasswordReset, reset, "quiet-password-2", kind(portal.Conflict))
	if err := e.dir.SetEnabled(ctx, u.Subject, true); err != nil {
		t.Fatal(err)
	}
	e.mails.fail(portal.Errorf(portal.Unavailable, "mail server mail.example.com:587 is unreachable"))
	if err := e.dir.SendPasswordReset(ctx, u.Subject); !portal.IsKind(err, portal.Unavailable) {
		t.Fatalf("SendPasswordReset with a failing mail server: %v", err)
	}

	logs := e.logs.String()
	for _, want := range []string{"invitation mailed", "invitation accepted", "token refused", "mail not sent"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, m := range e.mails.all() {
		for _, match := range linkPattern.FindAllStringSubmatch(m.Text, -1) {
			if strings.Contains(logs, match[3]) {
				t.Errorf("log contains a mailed token")
			}
		}
	}
	for _, secret := range []string{"quiet-password", "quiet-password-2"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains a password")
		}
	}
}

func testDisabledUser(t *testing.T, e *dirEnv) {
	ctx := context.Background()
	wantConflict := func(what string, err error, msg string) {
		t.Helper()
		var pe *portal.Error
		if !errors.As(err, &pe) || pe.Kind != portal.Conflict || pe.Message != msg {
			t.Errorf("%s: %v, want Conflict %q", what, err, msg)
		}
	}
	pending := e.user(t, "disabled-pending", portal.RoleCustomer)
	if err := e.dir.SetEnabled(ctx, pending.Subject, false); err != nil {
		t.Fatal(err)
	}
	wantConflict("invite a disabled user", e.dir.SendInvitation(ctx, pending.Subject), "the user is disabled")
	wantConflict("reset a pending user", e.dir.SendPasswordReset(ctx, pending.Subject),
		"the user has not accepted the invitation yet; resend the invitation instead")

	active, pw := e.accepted(t, "disabled-active")
	wantConflict("invite an accepted user", e.dir.SendInvitation(ctx, active.Subject), "the user has already accepted the invitation")
	if err := e.dir.SetEnabled(ctx, active.Subject, false); err != nil {
		t.Fatal(err)
	}
	wantConflict("reset a disabled user", e.dir.SendPasswordReset(ctx, active.Subject), "the user is disabled")

	// A link mailed before the user was disabled does not work, and is spent.
	u, tok := e.invite(t, "disabled-later")
	if err := e.dir.SetEnabled(ctx, u.Subject, false); err != nil {
		t.Fatal(err)
	}
	_, err := e.dir.RedeemToken(ctx, portal.TokenInvitation, tok, "locked-out-password")
	wantConflict("redeem for a disabled user", err, "the user is disabled")
	if err := e.dir.SetEnabled(ctx, u.Subject, true); err != nil {
		t.Fatal(err)
	}
	e.redeem(t, "the spent link after enabling", portal.TokenInvitation, tok, "locked-out-password", kind(portal.NotFound))
	if got, _ := e.dir.GetUser(ctx, u.Subject); got == nil || !got.Pending || got.EmailVerified {
		t.Errorf("a refused redemption changed the user: %+v", got)
	}

	// A disabled user's login says so only to someone who knows the password.
	if err := e.login(t, active.Username, pw); err == nil || !strings.Contains(err.Error(), "Account disabled") {
		t.Errorf("disabled login: %v", err)
	}
}

func testDeletedUserTokens(t *testing.T, e *dirEnv) {
	u, tok := e.invite(t, "deleted")
	if err := e.dir.DeleteUser(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	e.redeem(t, "the deleted user's invitation", portal.TokenInvitation, tok, "ghost-password", kind(portal.NotFound))
}

func testMailFailure(t *testing.T, e *dirEnv) {
	ctx := context.Background()
	u := e.user(t, "mailfail", portal.RoleCustomer)

	// A mail sender's Unavailable error is passed on as it is: it names the server's problem.
	unreachable := &portal.Error{Kind: portal.Unavailable, Message: "mail server mail.example.com:587 is unreachable", Cause: errors.New("dial tcp: connection refused")}
	e.mails.fail(unreachable)
	err := e.dir.SendInvitation(ctx, u.Subject)
	if !errors.Is(err, unreachable) {
		t.Errorf("SendInvitation: %v, want the sender's error", err)
	}
	// The token of the unsent mail was withdrawn.
	tok := e.mails.lastToken(t, u.Email, portal.TokenInvitation)
	e.mails.fail(nil)
	e.redeem(t, "the unsent invitation", portal.TokenInvitation, tok, "unsent-password", kind(portal.NotFound))

	// Any other failure becomes Unavailable too.
	e.mails.fail(errors.New("sender exploded"))
	err = e.dir.SendInvitation(ctx, u.Subject)
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.Unavailable || pe.Message != "the invitation mail could not be sent" {
		t.Errorf("SendInvitation with a plain error: %v", err)
	}

	// With the real SMTP sender and no server listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	smtp, err := mail.NewSMTP(mail.Config{Host: "127.0.0.1", Port: port, From: "portal@example.com", TLS: mail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	real := newDirEnv(t, e.accounts.AccountDirectory, func(c *DirectoryConfig) { c.Mail = smtp })
	err = real.dir.SendInvitation(ctx, u.Subject)
	if !errors.As(err, &pe) || pe.Kind != portal.Unavailable || !strings.Contains(pe.Message, "mail server 127.0.0.1:") {
		t.Errorf("SendInvitation over an unreachable SMTP server: %v", err)
	}

	// After the failures, an invitation goes out and works.
	e.mails.fail(nil)
	if err := e.dir.SendInvitation(ctx, u.Subject); err != nil {
		t.Fatal(err)
	}
	e.redeem(t, "the sent invitation", portal.TokenInvitation, e.mails.lastToken(t, u.Email, portal.TokenInvitation), "sent-password", nil)
}

// tokenLine matches the link line of a mail and lets the tests compare the rest exactly.
var tokenLine = regexp.MustCompile(`#token=[A-Za-z0-9_-]{43}\n`)

func testInvitationMail(t *testing.T, e *dirEnv) {
	u := e.user(t, "mailtext", portal.RoleCustomer)
	if err := e.dir.SendInvitation(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	msgs := e.mails.to(u.Email)
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	m := msgs[0]
	expires := e.clock.Now().Add(DefaultInvitationTTL).UTC().Format("Monday, 2 January 2006, 15:04 MST")
	want := mail.Message{
		To:      u.Email,
		Subject: "Your invitation to the customer portal",
		Text: "Hello Grace,\n\n" +
			"you have been invited to the customer portal at " + publicURL + ".\n\n" +
			"To accept the invitation, open this link and choose your password:\n\n" +
			publicURL + "/invitation#token=TOKEN\n\n" +
			"Your username is " + u.Username + ". The link works once and expires on " + expires + " (in 72 hours).\n" +
			"If it has expired, ask the person who invited you to send a new invitation.\n\n" +
			"If you did not expect this invitation, you can ignore this mail.\n",
	}
	m.Text = tokenLine.ReplaceAllString(m.Text, "#token=TOKEN\n")
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("invitation mail (-want +got):\n%s", diff)
	}
}

func testResetMail(t *testing.T, e *dirEnv) {
	u, _ := e.accepted(t, "resettext")
	if err := e.dir.SendPasswordReset(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	msgs := e.mails.to(u.Email)
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want 2", len(msgs))
	}
	m := msgs[1]
	expires := e.clock.Now().Add(DefaultResetTTL).UTC().Format("Monday, 2 January 2006, 15:04 MST")
	want := mail.Message{
		To:      u.Email,
		Subject: "Reset your customer portal password",
		Text: "Hello Grace,\n\n" +
			"a new password was requested for your account " + u.Username + " at the customer portal " + publicURL + ".\n\n" +
			"To choose a new password, open this link:\n\n" +
			publicURL + "/password-reset#token=TOKEN\n\n" +
			"The link works once and expires on " + expires + " (in 1 hour).\n" +
			"Until you use it, your current password keeps working.\n\n" +
			"If you did not ask for this, you can ignore this mail.\n",
	}
	m.Text = tokenLine.ReplaceAllString(m.Text, "#token=TOKEN\n")
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("reset mail (-want +got):\n%s", diff)
	}
}

// testPendingLogin checks that the token endpoint refuses an account without a password like a
// wrong password: 401 invalid_grant, never a 500, whatever password is tried.
func testPendingLogin(t *testing.T, e *dirEnv) {
	u := e.user(t, "pending-login", portal.RoleCustomer)
	for _, pw := range []string{"some-password", ""} {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+tokenPath, strings.NewReader(passwordForm(u.Username, pw).Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("pending login with %q: status %d %s, want 401", pw, resp.StatusCode, body)
		}
		if diff := cmp.Diff(map[string]any{"error": "invalid_grant", "error_description": "Invalid user credentials"}, jsonBody(t, body)); diff != "" {
			t.Errorf("pending login body (-want +got):\n%s", diff)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "login failed: invitation not accepted yet") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("log:\n%s", logs)
	}
}

func testEmailVerifiedClaim(t *testing.T, e *dirEnv) {
	u, pw := e.accepted(t, "verified")
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+tokenPath, strings.NewReader(passwordForm(u.Username, pw).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	access, _ := jsonBody(t, body)["access_token"].(string)
	c := (&env{iss: e.iss, clock: e.clock}).verifyAccess(t, access)
	if c.EmailVerified == nil || !*c.EmailVerified {
		t.Errorf("email_verified = %v, want true after the invitation", c.EmailVerified)
	}
	resp, body = get(t, e.srv.URL+realmPath+"/protocol/openid-connect/userinfo", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+access) })
	if resp.StatusCode != http.StatusOK || jsonBody(t, body)["email_verified"] != true {
		t.Errorf("userinfo: %d %s, want email_verified true", resp.StatusCode, body)
	}
}

func testCreateUserValidation(t *testing.T, e *dirEnv) {
	ctx := context.Background()
	tests := []struct {
		name       string
		u          portal.NewUser
		wantFields []string
	}{
		{"username with space", portal.NewUser{Username: "grace hopper", Email: "gh1@example.com", Role: portal.RoleCustomer}, []string{"username"}},
		{"bad email", portal.NewUser{Username: "gh2", Email: "grace", Role: portal.RoleCustomer}, []string{"email"}},
		{"no email, no username", portal.NewUser{Role: portal.RoleCustomer}, []string{"username", "email"}},
		{"control character in a name", portal.NewUser{Username: "gh3", Email: "gh3@example.com", FirstName: "G\x00", Role: portal.RoleCustomer}, []string{"firstName"}},
		{"unknown role", portal.NewUser{Username: "gh4", Email: "gh4@example.com", Role: "root"}, []string{"role"}},
	}
	for _, tt := range tests {
		_, err := e.dir.CreateUser(ctx, tt.u)
		var pe *portal.Error
		if !errors.As(err, &pe) || pe.Kind != portal.Invalid {
			t.Errorf("%s: %v, want Invalid", tt.name, err)
			continue
		}
		var got []string
		for _, f := range pe.Fields {
			got = append(got, f.Field)
		}
		if diff := cmp.Diff(tt.wantFields, got); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tt.name, diff)
		}
	}
	// No password is needed, and none is stored.
	u := e.user(t, "nopassword", portal.RoleSupport)
	a, err := e.accounts.GetAccountBySubject(ctx, u.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if a.PasswordHash != "" || a.EmailVerified || !a.Enabled || !cmp.Equal(a.Roles, []portal.Role{portal.RoleSupport}) {
		t.Errorf("stored account %+v, want enabled, no password, not verified, cp-support", a)
	}
	// Other failures of other methods.
	_, err = e.dir.CountEnabled(ctx, "root")
	if !portal.IsKind(err, portal.Invalid) {
		t.Errorf("CountEnabled of an unknown role: %v", err)
	}
	if err := e.dir.SetRole(ctx, "", portal.RoleAdmin); !portal.IsKind(err, portal.NotFound) {
		t.Errorf("SetRole of an empty subject: %v", err)
	}
}

func TestNewDirectory(t *testing.T) {
	t.Parallel()
	valid := func() DirectoryConfig {
		return DirectoryConfig{Accounts: newMemAccounts(), Mail: &mailbox{}, PublicURL: "https://portal.example.com/base/"}
	}
	tests := []struct {
		name    string
		edit    func(*DirectoryConfig)
		wantErr string
	}{
		{"valid", func(*DirectoryConfig) {}, ""},
		{"no accounts", func(c *DirectoryConfig) { c.Accounts = nil }, "Accounts"},
		{"no mail", func(c *DirectoryConfig) { c.Mail = nil }, "Mail"},
		{"no public URL", func(c *DirectoryConfig) { c.PublicURL = "" }, "PublicURL"},
		{"relative public URL", func(c *DirectoryConfig) { c.PublicURL = "/portal" }, "PublicURL"},
		{"public URL with fragment", func(c *DirectoryConfig) { c.PublicURL = "https://portal.example.com/#x" }, "PublicURL"},
		{"public URL with query", func(c *DirectoryConfig) { c.PublicURL = "https://portal.example.com/?a=b" }, "PublicURL"},
		{"ftp public URL", func(c *DirectoryConfig) { c.PublicURL = "ftp://portal.example.com" }, "PublicURL"},
		{"negative TTL", func(c *DirectoryConfig) { c.ResetTTL = -time.Hour }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.edit(&cfg)
			d, err := NewDirectory(cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewDirectory: %v", err)
				}
				want := map[portal.TokenKind]time.Duration{portal.TokenInvitation: 72 * time.Hour, portal.TokenPasswordReset: time.Hour}
				if d.publicURL != "https://portal.example.com/base" || !cmp.Equal(d.ttl, want) {
					t.Errorf("publicURL %q, ttl %v", d.publicURL, d.ttl)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestLogMailDeliversLinks checks the embedded default's delivery: with the Log sender the
// link reaches the operator's log, at WARN, and works.
func TestLogMailDeliversLinks(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := newDirEnv(t, newMemAccounts(), func(c *DirectoryConfig) {
		c.Mail = mail.NewLog(slog.New(slog.NewTextHandler(logs, nil)))
	})
	u := e.user(t, "logmail", portal.RoleCustomer)
	if err := e.dir.SendInvitation(context.Background(), u.Subject); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	m := regexp.MustCompile(`/invitation#token=([A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "to="+u.Email) {
		t.Fatalf("log lacks the invitation:\n%s", out)
	}
	e.redeem(t, "the logged link", portal.TokenInvitation, m[1], "logged-password", nil)
	// The directory's own log still has no token.
	if strings.Contains(e.logs.String(), m[1]) {
		t.Errorf("the directory logged the token")
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		72 * time.Hour:   "72 hours",
		time.Hour:        "1 hour",
		90 * time.Minute: "90 minutes",
		time.Minute:      "1 minute",
		30 * time.Second: "30 seconds",
		0:                "1 second",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
