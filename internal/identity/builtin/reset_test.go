package builtin

import (
	"cmp"
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var _ accountsByEmail = (*store.DB)(nil)

// gatedMail is a mailbox whose Send waits, while gate is set, until the gate is closed: a
// slow mail server.
type gatedMail struct {
	*mailbox
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gatedMail) Send(ctx context.Context, m mail.Message) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return g.mailbox.Send(ctx, m)
}

// resetEnv is two issuers ("replicas") over one database with one Directory mailing into
// mails, and these accounts: ada (customer), grace (disabled), ivy (invited, no password yet),
// lin and kim (for the limits), and two accounts that "shared@example.com" names, one by
// username and one by email.
type resetEnv struct {
	replicas [2]*browserEnv
	dir      *Directory
	mails    *gatedMail
	clock    *clock
	logs     *syncBuffer
	ada      *portal.Account
}

func newResetEnv(t *testing.T, db *store.DB) *resetEnv {
	t.Helper()
	e := &resetEnv{clock: newClock(), logs: &syncBuffer{}, mails: &gatedMail{mailbox: &mailbox{}}}
	var err error
	e.dir, err = NewDirectory(DirectoryConfig{Accounts: db, Mail: e.mails, PublicURL: publicURL, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for n := range e.replicas {
		iss, _, srv := startIssuer(t, db, e.clock, e.logs, func(c *Config) {
			c.Sessions = db
			c.WebOrigins = []string{webOrigin}
			c.Directory = e.dir
		})
		t.Cleanup(iss.Wait)
		e.replicas[n] = &browserEnv{iss: iss, srv: srv.URL, db: db, clock: e.clock, logs: e.logs}
	}
	ctx := context.Background()
	create := func(user, email string) *portal.Account {
		a, err := CreateAccount(ctx, db, NewAccount{Username: user, Email: email, FirstName: strings.ToUpper(user[:1]) + user[1:],
			Password: adaPassword, Role: portal.RoleCustomer})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	e.ada = create("ada", "ada@example.com")
	for _, u := range []string{"grace", "lin", "kim"} {
		create(u, u+"@example.com")
	}
	create("shared@example.com", "sam@example.com")
	create("tom", "shared@example.com")
	grace, err := db.GetAccountByUsername(ctx, "grace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateAccount(ctx, grace.Subject, func(a *portal.Account) error { a.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.CreateUser(ctx, portal.NewUser{Username: "ivy", Email: "ivy@example.com", Role: portal.RoleCustomer}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", e.logs.String())
		}
	})
	return e
}

var (
	forgotLink = regexp.MustCompile(`<div id="kc-form-options"><a href="([^"]+)">Forgot password\?</a></div>`)
	backLink   = regexp.MustCompile(`<div id="kc-form-options"><a href="([^"]+)">« Back to sign in</a></div>`)
)

// link returns the address of the link re matches in body, or fails.
func link(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link %s in:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

// resetForm opens the login page of the app's sign-in on r, follows "Forgot password?" and
// returns the reset form's page.
func resetFormPage(t *testing.T, r *browserEnv, b *browser) string {
	t.Helper()
	resp, body := b.get(t, r.authURL())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("auth: %d %s", resp.StatusCode, body)
	}
	resp, body = b.get(t, link(t, forgotLink, body))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<form id="kc-reset-password-form" method="post" action="`+r.iss.IssuerURL()+resetPath+`"`) {
		t.Fatalf("reset form: %d\n%s", resp.StatusCode, body)
	}
	return body
}

// requestReset asks r for a reset of login the way a browser does, from the login page on,
// and waits until the request has been handled in the background.
func requestReset(t *testing.T, r *browserEnv, b *browser, login string) (*http.Response, string) {
	t.Helper()
	form := resetFormPage(t, r, b)
	resp, body := b.post(t, r.srv+realmPath+resetPath, r.srv,
		url.Values{"auth_request": {formToken.FindStringSubmatch(form)[1]}, "username": {login}})
	r.iss.Wait()
	return resp, body
}

const sentText = "If an account matches, we have sent a link to its email address. It is valid for 1 hour."

func wantSentPage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<p id="kc-info-message" role="status">`+sentText+`</p>`) {
		t.Fatalf("reset answer: %d, want the neutral page; body:\n%s", resp.StatusCode, body)
	}
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newResetEnv(t, db)
		t.Run("link keeps the auth request", func(t *testing.T) { testResetLink(t, e, db) })
		t.Run("same answer for everyone", func(t *testing.T) { testResetNeutral(t, e) })
		t.Run("forged or foreign forms", func(t *testing.T) { testResetRefused(t, e) })
		t.Run("answered before the mail", func(t *testing.T) { testResetBackground(t, e) })
		t.Run("limits shared by replicas", func(t *testing.T) { testResetLimits(t, e) })
	})
}

