package builtin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// Self-service password reset, after Keycloak's reset-credentials flow: the login page links
// "Forgot password?" to a form asking for a username or email, whose POST mails the matching
// account the Directory's single-use password-reset link (the same mail and token as the
// admin API's reset). The answer is one neutral page whatever matched, so that the form does
// not tell who has an account; the requests are limited per client IP and per account in the
// shared database. Every page carries the sign-in's signed authorization request, so that
// "Back to sign in" returns to the application the user came from.
const (
	resetPath = "/login-actions/reset-credentials"

	// Password-reset requests allowed per account and per client IP within resetWindow. A
	// request over either limit gets the same page and sends nothing.
	resetUserLimit = 5
	resetIPLimit   = 20
	resetWindow    = time.Hour

	// resetWorkers bounds the reset requests handled at once; a request waits for a slot
	// before it is answered, so a flood queues instead of piling up goroutines.
	resetWorkers = 8
	// resetJobTimeout bounds the lookup, counting and mailing of one request, which run after
	// its answer.
	resetJobTimeout = 30 * time.Second
)

func resetUserKey(subject string) string { return "reset-user:" + subject }
func resetIPKey(ip string) string        { return "reset-ip:" + ip }

var (
	msgResetStartAgain msg = func(t *texts) string { return t.ResetFormInvalid }
	msgResetMissing    msg = func(t *texts) string { return t.ResetMissing }
	msgResetTimedOut   msg = func(t *texts) string { return t.ResetTimedOut }
)

// Wait blocks until the password-reset requests answered so far have been handled (their
// mails sent, or the reason not to logged). Call it before closing the account store.
func (i *Issuer) Wait() { i.resetJobs.Wait() }

// resetCredentials serves the "Forgot password?" form (GET, with the login page's
// auth_request) and takes its POST.
func (i *Issuer) resetCredentials(w http.ResponseWriter, r *http.Request) {
	if i.dir == nil {
		noStore(w)
		i.errorPage(w, r, http.StatusNotFound, func(t *texts) string { return t.ResetOff })
		return
	}
	if r.Method == http.MethodGet {
		noStore(w)
		if i.sessions == nil {
			i.errorPage(w, r, http.StatusNotFound, func(t *texts) string { return t.BrowserSignInOff })
			return
		}
		ar, err := i.openAuthToken(loginPurpose, r.URL.Query().Get("auth_request"), browserHash(r))
		if err != nil && !errors.Is(err, errFormExpired) {
			i.log.Info("password reset form refused: "+err.Error(), "client_ip", i.clientIP(r))
			i.errorPage(w, r, http.StatusBadRequest, msgResetStartAgain)
			return
		}
		i.resetForm(w, r, ar, http.StatusOK, ar.LoginHint, nil)
		return
	}
	if !i.readPageForm(w, r, "password reset", func(t *texts) formTexts { return t.ResetForm }) {
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("username"))
	ar, err := i.openAuthToken(resetPurpose, r.PostForm.Get("auth_request"), browserHash(r))
	switch {
	case errors.Is(err, errFormExpired):
		i.resetForm(w, r, ar, http.StatusOK, login, msgResetTimedOut)
		return
	case err != nil:
		i.log.Info("password reset form refused: "+err.Error(), "client_ip", i.clientIP(r))
		i.errorPage(w, r, http.StatusBadRequest, msgResetStartAgain)
		return
	case login == "":
		i.resetForm(w, r, ar, http.StatusBadRequest, "", msgResetMissing)
		return
	}

	// Up to here, and from here on, the work does not depend on what login names: one counter
	// of the client IP, a slot, the page. Looking up the account, counting it and mailing
	// happen after the answer (see startReset).
	ip := i.clientIP(r)
	allowed, err := i.countReset(r.Context(), resetIPKey(ip), resetIPLimit)
	switch {
	case err != nil && r.Context().Err() != nil:
		i.errorPage(w, r, http.StatusServiceUnavailable, func(t *texts) string { return t.Cancelled })
		return
	case err != nil:
		i.serverErrorPage(w, r, "password reset: count request", err)
		return
	case !allowed:
		i.log.Warn("password reset not sent: too many requests from the client", "client_ip", ip,
			"limit", resetIPLimit, "window", resetWindow.String())
	case !i.startReset(r, login, ip):
		i.errorPage(w, r, http.StatusServiceUnavailable, func(t *texts) string { return t.Cancelled })
		return
	}
	i.resetSent(w, r, ar)
}

// startReset hands the request to a background job once a slot is free; false when the client
// went away first.
//
// Why in the background rather than padding the answer to a fixed time: mailing goes to an
// SMTP server whose latency varies from milliseconds to the sender's timeout, so no fixed pad
// would both hide it and keep the page quick, and the lookups and counting differ between a
// matching and an unknown name too. Answered first, every request costs the client the same
// work (form check, IP counter, slot, page); the slot wait depends on the load only.
func (i *Issuer) startReset(r *http.Request, login, ip string) bool {
	select {
	case i.resetSlots <- struct{}{}:
	case <-r.Context().Done():
		return false
	}
	// The request's values (its id in the log) without its cancellation: the job outlives it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), resetJobTimeout)
	i.resetJobs.Add(1)
	go func() {
		defer i.resetJobs.Done()
		defer func() { <-i.resetSlots }()
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				i.log.ErrorContext(ctx, "password reset: panic", "panic", fmt.Sprint(p))
			}
		}()
		i.sendReset(ctx, login, ip)
	}()
	return true
}

