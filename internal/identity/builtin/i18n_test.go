package builtin

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestTextsComplete: a table that leaves a text out would show an empty label or message.
func TestTextsComplete(t *testing.T) {
	t.Parallel()
	var check func(lang, path string, v reflect.Value)
	check = func(lang, path string, v reflect.Value) {
		for n := range v.NumField() {
			f, name := v.Field(n), path+v.Type().Field(n).Name
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s: %s is empty", lang, name)
				}
			case reflect.Func:
				if f.IsNil() {
					t.Errorf("%s: %s is nil", lang, name)
				}
			case reflect.Struct:
				check(lang, name+".", f)
			default:
				t.Errorf("%s: %s has kind %s, which this test does not check", lang, name, f.Kind())
			}
		}
	}
	for _, tx := range pageTexts {
		check(tx.Lang, "", reflect.ValueOf(*tx))
	}
	if len(pageTexts) != len(pageLanguages) {
		t.Errorf("%d tables for %d languages", len(pageTexts), len(pageLanguages))
	}
	for n, tag := range pageLanguages {
		if got := pageTexts[n].Lang; got != tag.String() {
			t.Errorf("table %d is for %q, want %q", n, got, tag)
		}
	}
}

// TestPageLanguage: German when Accept-Language prefers it to English, by q-value and not by
// position; English otherwise, and the page says which in <html lang> and Vary.
func TestPageLanguage(t *testing.T) {
	t.Parallel()
	i := &Issuer{issuer: "https://portal.example.com/realms/portal", realm: "portal", log: slog.New(slog.DiscardHandler)}
	if err := i.configureBrowser(Config{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		accept, want string
	}{
		{"", "en"},
		{"de", "de"},
		{"de-AT", "de"},
		{"de-CH, fr;q=0.5", "de"},
		{"de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de"},
		{"en;q=0.9,de;q=0.8", "en"},
		{"de;q=0.8, en;q=0.9", "en"},
		{"de;q=0.9, en;q=0.8", "de"},
		{"en-US,en;q=0.9", "en"},
		{"en-GB", "en"},
		{"fr", "en"},
		{"fr-FR, fr;q=0.9", "en"},
		{"fr, de;q=0.5", "de"},
		{"fr, en;q=0.6, de;q=0.5", "en"},
		{"*", "en"},
		{"*, de;q=0.5", "en"},
		{"de;q=0", "en"},
		{"de;q=0, en", "en"},
		{"not a ;;; language header", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "https://portal.example.com/realms/portal"+authenticatePath, nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := textsFor(r).Lang; got != tt.want {
				t.Errorf("textsFor(%q) = %s, want %s", tt.accept, got, tt.want)
			}
			w := httptest.NewRecorder()
			i.errorPage(w, r, http.StatusBadRequest, func(t *texts) string { return t.InvalidRequest })
			body := w.Body.String()
			if !strings.Contains(body, `<html lang="`+tt.want+`">`) {
				t.Errorf("page is not lang=%q:\n%s", tt.want, body)
			}
			want := textsEN.InvalidRequest
			if tt.want == "de" {
				want = textsDE.InvalidRequest
			}
			if !strings.Contains(body, `<p class="alert">`+want+`</p>`) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
			if got := w.Header().Values("Vary"); !reflect.DeepEqual(got, []string{"Accept-Language"}) {
				t.Errorf("Vary %q, want Accept-Language", got)
			}
		})
	}
}

// tokens are the per-request parts of a login page: the form token, the reset link's and the
// username typed back into the form.
var tokens = regexp.MustCompile(`(value|href)="[^"]*"`)

