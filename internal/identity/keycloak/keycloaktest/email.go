package keycloaktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Email is an execute-actions email the server sent: to whom, which actions it asks for, how
// long its link lives, and the client and redirect URI the link leads back to.
type Email struct {
	UserID      string
	Email       string
	Actions     []string
	Lifespan    time.Duration
	ClientID    string // the client_id parameter, or admin-cli (Keycloak's system client)
	RedirectURI string
}

// smtpFailure is Keycloak's message when the mail server cannot be reached.
const smtpFailure = "Failed to send execute actions email: Error when attempting to send the email to the server. More information is available in the server log."

// executeActionsEmail is PUT /users/{user-id}/execute-actions-email. After the caller's rights
// and the request's form, it checks as Keycloak 26's UserResource does, in order: the user has
// an email, the user is enabled, a redirect_uri comes with a client_id, the client exists and
// is enabled, the redirect_uri is one of the client's, and then the actions. Each failure is 400
// {"errorMessage": ...}; a failing mail server is 500.
func (s *Server) executeActionsEmail(q adminRequest) reply {
	u, rp := s.subject(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var actions []string
	if len(strings.TrimSpace(string(q.body))) > 0 && json.Unmarshal(q.body, &actions) != nil {
		return reply{status: http.StatusBadRequest, body: errorBody{Error: statusText(http.StatusBadRequest)}}
	}
	lifespan, ok := queryInt(q.r, "lifespan")
	if !ok {
		return paramNotFound()
	}
	redirectURI := queryString(q.r, "redirect_uri")
	clientID := queryString(q.r, "client_id")
	switch {
	case u.Email == "":
		return errorMessage(http.StatusBadRequest, "User email missing")
	case u.Disabled:
		return errorMessage(http.StatusBadRequest, "User is disabled")
	case redirectURI != nil && clientID == nil:
		return errorMessage(http.StatusBadRequest, "Client id missing")
	}
	client := s.clients["admin-cli"]
	if clientID != nil {
		client = s.clients[*clientID]
	}
	switch {
	case client == nil:
		return errorMessage(http.StatusBadRequest, "Client doesn't exist")
	case client.Disabled:
		return errorMessage(http.StatusBadRequest, "Client is not enabled")
	case redirectURI != nil && !validRedirect(*redirectURI, client.RedirectURIs):
		return errorMessage(http.StatusBadRequest, "Invalid redirect uri.")
	case len(actions) > 0 && !validActions(actions):
		return errorMessage(http.StatusBadRequest, "Provided invalid required actions")
	case s.failEmails:
		return errorMessage(http.StatusInternalServerError, smtpFailure)
	}
	if len(actions) == 0 {
		actions = nil
	}
	e := Email{
		UserID:   u.ID,
		Email:    u.Email,
		Actions:  slices.Clone(actions),
		Lifespan: actionTokenLifespan,
		ClientID: client.ClientID,
	}
	if lifespan != nil {
		e.Lifespan = time.Duration(*lifespan) * time.Second
	}
	if redirectURI != nil {
		e.RedirectURI = *redirectURI
	}
	s.emails = append(s.emails, e)
	return reply{status: http.StatusNoContent}
}

// validRedirect applies Keycloak's redirect URI rule (RedirectUtils): a valid URI matches
// exactly, and one ending in "*" (without a query) matches every URI it prefixes, the query of
// the URI ignored, and also the prefix without its trailing slash. A client without valid
// redirect URIs accepts none.
func validRedirect(redirect string, valid []string) bool {
	u, err := url.Parse(redirect)
	if err != nil || !u.IsAbs() || u.User != nil {
		return false
	}
	bare := redirect
	if i := strings.IndexAny(bare, "?#"); i >= 0 {
		bare = bare[:i]
	}
	for _, v := range valid {
		if v == redirect {
			return true
		}
		prefix, wildcard := strings.CutSuffix(v, "*")
		if !wildcard || strings.Contains(v, "?") {
			continue
		}
		if strings.HasPrefix(bare, prefix) {
			return true
		}
		if trimmed, ok := strings.CutSuffix(prefix, "/"); ok && trimmed != "" && bare == trimmed {
			return true
		}
	}
	return false
}

// resetPassword is PUT /users/{user-id}/reset-password: the password then works for the password
// grant; a temporary one adds the UPDATE_PASSWORD required action and a permanent one removes it.
func (s *Server) resetPassword(q adminRequest) reply {
	u, rp := s.subject(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var in *credentialInput
	if !decodeBody(q.body, &in) {
		return badJSON()
	}
	switch {
	case in == nil || in.Value == nil:
		return jaxrsError(http.StatusBadRequest, "No password provided")
	case strings.TrimSpace(*in.Value) == "":
		return jaxrsError(http.StatusBadRequest, "Empty password not allowed")
	}
	u.Password = *in.Value
	if in.Temporary != nil && *in.Temporary {
		u.RequiredActions = appendNew(u.RequiredActions, actionUpdatePassword)
	} else {
		u.RequiredActions = slices.DeleteFunc(u.RequiredActions, func(a string) bool { return a == actionUpdatePassword })
	}
	return reply{status: http.StatusNoContent}
}

// jaxrsError is a JAX-RS exception with a message, as Keycloak's error handler renders it:
// {"error": message} with its status.
func jaxrsError(status int, message string) reply {
	return reply{status: status, body: errorBody{Error: message}}
}
