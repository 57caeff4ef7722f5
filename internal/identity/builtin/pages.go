package builtin

import (
	"bytes"
	"crypto/rand"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// resources are the static files of the sign-in pages, served under <issuer>/resources/ and,
// for keycloak-js's third-party cookie check, <issuer>/protocol/openid-connect/3p-cookies/.
//
//go:embed resources/login.css resources/step1.html resources/step1.js resources/step2.html resources/step2.js
var resources embed.FS

// The pages use Keycloak's element ids and field names (kc-form-login, username, password,
// kc-login, input-error, kc-error-message, kc-form-options holding "Forgot password?"; on
// login-reset-password.ftl's page kc-reset-password-form, username, input-error-username and
// kc-form-options holding the way back; kc-info-message as on info.ftl; on logout-confirm.ftl's
// page kc-logout-confirm, session_code and the kc-logout button), so that one browser test
// runs against either server.
// They run no script, inline or other, and style themselves from one stylesheet.
var pages = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{{.Title}} · {{.T.Product}}</title>
<link rel="stylesheet" href="{{.CSS}}">
</head>
<body>
<main>
<p class="product">{{.T.Product}}</p>
<h1>{{.Title}}</h1>
{{- if eq .Kind "login"}}
{{- if .Error}}
<p id="input-error" class="alert" role="alert">{{.Error}}</p>
{{- end}}
<form id="kc-form-login" method="post" action="{{.Action}}" novalidate>
<input type="hidden" name="auth_request" value="{{.Token}}">
<label for="username">{{.T.Username}}</label>
<input id="username" name="username" type="text" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{if not .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="input-error"{{end}}>
<label for="password">{{.T.Password}}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{{if .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="input-error"{{end}}>
<input id="kc-login" name="login" type="submit" value="{{.T.SignIn}}">
{{- if .ResetURL}}
<div id="kc-form-options"><a href="{{.ResetURL}}">{{.T.ForgotPassword}}</a></div>
{{- end}}
</form>
{{- else if eq .Kind "reset"}}
<p class="muted">{{.T.ResetIntro}}</p>
{{- if .Error}}
<p id="input-error-username" class="alert" role="alert">{{.Error}}</p>
{{- end}}
<form id="kc-reset-password-form" method="post" action="{{.Action}}" novalidate>
<input type="hidden" name="auth_request" value="{{.Token}}">
<label for="username">{{.T.UsernameOrEmail}}</label>
<input id="username" name="username" type="text" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus{{if .Error}} aria-invalid="true" aria-describedby="input-error-username"{{end}}>
<input type="submit" value="{{.T.SendLink}}">
<div id="kc-form-options"><a href="{{.BackURL}}">{{.T.BackToSignIn}}</a></div>
</form>
{{- else if eq .Kind "reset-sent"}}
<p id="kc-info-message" role="status">{{.Info}}</p>
<div id="kc-form-options"><a href="{{.BackURL}}">{{.T.BackToSignIn}}</a></div>
{{- else if eq .Kind "logout-confirm"}}
<div id="kc-logout-confirm">
<p id="kc-logout-question">{{.T.SignOutQuestion}}</p>
<form method="post" action="{{.Action}}" aria-labelledby="kc-logout-question">
<input type="hidden" name="session_code" value="{{.Token}}">
<input id="kc-logout" name="confirmLogout" type="submit" value="{{.T.SignOut}}" autofocus>
</form>
</div>
{{- else if eq .Kind "error"}}
<div id="kc-error-message" role="alert"><p class="alert">{{.Error}}</p></div>
{{- else}}
<p id="kc-logout-message">{{.T.SignedOut}}</p>
<p class="muted">{{.T.CloseWindow}}</p>
{{- end}}
</main>
</body>
</html>
`))

type pageData struct {
	Kind, Title, CSS, Action, Token, Username, Error string
	// T are the texts of the page's language; page sets them from the request when nil.
	T *texts
	// ResetURL is the login page's "Forgot password?" link ("" hides it); BackURL the reset
	// pages' link back to the login form; Info the text of an information page.
	ResetURL, BackURL, Info string
}

// page writes one of the sign-in pages with a strict policy: no script, styles from this
// server only, forms posting only to this server (and, for the login form, redirecting to the
// client's origin, which browsers check against form-action too), never framed.
//
// The language follows r's Accept-Language (see textsFor); r may be nil for English.
func (i *Issuer) page(w http.ResponseWriter, r *http.Request, status int, formTarget string, d pageData) {
	d.CSS = i.cookiePath + "/resources/login.css"
	if d.T == nil {
		d.T = textsFor(r)
	}
	var buf bytes.Buffer
	if err := pages.Execute(&buf, d); err != nil {
		i.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	formAction := "'self'"
	if formTarget != "" {
		formAction += " " + formTarget
	}
	h := w.Header()
	h.Add("Vary", "Accept-Language")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
	// form's POST, which sameOrigin (rightly) refuses; other origins still get no Referer.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Type", "text/html; charset=utf-8")
	noStore(w)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// loginForm shows the login form for ar, bound to this browser's cookie (set when missing).
func (i *Issuer) loginForm(w http.ResponseWriter, r *http.Request, ar *authRequest, status int, m msg) {
	browser := browserHash(r)
	if browser == "" {
		v := rand.Text()
		http.SetCookie(w, i.cookie(browserCookie, v, 0))
		browser = hashSecret(v)
	}
	tok, err := i.sealAuthToken(loginPurpose, *ar, browser, i.now())
	if err != nil {
		i.serverErrorPage(w, r, "login form: seal", err)
		return
	}
	target := ""
	if u, err := url.Parse(ar.RedirectURI); err == nil {
		target = originOf(u)
	}
	t := textsFor(r)
	i.page(w, r, status, target, pageData{Kind: "login", Title: t.SignInTitle, Action: i.issuer + authenticatePath,
		Token: tok, Username: ar.LoginHint, Error: t.pick(m), ResetURL: i.resetURL(tok), T: t})
}

// errorPage shows m, in r's language, instead of redirecting anywhere.
func (i *Issuer) errorPage(w http.ResponseWriter, r *http.Request, status int, m msg) {
	t := textsFor(r)
	i.page(w, r, status, "", pageData{Kind: "error", Title: t.ErrorTitle, Error: t.pick(m), T: t})
}

// serverErrorPage logs the cause and shows a generic error page.
func (i *Issuer) serverErrorPage(w http.ResponseWriter, r *http.Request, what string, err error) {
	i.log.Error(what, "err", err)
	i.errorPage(w, r, http.StatusInternalServerError, func(t *texts) string { return t.InternalError })
}

// resource serves an embedded file. The third-party cookie check pages may be framed by the
// web origins, which is what they are for.
func (i *Issuer) resource(w http.ResponseWriter, r *http.Request, name string) {
	if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	b, err := resources.ReadFile("resources/" + name)
	if err != nil {
		writeJSON(w, http.StatusNotFound, oauthError{Error: "Unable to find matching target resource method"})
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	switch {
	case strings.HasSuffix(name, ".css"):
		h.Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	default:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; frame-ancestors "+strings.Join(i.origins, " "))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