// testResetLink follows "Forgot password?" and "Back to sign in" and signs in to the app the
// sign-in started from; an issuer without a Directory shows no link.
func testResetLink(t *testing.T, e *resetEnv, db *store.DB) {
	r := e.replicas[0]
	b := r.browser(t, "10.30.0.1")
	resp, body := b.get(t, r.authURL("login_hint", "ada"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("auth: %d %s", resp.StatusCode, body)
	}
	resetURL := link(t, forgotLink, body)
	if !strings.HasPrefix(resetURL, r.iss.IssuerURL()+resetPath+"?auth_request=") {
		t.Errorf("Forgot password? links to %s", resetURL)
	}
	resp, body = b.get(t, resetURL)
	for _, want := range []string{
		`<form id="kc-reset-password-form" method="post" action="` + r.iss.IssuerURL() + resetPath + `"`,
		`<label for="username">Username or email</label>`,
		`<input id="username" name="username" type="text" value="ada"`,
		`name="auth_request" value="`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("reset form lacks %q:\n%s", want, body)
		}
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self';") {
		t.Errorf("reset form: %d, headers %v", resp.StatusCode, resp.Header)
	}
	// Back from the form, and back from the answer, to a login form that completes the
	// original sign-in.
	for _, page := range []string{"form", "answer"} {
		t.Run("back from the "+page, func(t *testing.T) {
			back := link(t, backLink, body)
			if page == "answer" {
				resp, answer := b.post(t, r.srv+realmPath+resetPath, r.srv,
					url.Values{"auth_request": {formToken.FindStringSubmatch(body)[1]}, "username": {"nobody"}})
				r.iss.Wait()
				wantSentPage(t, resp, answer)
				back = link(t, backLink, answer)
			}
			resp, login := b.get(t, back)
			m := formToken.FindStringSubmatch(login)
			if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(login, `value="ada"`) {
				t.Fatalf("back to sign in: %d\n%s", resp.StatusCode, login)
			}
			resp, _ = r.submit(t, b, m[1], "ada", adaPassword)
			cb := callback(t, resp, "fragment")
			if cb.Get("state") != "st-123" || cb.Get("code") == "" {
				t.Fatalf("callback %v", cb)
			}
			r.redeem(t, cb.Get("code"))
		})
	}
	// The token of the link works only in the browser it was made for.
	other := r.browser(t, "10.30.0.2")
	other.get(t, r.authURL()) // a browser cookie of its own
	if resp, body := other.get(t, resetURL); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, textsEN.ResetFormInvalid) {
		t.Errorf("reset form in another browser: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := other.get(t, r.srv+realmPath+authenticatePath+"?auth_request=x.y"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("back link with a forged token: %d", resp.StatusCode)
	}

	// Without a Directory, there is no link and no form.
	plain, _, srv := startIssuer(t, db, e.clock, e.logs, func(c *Config) { c.Sessions = db })
	pe := &browserEnv{iss: plain, srv: srv.URL}
	pb := pe.browser(t, "10.30.0.3")
	if resp, body := pb.get(t, pe.authURL()); resp.StatusCode != http.StatusOK || strings.Contains(body, "Forgot password") {
		t.Errorf("login page without a Directory: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := pb.get(t, pe.srv+realmPath+resetPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("reset form without a Directory: %d", resp.StatusCode)
	}
}

// testResetNeutral asks for every kind of name from one browser: the answers are
// byte-identical, and only an enabled account with a password gets a mail, whose link sets a
// password that signs in.
func testResetNeutral(t *testing.T, e *resetEnv) {
	r := e.replicas[1]
	b := r.browser(t, "10.31.0.1")
	tests := []struct {
		name, login string
		wantMailTo  string // "" for none
	}{
		{name: "unknown username", login: "nobody"},
		{name: "unknown email", login: "nobody@example.com"},
		{name: "disabled", login: "grace"},
		{name: "disabled by email", login: "grace@example.com"},
		{name: "invitation not accepted", login: "ivy"},
		{name: "username of one, email of another", login: "shared@example.com"},
		{name: "existing by username", login: " ada ", wantMailTo: "ada@example.com"},
		{name: "existing by email, any case", login: "ADA@Example.COM", wantMailTo: "ada@example.com"},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.mails.all())
			resp, body := requestReset(t, r, b, tt.login)
			wantSentPage(t, resp, body)
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("answer differs from the first one:\n%s\nfirst:\n%s", body, first)
			}
			if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
				t.Errorf("answer sets cookies %v", c)
			}
			got := e.mails.all()[before:]
			switch {
			case tt.wantMailTo == "" && len(got) != 0:
				t.Errorf("mailed %+v, want nothing", got)
			case tt.wantMailTo != "" && (len(got) != 1 || got[0].To != tt.wantMailTo ||
				got[0].Subject != "Reset your customer portal password"):
				t.Errorf("mailed %+v, want one reset mail to %s", got, tt.wantMailTo)
			}
		})
	}
	if !strings.Contains(e.logs.String(), `msg=audit action=user.password_reset_sent resourceType=account resourceId=`+e.ada.Subject) {
		t.Errorf("no audit line for ada's reset")
	}

	// The link of the latest mail works once, the earlier one not at all; then the new
	// password signs in through the login form.
	ctx := context.Background()
	toks := e.mails.tokens(t, "ada@example.com", portal.TokenPasswordReset)
	if _, err := e.dir.RedeemToken(ctx, portal.TokenPasswordReset, toks[len(toks)-2], "older-link-pw"); !portal.IsKind(err, portal.NotFound) {
		t.Errorf("earlier link: %v, want NotFound", err)
	}
	const newPassword = "difference-engine"
	if sub, err := e.dir.RedeemToken(ctx, portal.TokenPasswordReset, toks[len(toks)-1], newPassword); err != nil || sub != e.ada.Subject {
		t.Fatalf("RedeemToken = %q, %v", sub, err)
	}
	if _, err := e.dir.RedeemToken(ctx, portal.TokenPasswordReset, toks[len(toks)-1], newPassword); !portal.IsKind(err, portal.NotFound) {
		t.Errorf("second use of the link: %v, want NotFound", err)
	}
	resp, body := b.get(t, link(t, backLink, first))
	m := formToken.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("back to sign in: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := r.submit(t, b, m[1], "ada", adaPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.get(t, link(t, backLink, first))
	resp, _ = r.submit(t, b, formToken.FindStringSubmatch(body)[1], "ada", newPassword)
	r.redeem(t, callback(t, resp, "fragment").Get("code"))
}