// sendReset mails the password-reset link to the account login names, if there is exactly one
// that may have it and it has not had resetUserLimit of them in the last resetWindow.
func (i *Issuer) sendReset(ctx context.Context, login, ip string) {
	a, err := i.dir.resettableAccount(ctx, login)
	if portal.IsKind(err, portal.NotFound) {
		// What was typed is not logged: it may be a password typed into the wrong field.
		i.log.InfoContext(ctx, "password reset not sent: no enabled account with a password matches", "client_ip", ip)
		return
	}
	if err != nil {
		i.log.ErrorContext(ctx, "password reset: find account", "client_ip", ip, "err", err)
		return
	}
	allowed, err := i.countReset(ctx, resetUserKey(a.Subject), resetUserLimit)
	if err != nil {
		i.log.ErrorContext(ctx, "password reset: count request", "sub", a.Subject, "client_ip", ip, "err", err)
		return
	}
	if !allowed {
		i.log.WarnContext(ctx, "password reset not sent: too many requests for the account", "sub", a.Subject,
			"username", a.Username, "client_ip", ip, "limit", resetUserLimit, "window", resetWindow.String())
		return
	}
	if err := i.dir.sendPasswordReset(ctx, a); err != nil {
		// The directory has logged the mail server's answer.
		i.log.ErrorContext(ctx, "password reset not sent", "sub", a.Subject, "client_ip", ip, "err", err)
		return
	}
	// The admin API's reset is recorded as the audit event user.password_reset_sent by the
	// portal service, which owns the audit log and the portal's user ids; the issuer has
	// neither, so this one is a structured log line with the same action name.
	i.log.InfoContext(ctx, "audit", "action", "user.password_reset_sent", "resourceType", "account",
		"resourceId", a.Subject, "username", a.Username, "actor", "self-service", "client_ip", ip)
}

// countReset counts a password-reset request against key, unless key has had limit of them in
// the last resetWindow: then allowed is false and nothing is counted.
func (i *Issuer) countReset(ctx context.Context, key string, limit int) (allowed bool, err error) {
	now := i.now().Truncate(time.Microsecond)
	err = i.guard.store.UpdateLoginFailures(ctx, []string{key}, now.Add(-counterRetention), func(f [][]time.Time) error {
		ts := inWindow(f[0], now.Add(-resetWindow))
		allowed = len(ts) < limit
		if allowed {
			ts = addFailure(ts, now, limit)
		}
		f[0] = ts
		return nil
	})
	if err != nil {
		return false, err
	}
	return allowed, nil
}

// resetForm shows the "Forgot password?" form for ar, with username filled in and msg as the
// field's error when not empty.
func (i *Issuer) resetForm(w http.ResponseWriter, r *http.Request, ar *authRequest, status int, username string, m msg) {
	browser := browserHash(r)
	now := i.now()
	tok, err := i.sealAuthToken(resetPurpose, *ar, browser, now)
	if err != nil {
		i.serverErrorPage(w, r, "password reset form: seal", err)
		return
	}
	back, err := i.backToLogin(ar, browser, now)
	if err != nil {
		i.serverErrorPage(w, r, "password reset form: seal", err)
		return
	}
	t := textsFor(r)
	i.page(w, r, status, "", pageData{Kind: "reset", Title: t.ResetTitle, Action: i.issuer + resetPath,
		Token: tok, Username: username, Error: t.pick(m), BackURL: back})
}

// resetSent is the one answer to every accepted reset request.
func (i *Issuer) resetSent(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	back, err := i.backToLogin(ar, browserHash(r), i.now())
	if err != nil {
		i.serverErrorPage(w, r, "password reset: seal", err)
		return
	}
	t := textsFor(r)
	i.page(w, r, http.StatusOK, "", pageData{Kind: "reset-sent", Title: t.ResetSentTitle, BackURL: back,
		Info: t.ResetSent(i.dir.resetTTL())})
}

// backToLogin is the address of the login form for ar in this browser (GET authenticatePath).
func (i *Issuer) backToLogin(ar *authRequest, browser string, now time.Time) (string, error) {
	tok, err := i.sealAuthToken(loginPurpose, *ar, browser, now)
	if err != nil {
		return "", err
	}
	return i.issuer + authenticatePath + "?" + url.Values{"auth_request": {tok}}.Encode(), nil
}

// resetURL is the address of the "Forgot password?" form for the login form's token, or ""
// when password reset is off.
func (i *Issuer) resetURL(loginToken string) string {
	if i.dir == nil {
		return ""
	}
	return i.issuer + resetPath + "?" + url.Values{"auth_request": {loginToken}}.Encode()
}

// restartLogin shows the login form again for the auth request of a link from the issuer's own
// pages ("Back to sign in"): GET authenticatePath?auth_request=<login form token>. An expired
// token of this browser still works, as it does when the login form is posted late.
func (i *Issuer) restartLogin(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if i.sessions == nil {
		i.errorPage(w, r, http.StatusNotFound, func(t *texts) string { return t.BrowserSignInOff })
		return
	}
	ar, err := i.openAuthToken(loginPurpose, r.URL.Query().Get("auth_request"), browserHash(r))
	if err != nil && !errors.Is(err, errFormExpired) {
		i.log.Info("login link refused: "+err.Error(), "client_ip", i.clientIP(r))
		i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.SignInLinkInvalid })
		return
	}
	i.loginForm(w, r, ar, http.StatusOK, nil)
}
