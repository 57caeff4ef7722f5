package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// Problem is an RFC 9457 problem details document, the body of every error response.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"requestId,omitempty"`
	Reasons   []string       `json:"reasons,omitempty"`
	Errors    []ProblemField `json:"errors,omitempty"`
}

// ProblemField names one input field at fault.
type ProblemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problemTypeBase prefixes problem types: a URN, so that no client is sent to a host the
// project does not control.
const problemTypeBase = "urn:customer-portal:problem:"

// kindStatus is the one table from domain error kinds to HTTP.
var kindStatus = map[portal.Kind]struct {
	status int
	slug   string
	title  string
}{
	portal.Invalid:            {http.StatusBadRequest, "invalid-request", "Invalid request"},
	portal.NotFound:           {http.StatusNotFound, "not-found", "Not found"},
	portal.Conflict:           {http.StatusConflict, "conflict", "Conflict"},
	portal.Unauthenticated:    {http.StatusUnauthorized, "unauthenticated", "Authentication required"},
	portal.Forbidden:          {http.StatusForbidden, "forbidden", "Forbidden"},
	portal.Unavailable:        {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	portal.PreconditionFailed: {http.StatusPreconditionFailed, "precondition-failed", "Precondition failed"},
	portal.Unprocessable:      {http.StatusUnprocessableEntity, "unprocessable", "Unprocessable request"},
	portal.Internal:           {http.StatusInternalServerError, "internal", "Internal server error"},
}

// problemFor turns any error that reaches Echo into a problem: domain errors, request
// validation errors and Echo's own HTTP errors alike. The second result is the error to log
// (nil when the client's mistake needs no log line beyond the access log).
func problemFor(err error, maxBody int64) (Problem, error) {
	var (
		pe   *portal.Error
		re   *openapi3filter.RequestError
		se   *openapi3filter.SecurityRequirementsError
		he   *echo.HTTPError
		perr = func(kind portal.Kind, detail string, fields ...ProblemField) Problem {
			k := kindStatus[kind]
			return Problem{Type: problemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: detail, Errors: fields}
		}
	)
	switch {
	case errors.As(err, &pe):
		if pe.Kind == portal.Internal {
			return perr(portal.Internal, "internal error"), err
		}
		p := perr(pe.Kind, pe.Message)
		p.Reasons = pe.Reasons
		for _, f := range pe.Fields {
			p.Errors = append(p.Errors, ProblemField{Field: f.Field, Message: f.Message})
		}
		var logErr error
		if pe.Kind == portal.Unavailable {
			logErr = err
		}
		return p, logErr
	case errors.As(err, &re):
		return requestProblem(re), nil
	case errors.As(err, &se):
		return perr(portal.Unauthenticated, "authentication required"), nil
	case errors.Is(err, routers.ErrPathNotFound):
		return httpProblem(http.StatusNotFound, "no such endpoint; see /api/v1/docs"), nil
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return httpProblem(http.StatusMethodNotAllowed, "method not allowed on this endpoint"), nil
	case errors.As(err, &he):
		if he.Code >= 500 {
			return httpProblem(he.Code, "internal error"), err
		}
		detail := http.StatusText(he.Code)
		switch {
		case he.Code == http.StatusNotFound:
			detail = "no such endpoint; see /api/v1/docs"
		case he.Code == http.StatusRequestEntityTooLarge:
			detail = fmt.Sprintf("request body is larger than %d bytes", maxBody)
		case he.Internal != nil:
			// Echo's binder errors (bad JSON, bad parameter) carry a safe message.
			detail = fmt.Sprint(he.Message)
		case he.Message != nil:
			detail = fmt.Sprint(he.Message)
		}
		return httpProblem(he.Code, detail), nil
	default:
		return perr(portal.Internal, "internal error"), err
	}
}

func httpProblem(status int, detail string) Problem {
	slug := strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "-"))
	return Problem{Type: problemTypeBase + slug, Title: http.StatusText(status), Status: status, Detail: detail}
}

