package builtin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/identity/identitytest"
	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/portal"
)

const publicURL = "http://portal.example.com:8080"

// mailbox is a mail.Sender that records every message it is given. With failWith set it
// records the message and then fails, as an unreachable server would after the portal
// composed the mail.
type mailbox struct {
	mu       sync.Mutex
	msgs     []mail.Message
	failWith error
}

var _ mail.Sender = (*mailbox)(nil)

func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return m.failWith
}

func (m *mailbox) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWith = err
}

// to returns the messages sent to email, oldest first.
func (m *mailbox) to(email string) []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mail.Message
	for _, msg := range m.msgs {
		if msg.To == email {
			out = append(out, msg)
		}
	}
	return out
}

// all returns every message.
func (m *mailbox) all() []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail.Message(nil), m.msgs...)
}

// linkPattern matches a mailed link on a line of its own.
var linkPattern = regexp.MustCompile(`(?m)^(\S+?)(/invitation|/password-reset)#token=([A-Za-z0-9_-]+)$`)

var linkPaths = map[portal.TokenKind]string{
	portal.TokenInvitation:    InvitationPath,
	portal.TokenPasswordReset: PasswordResetPath,
}

// tokens returns the tokens of kind mailed to email, oldest first.
func (m *mailbox) tokens(t *testing.T, email string, kind portal.TokenKind) []string {
	t.Helper()
	var out []string
	for _, msg := range m.to(email) {
		match := linkPattern.FindStringSubmatch(msg.Text)
		if match == nil {
			t.Fatalf("no link in the mail to %s:\n%s", email, msg.Text)
		}
		if match[1] != publicURL {
			t.Errorf("link base %q, want %q", match[1], publicURL)
		}
		if match[2] == linkPaths[kind] {
			out = append(out, match[3])
		}
	}
	return out
}

// lastToken returns the token of kind most recently mailed to email, or fails the test.
func (m *mailbox) lastToken(t *testing.T, email string, kind portal.TokenKind) string {
	t.Helper()
	toks := m.tokens(t, email, kind)
	if len(toks) == 0 {
		t.Fatalf("no %s mailed to %s", kind, email)
	}
	return toks[len(toks)-1]
}

// recordingTokens passes everything to the store it wraps and records the tokens it is given
// to store, so that tests see exactly what reaches the database.
type recordingTokens struct {
	portal.AccountDirectory
	mu  sync.Mutex
	put []portal.AccountToken
}

func (r *recordingTokens) PutAccountToken(ctx context.Context, t portal.AccountToken) error {
	r.mu.Lock()
	r.put = append(r.put, t)
	r.mu.Unlock()
	return r.AccountDirectory.PutAccountToken(ctx, t)
}

func (r *recordingTokens) stored() []portal.AccountToken {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]portal.AccountToken(nil), r.put...)
}

// dirEnv is a Directory and an issuer over one account store, with a recording mailbox, a
// settable clock shared by both, and one log for both.
type dirEnv struct {
	dir      *Directory
	accounts *recordingTokens
	mails    *mailbox
	clock    *clock
	logs     *syncBuffer
	iss      *Issuer
	srv      *httptest.Server
}

func newDirEnv(t *testing.T, accounts portal.AccountDirectory, edit ...func(*DirectoryConfig)) *dirEnv {
	t.Helper()
	e := &dirEnv{accounts: &recordingTokens{AccountDirectory: accounts}, mails: &mailbox{}, clock: newClock(), logs: &syncBuffer{}}
	e.iss, _, e.srv = startIssuer(t, e.accounts, e.clock, e.logs)
	cfg := DirectoryConfig{
		Accounts:  e.accounts,
		Mail:      e.mails,
		PublicURL: publicURL + "/",
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range edit {
		f(&cfg)
	}
	var err error
	if e.dir, err = NewDirectory(cfg); err != nil {
		t.Fatalf("NewDirectory: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", e.logs.String())
		}
	})
	return e
}

