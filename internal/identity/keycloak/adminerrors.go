package keycloak

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/customer-portal/portal/internal/portal"
)

// callKind says what kind of Keycloak call failed, which decides what its errors mean.
type callKind int

const (
	callOther  callKind = iota
	callLogin           // the service account's client-credentials login
	callClient          // looking up the portal client
	callRole            // reading a role of the portal client or its users
	callCreate          // creating a user
	callUpdate          // updating a user's representation
	callUser            // other reads and writes of a user and its role mappings
	callMail            // execute-actions email
)

// call describes a failed Keycloak call for fail.
type call struct {
	kind callKind
	what string           // for the log: "create user", "get user", ...
	role portal.Role      // the role the call concerned, if any
	mail portal.TokenKind // the mail an execute-actions email was
	// emailIsUsername: the user to create had no username of its own, so a taken username is
	// a taken email to the caller.
	emailIsUsername bool
}

// remoteError is the cause of a failed call as the log sees it: what the adapter was doing and
// what gocloak said, with the admin secret cut out.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// status is the HTTP status of a gocloak error; 0 when there was no answer (refused,
// unreachable, timed out, an unreadable body) or err is not gocloak's.
func status(err error) int {
	var apiErr *gocloak.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}

// detail is what Keycloak said in its error body, as gocloak reports it after the status line
// ("409 Conflict: User exists with same username" gives "User exists with same username").
func detail(err error) string {
	var apiErr *gocloak.APIError
	if !errors.As(err, &apiErr) || apiErr.Code == 0 {
		return ""
	}
	_, d, _ := strings.Cut(apiErr.Message, ": ")
	return strings.TrimSpace(d)
}