// requestProblem explains a request that does not match openapi.yaml, naming the fields.
func requestProblem(re *openapi3filter.RequestError) Problem {
	p := httpProblem(http.StatusBadRequest, "")
	p.Type, p.Title = problemTypeBase+"invalid-request", "Invalid request"
	switch {
	case re.Parameter != nil:
		p.Errors = []ProblemField{{Field: re.Parameter.Name, Message: paramMessage(re)}}
	case strings.Contains(re.Reason, "Content-Type"):
		return httpProblem(http.StatusUnsupportedMediaType, "send the body as application/json")
	case re.RequestBody != nil && errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		p.Detail = "a JSON request body is required"
		return p
	case re.RequestBody != nil:
		var ct *openapi3filter.ParseError
		if errors.As(re.Err, &ct) {
			if ct.Kind == openapi3filter.KindUnsupportedFormat {
				p = httpProblem(http.StatusUnsupportedMediaType, "send the body as application/json")
				return p
			}
			p.Detail = "request body is not valid JSON"
			return p
		}
		if re.Err == nil {
			p.Detail = re.Reason
			if strings.Contains(re.Reason, "value is required") {
				p.Detail = "a JSON request body is required"
			}
			return p
		}
		p.Errors = schemaFields(re.Err)
		if len(p.Errors) == 0 {
			p.Detail = "request body does not match the schema"
		}
	default:
		p.Detail = re.Reason
	}
	if p.Detail == "" && len(p.Errors) > 0 {
		p.Detail = p.Errors[0].Field + ": " + p.Errors[0].Message
		if len(p.Errors) > 1 {
			p.Detail += fmt.Sprintf(" (and %d more)", len(p.Errors)-1)
		}
	}
	return p
}

func paramMessage(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return se.Reason
	}
	if re.Reason != "" {
		return re.Reason
	}
	return "invalid value"
}

// schemaFields flattens kin-openapi's schema errors into one entry per field.
func schemaFields(err error) []ProblemField {
	var out []ProblemField
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if !errors.As(err, &se) {
			return
		}
		field := strings.Join(se.JSONPointer(), ".")
		msg := se.Reason
		if name := unsupportedProperty(se.Reason); name != "" {
			field, msg = joinField(field, name), "unknown field"
		}
		if name := requiredProperty(se.Reason); name != "" {
			field, msg = joinField(field, name), name+" is required"
		}
		if field == "" {
			field = "body"
		}
		out = append(out, ProblemField{Field: field, Message: msg})
	}
	walk(err)
	return out
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// unsupportedProperty extracts X from kin-openapi's `property "X" is unsupported`.
func unsupportedProperty(reason string) string { return quoted(reason, "is unsupported") }

// requiredProperty extracts X from kin-openapi's `property "X" is missing`.
func requiredProperty(reason string) string { return quoted(reason, "is missing") }

func quoted(reason, suffix string) string {
	if !strings.HasSuffix(reason, suffix) {
		return ""
	}
	i, j := strings.Index(reason, `"`), strings.LastIndex(reason, `"`)
	if i < 0 || j <= i {
		return ""
	}
	return reason[i+1 : j]
}

// errorHandler is Echo's HTTPErrorHandler: the one place errors become responses.
func errorHandler(log *slog.Logger, maxBody int64) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p, logErr := problemFor(err, maxBody)
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if logErr != nil {
			log.ErrorContext(c.Request().Context(), "request failed",
				"requestId", p.RequestID, "method", c.Request().Method, "path", c.Request().URL.Path,
				"status", p.Status, "error", logErr.Error())
		}
		if p.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="customer-portal"`)
		}
		writeProblem(c.Response(), c.Request().Method, p)
	}
}

func writeProblem(w http.ResponseWriter, method string, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(p)
}