// login runs a password grant; each username counts failures as its own client, so that the
// per-address limit of failed logins never spills from one scenario into another.
func (e *dirEnv) login(t *testing.T, username, password string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+tokenPath, strings.NewReader(passwordForm(username, password).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fromIP("conformance-" + username)(req)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token endpoint: %d %s", resp.StatusCode, body)
	}
	return nil
}

// harness adapts the environment to the conformance suite.
func (e *dirEnv) harness() identitytest.Harness {
	return identitytest.Harness{
		New: func(*testing.T) portal.Identity { return e.dir },
		Accept: func(t *testing.T, id portal.Identity, subject string, kind portal.TokenKind, password string) {
			t.Helper()
			u, err := id.GetUser(context.Background(), subject)
			if err != nil {
				t.Fatalf("GetUser %s: %v", subject, err)
			}
			r, ok := id.(portal.TokenRedeemer)
			if !ok {
				t.Fatalf("%T is not a TokenRedeemer", id)
			}
			got, err := r.RedeemToken(context.Background(), kind, e.mails.lastToken(t, u.Email, kind), password)
			if err != nil {
				t.Fatalf("RedeemToken %s for %s: %v", kind, u.Username, err)
			}
			if got != subject {
				t.Fatalf("RedeemToken returned subject %s, want %s", got, subject)
			}
		},
		Login:   e.login,
		MailsTo: func(_ *testing.T, email string) int { return len(e.mails.to(email)) },
	}
}

// user creates a pending user with a unique username and returns it.
func (e *dirEnv) user(t *testing.T, label string, role portal.Role) *portal.IdentityUser {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := label + "-" + hex.EncodeToString(b[:])
	u, err := e.dir.CreateUser(context.Background(), portal.NewUser{
		Username: name, Email: name + "@example.com", FirstName: "Grace", LastName: "Hopper", Role: role,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// invite creates a user, sends the invitation and returns the user and the mailed token.
func (e *dirEnv) invite(t *testing.T, label string) (*portal.IdentityUser, string) {
	t.Helper()
	u := e.user(t, label, portal.RoleCustomer)
	if err := e.dir.SendInvitation(context.Background(), u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	return u, e.mails.lastToken(t, u.Email, portal.TokenInvitation)
}

// accepted creates a user who has accepted the invitation and returns it with its password.
func (e *dirEnv) accepted(t *testing.T, label string) (*portal.IdentityUser, string) {
	t.Helper()
	u, tok := e.invite(t, label)
	pw := "first-" + label + "-password"
	if _, err := e.dir.RedeemToken(context.Background(), portal.TokenInvitation, tok, pw); err != nil {
		t.Fatalf("RedeemToken: %v", err)
	}
	return u, pw
}

// redeem calls RedeemToken and checks the error kind (nil for success).
func (e *dirEnv) redeem(t *testing.T, what string, kind portal.TokenKind, tok, pw string, want *portal.Kind) {
	t.Helper()
	sub, err := e.dir.RedeemToken(context.Background(), kind, tok, pw)
	if want == nil {
		if err != nil || sub == "" {
			t.Errorf("%s: RedeemToken = %q, %v; want success", what, sub, err)
		}
		return
	}
	if !portal.IsKind(err, *want) || sub != "" {
		t.Errorf("%s: RedeemToken = %q, %v; want %s", what, sub, err, *want)
	}
}

func kind(k portal.Kind) *portal.Kind { return &k }

// clockSkew keeps expiry checks away from the exact boundary.
const clockSkew = 2 * time.Second

// TestConformance runs the identity conformance suite against the built-in provider over the
// in-memory account store (the real store's run is in store_test.go).
func TestConformance(t *testing.T) {
	t.Parallel()
	identitytest.Run(t, newDirEnv(t, newMemAccounts()).harness())
}