// testResetRefused: a POST from another origin, without the form's token, with a token of
// another browser or of another form, or not a form at all, sends nothing.
func testResetRefused(t *testing.T, e *resetEnv) {
	r := e.replicas[0]
	b := r.browser(t, "10.32.0.1")
	form := resetFormPage(t, r, b)
	tok := formToken.FindStringSubmatch(form)[1]
	resp, loginPage := b.get(t, r.authURL())
	loginTok := formToken.FindStringSubmatch(loginPage)[1]
	other := r.browser(t, "10.32.0.2")
	otherTok := formToken.FindStringSubmatch(resetFormPage(t, r, other))[1]

	tests := []struct {
		name        string
		origin      string // "" sends none
		contentType string
		form        url.Values
		wantStatus  int
		wantText    string
	}{
		{name: "foreign origin", origin: "https://evil.example", form: url.Values{"auth_request": {tok}, "username": {"ada"}},
			wantStatus: http.StatusForbidden, wantText: "did not come from the password reset page"},
		{name: "web origin is still foreign", origin: webOrigin, form: url.Values{"auth_request": {tok}, "username": {"ada"}},
			wantStatus: http.StatusForbidden, wantText: "did not come from the password reset page"},
		{name: "no token", origin: r.srv, form: url.Values{"username": {"ada"}},
			wantStatus: http.StatusBadRequest, wantText: textsEN.ResetFormInvalid},
		{name: "forged token", origin: r.srv, form: url.Values{"auth_request": {tok + "x"}, "username": {"ada"}},
			wantStatus: http.StatusBadRequest, wantText: textsEN.ResetFormInvalid},
		{name: "token of another browser", origin: r.srv, form: url.Values{"auth_request": {otherTok}, "username": {"ada"}},
			wantStatus: http.StatusBadRequest, wantText: textsEN.ResetFormInvalid},
		{name: "token of the login form", origin: "", form: url.Values{"auth_request": {loginTok}, "username": {"ada"}},
			wantStatus: http.StatusBadRequest, wantText: textsEN.ResetFormInvalid},
		{name: "not a form", origin: r.srv, contentType: "application/json", form: url.Values{"auth_request": {tok}, "username": {"ada"}},
			wantStatus: http.StatusBadRequest, wantText: "Invalid Request"},
		{name: "no username", origin: r.srv, form: url.Values{"auth_request": {tok}, "username": {"  "}},
			wantStatus: http.StatusBadRequest, wantText: `<p id="input-error-username" class="alert" role="alert">` + textsEN.ResetMissing},
	}
	before := len(e.mails.all())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, r.srv+realmPath+resetPath, strings.NewReader(tt.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", cmp.Or(tt.contentType, "application/x-www-form-urlencoded"))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, body := b.do(t, req)
			r.iss.Wait()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) || strings.Contains(body, sentText) {
				t.Errorf("got %d, want %d with %q:\n%s", resp.StatusCode, tt.wantStatus, tt.wantText, body)
			}
		})
	}
	if resp, _ := b.get(t, r.srv+realmPath+resetPath); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET without a token: %d", resp.StatusCode)
	}
	if got := e.mails.all()[before:]; len(got) != 0 {
		t.Errorf("mailed %+v, want nothing", got)
	}

	// A form submitted after formTTL is shown again, with the name kept, and sends nothing.
	e.clock.Advance(formTTL)
	resp, body := b.post(t, r.srv+realmPath+resetPath, r.srv, url.Values{"auth_request": {tok}, "username": {"ada"}})
	r.iss.Wait()
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, textsEN.ResetTimedOut) || !strings.Contains(body, `value="ada"`) {
		t.Errorf("expired form: %d\n%s", resp.StatusCode, body)
	}
	if got := e.mails.all()[before:]; len(got) != 0 {
		t.Errorf("mailed %+v after an expired form, want nothing", got)
	}
}

