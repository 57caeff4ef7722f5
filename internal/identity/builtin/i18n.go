package builtin

import (
	"fmt"
	"net/http"
	"time"

	"golang.org/x/text/language"
)

// The sign-in pages speak English and German, after the browser's Accept-Language: German when
// the request prefers it to English, English otherwise (also for no header, "*" and languages
// the pages do not speak). Every text of the pages is a field of texts, one table per language;
// TestTextsComplete fails when a table leaves a field empty.

// texts are all the words of the sign-in pages in one language. A page's message is picked
// from it by a msg, so that the language is chosen where the page is written.
type texts struct {
	Lang    string // the <html lang> value
	Product string

	// The login page (login.ftl).
	SignInTitle, Username, Password, SignIn, ForgotPassword string

	// The "Forgot password?" pages (login-reset-password.ftl, info.ftl).
	ResetTitle, ResetIntro, UsernameOrEmail, SendLink, BackToSignIn, ResetSentTitle string
	// ResetSent says that a link was mailed if an account matched; valid is how long it stays valid.
	ResetSent func(valid time.Duration) string

	// The sign-out pages (logout-confirm.ftl and the signed-out page).
	SignOutTitle, SignOutQuestion, SignOut, SignedOutTitle, SignedOut, CloseWindow string

	// The error page (error.ftl) and the messages of the pages.
	ErrorTitle, InternalError, Cancelled, BrowserSignInOff, ResetOff   string
	InvalidRequest, DuplicatedParameter, ClientNotFound                string
	InvalidRedirectURI, InvalidResponseMode, InvalidClientID           string
	InvalidIDTokenHint, MissingIDTokenHint, InvalidLogoutRedirect      string
	OnlySignInRequests, OnlySignOutRequests                            string
	BadCredentials, TooManyFailures, SignInTimedOut, SignInFormInvalid string
	SignInLinkInvalid, SignOutFormInvalid                              string
	ResetFormInvalid, ResetMissing, ResetTimedOut                      string

	// The messages of readPageForm, per form.
	SignInForm, ResetForm, SignOutForm formTexts
}

// formTexts are readPageForm's messages for one of the forms.
type formTexts struct {
	OnlyForm, Foreign string
}

// msg picks a message from the texts of the page's language.
type msg func(t *texts) string

var textsEN = texts{
	Lang:    "en",
	Product: "Customer Portal",

	SignInTitle:    "Sign in",
	Username:       "Username",
	Password:       "Password",
	SignIn:         "Sign in",
	ForgotPassword: "Forgot password?",

	ResetTitle:      "Forgot your password?",
	ResetIntro:      "Enter your username or email address and we will send you a link to choose a new password.",
	UsernameOrEmail: "Username or email",
	SendLink:        "Send link",
	BackToSignIn:    "« Back to sign in",
	ResetSentTitle:  "Check your email",
	ResetSent: func(valid time.Duration) string {
		return "If an account matches, we have sent a link to its email address. It is valid for " +
			humanDuration(valid) + "."
	},

	SignOutTitle:    "Sign out",
	SignOutQuestion: "Do you want to sign out?",
	SignOut:         "Sign out",
	SignedOutTitle:  "Signed out",
	SignedOut:       "You are signed out.",
	CloseWindow:     "You can close this window.",

	ErrorTitle:            "We are sorry…",
	InternalError:         "An internal error occurred. Please try again later.",
	Cancelled:             "The request was cancelled.",
	BrowserSignInOff:      "Browser sign-in is not enabled.",
	ResetOff:              "Password reset is not enabled.",
	InvalidRequest:        "Invalid Request",
	DuplicatedParameter:   "Invalid Request: duplicated parameter",
	ClientNotFound:        "Client not found.",
	InvalidRedirectURI:    "Invalid parameter: redirect_uri",
	InvalidResponseMode:   "Invalid parameter: response_mode",
	InvalidClientID:       "Invalid parameter: client_id",
	InvalidIDTokenHint:    "Invalid parameter: id_token_hint",
	MissingIDTokenHint:    "Missing parameters: id_token_hint",
	InvalidLogoutRedirect: "Invalid redirect uri",
	OnlySignInRequests:    "This address only answers sign-in requests.",
	OnlySignOutRequests:   "This address only answers sign-out requests.",
	BadCredentials:        "Invalid username or password.",
	TooManyFailures:       "Too many failed sign-in attempts. Try again later.",
	SignInTimedOut:        "Your sign-in attempt timed out. Please sign in again.",
	SignInFormInvalid:     "This sign-in form is invalid or has expired. Start again from the application.",
	SignInLinkInvalid:     "This sign-in link is invalid or has expired. Start again from the application.",
	SignOutFormInvalid:    "This sign-out form is invalid or has expired. Sign out again from the application.",
	ResetFormInvalid:      "This password reset form is invalid or has expired. Start again from the application.",
	ResetMissing:          "Please enter your username or email.",
	ResetTimedOut:         "Your request timed out. Please try again.",

	SignInForm: formTexts{
		OnlyForm: "This address only takes the sign-in form.",
		Foreign:  "This sign-in request did not come from the sign-in page. Start again from the application.",
	},
	ResetForm: formTexts{
		OnlyForm: "This address only takes the password reset form.",
		Foreign:  "This password reset request did not come from the password reset page. Start again from the application.",
	},
	SignOutForm: formTexts{
		OnlyForm: "This address only takes the sign-out form.",
		Foreign:  "This sign-out request did not come from the sign-out page. Start again from the application.",
	},
}