// fail translates an error of a Keycloak call into the portal's error model: the one place
// that reads Keycloak's statuses and messages. Remote failures are Unavailable with a message
// telling the operator what to fix, never Internal; the cause, without the secret, stays in
// Error.Cause for the log. A *portal.Error passes through unchanged.
func (a *Admin) fail(c call, err error) error {
	if err == nil {
		return nil
	}
	var pe *portal.Error
	if errors.As(err, &pe) {
		return err
	}
	code, said := status(err), detail(err)
	msg := strings.ToLower(said)
	cause := &remoteError{msg: a.redact(fmt.Sprintf("keycloak: %s: %v", c.what, err))}
	e := func(kind portal.Kind, format string, args ...any) error {
		return &portal.Error{Kind: kind, Message: fmt.Sprintf(format, args...), Cause: cause}
	}
	field := func(kind portal.Kind, name, format string, args ...any) error {
		fe := portal.FieldErrorf(kind, name, format, args...)
		fe.Cause = cause
		return fe
	}
	unavailable := func() error { return e(portal.Unavailable, "Keycloak at %s is unavailable", a.base) }
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}

	if code == 0 || (code >= 500 && !(c.kind == callMail && has("failed to send execute actions email"))) {
		return unavailable()
	}
	if c.kind == callLogin {
		switch {
		case has("service account"):
			return e(portal.Unavailable, "the Keycloak client %s cannot log in with client credentials; turn on its Client authentication and Service accounts roles", a.adminClientID)
		case code == http.StatusUnauthorized || has("invalid_client", "unauthorized_client"):
			return e(portal.Unavailable, "Keycloak refused the admin client credentials (PORTAL_KEYCLOAK_ADMIN_CLIENT_ID/SECRET)")
		case code == http.StatusNotFound:
			return e(portal.Unavailable, "Keycloak at %s has no realm %s; check PORTAL_OIDC_ISSUER_URL", a.base, a.realm)
		default:
			return e(portal.Unavailable, "Keycloak at %s refused the admin client login (HTTP %d: %s)", a.base, code, said)
		}
	}
	switch code {
	case http.StatusUnauthorized:
		// Even a fresh token was refused.
		return e(portal.Unavailable, "Keycloak at %s does not accept the access tokens it issues to %s", a.base, a.adminClientID)
	case http.StatusForbidden:
		return e(portal.Unavailable, "the service account of %s lacks a realm-management role needed here (manage-users, view-users, query-users, view-clients, query-clients)", a.adminClientID)
	case http.StatusNotFound:
		switch {
		case has("user not found"):
			return e(portal.NotFound, "user not found")
		case has("role not found", "could not find role"):
			a.forgetClient()
			role := string(c.role)
			if role == "" {
				role = "a portal role"
			}
			return e(portal.Unavailable, "the Keycloak client %s has no role %s; create its client roles cp-admin, cp-support, cp-partner and cp-customer", a.clientID, role)
		case has("client not found", "could not find client"):
			a.forgetClient()
			return e(portal.Unavailable, "Keycloak no longer knows the client %s (PORTAL_OIDC_CLIENT_ID); try again", a.clientID)
		case has("realm not found", "realm does not exist"):
			return e(portal.Unavailable, "Keycloak at %s has no realm %s; check PORTAL_OIDC_ISSUER_URL", a.base, a.realm)
		default:
			return e(portal.Unavailable, "Keycloak at %s does not serve the admin API the portal needs (HTTP 404); check PORTAL_OIDC_ISSUER_URL", a.base)
		}
	case http.StatusConflict:
		switch {
		case has("username") && c.emailIsUsername:
			return field(portal.Conflict, "email", "email is already in use")
		case has("username"):
			return field(portal.Conflict, "username", "username is already taken")
		case has("email"):
			return field(portal.Conflict, "email", "email is already in use")
		default:
			return e(portal.Conflict, "Keycloak reports a conflict: %s", said)
		}
	case http.StatusBadRequest:
		switch c.kind {
		case callMail:
			switch {
			case has("user email missing"):
				return e(portal.Invalid, "the user has no email address in Keycloak")
			case has("user is disabled"):
				return e(portal.Conflict, "the user is disabled")
			case has("invalid redirect uri"):
				return e(portal.Unavailable, "Keycloak does not accept %s as a redirect URI of client %s; add PORTAL_PUBLIC_URL (%s) to the client's valid redirect URIs", a.redirectURI, a.clientID, a.redirectURI)
			case has("client doesn't exist", "client is not enabled", "client id missing"):
				return e(portal.Unavailable, "Keycloak cannot send mail through the client %s (%s); check PORTAL_OIDC_CLIENT_ID", a.clientID, said)
			case has("required actions"):
				return e(portal.Unavailable, "Keycloak refused the required actions of the mail (%s); enable Update Password and Verify Email under the realm's Authentication, Required actions", said)
			default:
				return e(portal.Unavailable, "Keycloak could not send the mail: %s", said)
			}
		case callCreate, callUpdate:
			switch {
			case has("username"):
				return field(portal.Invalid, "username", "Keycloak refused the username: %s", said)
			case has("email"):
				return field(portal.Invalid, "email", "Keycloak refused the email: %s", said)
			case has("firstname", "first name"):
				return field(portal.Invalid, "firstName", "Keycloak refused the first name: %s", said)
			case has("lastname", "last name"):
				return field(portal.Invalid, "lastName", "Keycloak refused the last name: %s", said)
			default:
				return e(portal.Invalid, "Keycloak refused the user: %s", said)
			}
		default:
			return e(portal.Unavailable, "Keycloak at %s refused the portal's request: %s", a.base, said)
		}
	case http.StatusInternalServerError:
		// Only the execute-actions email's mail failure gets here.
		what := "invitation"
		if c.mail == portal.TokenPasswordReset {
			what = "password-reset"
		}
		return e(portal.Unavailable, "Keycloak could not send the %s mail; check the realm's SMTP settings", what)
	}
	return e(portal.Unavailable, "Keycloak at %s answered HTTP %d", a.base, code)
}

// unavailable is an Unavailable error that fail did not derive from a gocloak error: Keycloak
// answered, but not what the adapter needs. cause says what it answered, for the log.
func (a *Admin) unavailable(cause, format string, args ...any) *portal.Error {
	return &portal.Error{Kind: portal.Unavailable, Message: fmt.Sprintf(format, args...), Cause: &remoteError{msg: a.redact(cause)}}
}

// redact cuts the admin secret out of s, also as it appears URL-encoded or in an HTTP Basic
// credential.
func (a *Admin) redact(s string) string {
	if a.secret == "" {
		return s
	}
	for _, form := range []string{
		a.secret,
		url.QueryEscape(a.secret),
		base64.StdEncoding.EncodeToString([]byte(a.adminClientID + ":" + a.secret)),
	} {
		s = strings.ReplaceAll(s, form, "[redacted]")
	}
	return s
}