// testResetBackground: the answer does not wait for the mail server.
func testResetBackground(t *testing.T, e *resetEnv) {
	r := e.replicas[0]
	b := r.browser(t, "10.33.0.1")
	form := resetFormPage(t, r, b)
	gate := make(chan struct{})
	e.mails.mu.Lock()
	e.mails.gate = gate
	e.mails.mu.Unlock()
	before := len(e.mails.all())
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, body := b.post(t, r.srv+realmPath+resetPath, r.srv,
			url.Values{"auth_request": {formToken.FindStringSubmatch(form)[1]}, "username": {"kim"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, sentText) {
			t.Errorf("answer %d\n%s", resp.StatusCode, body)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("the answer waited for the mail server")
	}
	e.mails.mu.Lock()
	e.mails.gate = nil
	e.mails.mu.Unlock()
	close(gate)
	<-done
	r.iss.Wait()
	if got := e.mails.all()[before:]; len(got) != 1 || got[0].To != "kim@example.com" {
		t.Errorf("mailed %+v, want one mail to kim", got)
	}
}

// testResetLimits: requests for one account and from one address are counted in the
// database, so two replicas together allow no more than one; a limited request gets the same
// answer and sends nothing, until the window has passed.
func testResetLimits(t *testing.T, e *resetEnv) {
	e.clock.Advance(resetWindow) // earlier subtests' counts are gone
	mailsTo := func(email string) int { return len(e.mails.to(email)) }

	t.Run("per account", func(t *testing.T) {
		before := mailsTo("lin@example.com")
		for n := range resetUserLimit + 2 {
			r := e.replicas[n%2]
			login := "lin"
			if n%3 == 1 {
				login = "LIN@example.com" // the same account by email counts the same
			}
			resp, body := requestReset(t, r, r.browser(t, "10.34.0."+strconv.Itoa(n+1)), login)
			wantSentPage(t, resp, body)
		}
		if got := mailsTo("lin@example.com") - before; got != resetUserLimit {
			t.Errorf("%d mails to lin, want %d", got, resetUserLimit)
		}
		if !strings.Contains(e.logs.String(), `msg="password reset not sent: too many requests for the account"`) {
			t.Error("the limited requests were not logged")
		}
		e.clock.Advance(resetWindow)
		r := e.replicas[0]
		requestReset(t, r, r.browser(t, "10.34.1.1"), "lin")
		if got := mailsTo("lin@example.com") - before; got != resetUserLimit+1 {
			t.Errorf("%d mails to lin after the window, want %d", got, resetUserLimit+1)
		}
	})

	t.Run("per client address", func(t *testing.T) {
		const ip = "10.35.0.1"
		for n := range resetIPLimit {
			r := e.replicas[n%2]
			resp, body := requestReset(t, r, r.browser(t, ip), "unknown-"+strconv.Itoa(n))
			wantSentPage(t, resp, body)
		}
		before := mailsTo("kim@example.com")
		for n, r := range e.replicas {
			resp, body := requestReset(t, r, r.browser(t, ip), "kim")
			wantSentPage(t, resp, body)
			if got := mailsTo("kim@example.com") - before; got != 0 {
				t.Errorf("replica %d mailed kim from a limited address", n)
			}
		}
		if !strings.Contains(e.logs.String(), `msg="password reset not sent: too many requests from the client" client_ip=`+ip) {
			t.Error("the limited requests were not logged")
		}
		r := e.replicas[1]
		requestReset(t, r, r.browser(t, "10.35.0.2"), "kim")
		if got := mailsTo("kim@example.com") - before; got != 1 {
			t.Errorf("%d mails to kim from another address, want 1", got)
		}
	})
}

// TestDirectoryNeedsEmailLookup: an issuer refuses a Directory that cannot find accounts by
// email, instead of quietly ignoring what users type there.
func TestDirectoryNeedsEmailLookup(t *testing.T) {
	t.Parallel()
	dir, err := NewDirectory(DirectoryConfig{Accounts: &recordingTokens{AccountDirectory: newMemAccounts()}, Mail: &mailbox{}, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Issuer: "http://localhost/realms/portal", DataDir: t.TempDir(), Accounts: newMemAccounts(), Directory: dir})
	if err == nil || !strings.Contains(err.Error(), "GetAccountByEmail") {
		t.Errorf("New = %v, want an error naming GetAccountByEmail", err)
	}
}