// textsDE address the user formally (Sie), as the portal's German widgets do.
var textsDE = texts{
	Lang:    "de",
	Product: "Kundenportal",

	SignInTitle:    "Anmelden",
	Username:       "Benutzername",
	Password:       "Passwort",
	SignIn:         "Anmelden",
	ForgotPassword: "Passwort vergessen?",

	ResetTitle:      "Passwort vergessen?",
	ResetIntro:      "Geben Sie Ihren Benutzernamen oder Ihre E-Mail-Adresse ein. Wir senden Ihnen dann einen Link, mit dem Sie ein neues Passwort wählen können.",
	UsernameOrEmail: "Benutzername oder E-Mail",
	SendLink:        "Link senden",
	BackToSignIn:    "« Zurück zur Anmeldung",
	ResetSentTitle:  "Prüfen Sie Ihre E-Mails",
	ResetSent: func(valid time.Duration) string {
		return "Falls ein Konto passt, haben wir einen Link an dessen E-Mail-Adresse gesendet. Er ist " +
			humanDurationDE(valid) + " gültig."
	},

	SignOutTitle:    "Abmelden",
	SignOutQuestion: "Möchten Sie sich abmelden?",
	SignOut:         "Abmelden",
	SignedOutTitle:  "Abgemeldet",
	SignedOut:       "Sie sind abgemeldet.",
	CloseWindow:     "Sie können dieses Fenster schließen.",

	ErrorTitle:            "Es tut uns leid …",
	InternalError:         "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.",
	Cancelled:             "Die Anfrage wurde abgebrochen.",
	BrowserSignInOff:      "Die Anmeldung im Browser ist nicht aktiviert.",
	ResetOff:              "Das Zurücksetzen des Passworts ist nicht aktiviert.",
	InvalidRequest:        "Ungültige Anfrage",
	DuplicatedParameter:   "Ungültige Anfrage: doppelter Parameter",
	ClientNotFound:        "Client nicht gefunden.",
	InvalidRedirectURI:    "Ungültiger Parameter: redirect_uri",
	InvalidResponseMode:   "Ungültiger Parameter: response_mode",
	InvalidClientID:       "Ungültiger Parameter: client_id",
	InvalidIDTokenHint:    "Ungültiger Parameter: id_token_hint",
	MissingIDTokenHint:    "Fehlende Parameter: id_token_hint",
	InvalidLogoutRedirect: "Ungültige Weiterleitungs-URI",
	OnlySignInRequests:    "Diese Adresse beantwortet nur Anmeldeanfragen.",
	OnlySignOutRequests:   "Diese Adresse beantwortet nur Abmeldeanfragen.",
	BadCredentials:        "Benutzername oder Passwort ist ungültig.",
	TooManyFailures:       "Zu viele fehlgeschlagene Anmeldeversuche. Versuchen Sie es später erneut.",
	SignInTimedOut:        "Ihr Anmeldeversuch ist abgelaufen. Bitte melden Sie sich erneut an.",
	SignInFormInvalid:     "Dieses Anmeldeformular ist ungültig oder abgelaufen. Beginnen Sie erneut in der Anwendung.",
	SignInLinkInvalid:     "Dieser Anmeldelink ist ungültig oder abgelaufen. Beginnen Sie erneut in der Anwendung.",
	SignOutFormInvalid:    "Dieses Abmeldeformular ist ungültig oder abgelaufen. Melden Sie sich erneut in der Anwendung ab.",
	ResetFormInvalid:      "Dieses Formular zum Zurücksetzen des Passworts ist ungültig oder abgelaufen. Beginnen Sie erneut in der Anwendung.",
	ResetMissing:          "Bitte geben Sie Ihren Benutzernamen oder Ihre E-Mail-Adresse ein.",
	ResetTimedOut:         "Ihre Anfrage ist abgelaufen. Bitte versuchen Sie es erneut.",

	SignInForm: formTexts{
		OnlyForm: "Diese Adresse nimmt nur das Anmeldeformular entgegen.",
		Foreign:  "Diese Anmeldeanfrage kam nicht von der Anmeldeseite. Beginnen Sie erneut in der Anwendung.",
	},
	ResetForm: formTexts{
		OnlyForm: "Diese Adresse nimmt nur das Formular zum Zurücksetzen des Passworts entgegen.",
		Foreign:  "Diese Anfrage zum Zurücksetzen des Passworts kam nicht von der zugehörigen Seite. Beginnen Sie erneut in der Anwendung.",
	},
	SignOutForm: formTexts{
		OnlyForm: "Diese Adresse nimmt nur das Abmeldeformular entgegen.",
		Foreign:  "Diese Abmeldeanfrage kam nicht von der Abmeldeseite. Beginnen Sie erneut in der Anwendung.",
	},
}