// TestPagesInGerman follows the browser pages with a German browser, and checks that the
// refused sign-ins look alike in either language.
func TestPagesInGerman(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newBrowserEnv(t, db)

		t.Run("login page", func(t *testing.T) {
			b := e.browser(t, "10.0.9.1")
			b.lang = "de-AT,de;q=0.9,en;q=0.5"
			resp, body := b.get(t, e.authURL())
			for _, want := range []string{`<html lang="de">`, `<title>Anmelden · Kundenportal</title>`, `<h1>Anmelden</h1>`,
				`<label for="username">Benutzername</label>`, `<label for="password">Passwort</label>`,
				`<input id="kc-login" name="login" type="submit" value="Anmelden">`, `id="kc-form-login"`} {
				if !strings.Contains(body, want) {
					t.Errorf("German login page lacks %s:\n%s", want, body)
				}
			}
			if resp.Header.Get("Vary") != "Accept-Language" {
				t.Errorf("Vary %q", resp.Header.Get("Vary"))
			}
			if strings.Contains(body, "Sign in") || strings.Contains(body, "Password") {
				t.Errorf("German login page has English text:\n%s", body)
			}
		})

		langs := []struct{ accept, lang, msg string }{
			{"", "en", "Invalid username or password."},
			{"de", "de", "Benutzername oder Passwort ist ungültig."},
			{"en;q=0.9,de;q=0.8", "en", "Invalid username or password."},
		}
		creds := []struct{ name, user, pw string }{
			{"wrong password", "ada", "wrong-password"},
			{"unknown user", "charles", adaPassword},
			{"disabled account with its password", "grace", "cobol-1959"},
			{"empty password", "ada", ""},
		}
		for n, l := range langs {
			t.Run("credentials "+l.lang+" "+l.accept, func(t *testing.T) {
				var first string
				for _, c := range creds {
					b := e.browser(t, "10.0.9."+string(rune('2'+n)))
					b.lang = l.accept
					resp, body := e.submit(t, b, e.loginPage(t, b, e.authURL()), c.user, c.pw)
					if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Retry-After") != "" ||
						!strings.Contains(body, `<html lang="`+l.lang+`">`) ||
						!strings.Contains(body, `<p id="input-error" class="alert" role="alert">`+l.msg+`</p>`) {
						t.Errorf("%s: got %d, want the form again with %q:\n%s", c.name, resp.StatusCode, l.msg, body)
					}
					page := tokens.ReplaceAllString(body, `$1=""`)
					if first == "" {
						first = page
					} else if page != first {
						t.Errorf("%s: the page differs from the one for %s:\n%s\n---\n%s", c.name, creds[0].name, page, first)
					}
				}
			})
		}

		t.Run("sign out", func(t *testing.T) {
			b := e.browser(t, "10.0.9.9")
			b.lang = "de"
			resp, body := b.get(t, e.srv+logoutEndpoint)
			m := sessionCode.FindStringSubmatch(body)
			if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `<p id="kc-logout-question">Möchten Sie sich abmelden?</p>`) ||
				!strings.Contains(body, `<input id="kc-logout" name="confirmLogout" type="submit" value="Abmelden" autofocus>`) {
				t.Fatalf("confirmation page: %d\n%s", resp.StatusCode, body)
			}
			resp, body = b.post(t, e.srv+realmPath+logoutConfirmPath, e.srv, map[string][]string{"session_code": {m[1]}})
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<p id="kc-logout-message">Sie sind abgemeldet.</p>`) ||
				!strings.Contains(body, `<html lang="de">`) {
				t.Errorf("signed-out page: %d\n%s", resp.StatusCode, body)
			}
		})

		t.Run("error page", func(t *testing.T) {
			b := e.browser(t, "10.0.9.10")
			b.lang = "de"
			resp, body := b.get(t, e.authURL("redirect_uri", "https://evil.example.com/"))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `<div id="kc-error-message" role="alert"><p class="alert">Ungültiger Parameter: redirect_uri</p></div>`) {
				t.Errorf("error page: %d\n%s", resp.StatusCode, body)
			}
		})
	})
}

// TestForgotPasswordInGerman: the "Forgot password?" pages follow the browser's language too.
func TestForgotPasswordInGerman(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newResetEnv(t, db)
		r := e.replicas[0]
		b := r.browser(t, "10.0.10.1")
		b.lang = "de"
		_, body := b.get(t, r.authURL())
		m := regexp.MustCompile(`<div id="kc-form-options"><a href="([^"]+)">Passwort vergessen\?</a></div>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("German login page without the forgot-password link:\n%s", body)
		}
		resp, body := b.get(t, strings.ReplaceAll(m[1], "&amp;", "&"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<label for="username">Benutzername oder E-Mail</label>`) ||
			!strings.Contains(body, `<input type="submit" value="Link senden">`) || !strings.Contains(body, `« Zurück zur Anmeldung</a>`) ||
			!strings.Contains(body, `<form id="kc-reset-password-form"`) {
			t.Fatalf("German reset form: %d\n%s", resp.StatusCode, body)
		}
		for _, login := range []string{"ada", "nobody"} {
			resp, body = b.post(t, r.srv+realmPath+resetPath, r.srv,
				map[string][]string{"auth_request": {formToken.FindStringSubmatch(body)[1]}, "username": {login}})
			r.iss.Wait()
			want := `<p id="kc-info-message" role="status">Falls ein Konto passt, haben wir einen Link an dessen E-Mail-Adresse gesendet. Er ist 1 Stunde gültig.</p>`
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, "<h1>Prüfen Sie Ihre E-Mails</h1>") {
				t.Errorf("%s: German sent page: %d\n%s", login, resp.StatusCode, body)
			}
			// Back to the form for the next request.
			resp, body = b.get(t, strings.ReplaceAll(m[1], "&amp;", "&"))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("reset form again: %d", resp.StatusCode)
			}
		}
	})
}