// pageLanguages are the languages of the pages, the first the default; pageTexts holds their
// tables in the same order.
var (
	pageLanguages = []language.Tag{language.English, language.German}
	pageTexts     = []*texts{&textsEN, &textsDE}
	pageMatcher   = language.NewMatcher(pageLanguages)
	anyLanguage   = language.Make("mul")
)

// textsFor is the table of the language r's Accept-Language prefers among the pages' own:
// German for "de", "de-AT" or "fr, de;q=0.5"; English for "en;q=0.9, de;q=0.8", "fr", "*",
// "*, de;q=0.5", an unparsable header or none.
func textsFor(r *http.Request) *texts {
	if r == nil {
		return &textsEN
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return &textsEN
	}
	// ParseAcceptLanguage sorts by q-value and reads "*" as "mul": any language, which English
	// serves as well as any, so what the browser prefers less than that does not count.
	for n, tag := range tags {
		if tag == anyLanguage {
			tags = tags[:n]
			break
		}
	}
	if len(tags) == 0 {
		return &textsEN
	}
	_, idx, conf := pageMatcher.Match(tags...)
	if conf == language.No || idx < 0 || idx >= len(pageTexts) {
		return &textsEN
	}
	return pageTexts[idx]
}

// humanDurationDE is humanDuration in German, as the complement of "gültig":
// "72 Stunden", "1 Stunde", "30 Minuten".
func humanDurationDE(d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "Stunde", "Stunden")
	case d >= time.Minute:
		return unit(int64(d/time.Minute), "Minute", "Minuten")
	default:
		return unit(int64(max(d/time.Second, 1)), "Sekunde", "Sekunden")
	}
}

// pick is m's text in t's language; "" for no message.
func (t *texts) pick(m msg) string {
	if m == nil {
		return ""
	}
	return m(t)
}
