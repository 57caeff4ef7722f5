package jiratest

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Date layouts Jira uses on the wire. Offsets are numeric without a colon ("+0000", never "Z"):
// go-atlassian parses issue dates and DateDTO.iso8601 with "2006-01-02T15:04:05-0700".
const (
	layoutISO      = "2006-01-02T15:04:05-0700"     // DateDTO.iso8601
	layoutJira     = "2006-01-02T15:04:05.000-0700" // DateDTO.jira, platform date-times
	layoutFriendly = "02/Jan/06 3:04 PM"            // DateDTO.friendly
)

// dateDTO is JSM's DateDTO.
type dateDTO struct {
	ISO8601     string `json:"iso8601"`
	Jira        string `json:"jira"`
	Friendly    string `json:"friendly"`
	EpochMillis int64  `json:"epochMillis"`
}

func (s *Server) date(t time.Time) *dateDTO {
	t = t.In(s.loc)
	return &dateDTO{
		ISO8601:     t.Format(layoutISO),
		Jira:        t.Format(layoutJira),
		Friendly:    t.Format(layoutFriendly),
		EpochMillis: t.UnixMilli(),
	}
}

// jiraTime is a platform API date-time, or nil for the zero time.
func (s *Server) jiraTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(s.loc).Format(layoutJira)
}

type selfLink struct {
	Self string `json:"self"`
}

// pagedLinks is JSM's PagedLinkDTO.
type pagedLinks struct {
	Base    string `json:"base"`
	Context string `json:"context"`
	Next    string `json:"next,omitempty"`
	Prev    string `json:"prev,omitempty"`
	Self    string `json:"self"`
}

// jsmPage is JSM's PagedDTO.
type jsmPage struct {
	Expands    []string   `json:"_expands"`
	Size       int        `json:"size"`
	Start      int        `json:"start"`
	Limit      int        `json:"limit"`
	IsLastPage bool       `json:"isLastPage"`
	Values     any        `json:"values"`
	Links      pagedLinks `json:"_links"`
}

// window is a page's range of a list: values[start:end].
type window struct {
	start, end, limit int
	last              bool
}

// pageWindow reads start and limit from the query: a limit of 0 or less (go-atlassian may send
// 0) means JSM's default of 50, and a larger one than the server's page limit is clamped, as JSM
// clamps it.
func (s *Server) pageWindow(c *call, total int) window {
	start, _ := strconv.Atoi(c.q.Get("start"))
	limit, _ := strconv.Atoi(c.q.Get("limit"))
	if start < 0 {
		start = 0
	}
	if limit <= 0 {
		limit = defaultLimit
	}
	if limit > s.pageLimit {
		limit = s.pageLimit
	}
	end := min(start+limit, total)
	if start > total {
		start = total
	}
	return window{start: start, end: end, limit: limit, last: end >= total}
}

// page builds the JSM page for values, which are the window's items.
func (s *Server) page(c *call, w window, values any, size int) jsmPage {
	base := s.srv.URL
	links := pagedLinks{Base: base, Context: "", Self: base + c.r.URL.RequestURI()}
	if !w.last {
		links.Next = s.pageURL(c.r, w.end, w.limit)
	}
	if w.start > 0 {
		links.Prev = s.pageURL(c.r, max(w.start-w.limit, 0), w.limit)
	}
	return jsmPage{Expands: []string{}, Size: size, Start: w.start, Limit: w.limit, IsLastPage: w.last, Values: values, Links: links}
}

func (s *Server) pageURL(r *http.Request, start, limit int) string {
	q := r.URL.Query()
	q.Set("start", strconv.Itoa(start))
	q.Set("limit", strconv.Itoa(limit))
	return s.srv.URL + r.URL.EscapedPath() + "?" + q.Encode()
}

// userDTO is JSM's UserDTO.
type userDTO struct {
	AccountID    string    `json:"accountId"`
	EmailAddress string    `json:"emailAddress,omitempty"`
	DisplayName  string    `json:"displayName"`
	Active       bool      `json:"active"`
	TimeZone     string    `json:"timeZone"`
	Links        userLinks `json:"_links"`
}

type userLinks struct {
	JiraRest   string            `json:"jiraRest"`
	AvatarURLs map[string]string `json:"avatarUrls"`
	Self       string            `json:"self"`
}

func (s *Server) userRestURL(u *account) string {
	return s.srv.URL + "/rest/api/3/user?accountId=" + url.QueryEscape(u.AccountID)
}

func (s *Server) avatars(u *account) map[string]string {
	out := map[string]string{}
	for _, size := range []string{"48x48", "24x24", "16x16", "32x32"} {
		out[size] = s.srv.URL + "/secure/useravatar?size=" + size + "&accountId=" + url.QueryEscape(u.AccountID)
	}
	return out
}

func (s *Server) jsmUser(u *account) userDTO {
	self := s.userRestURL(u)
	return userDTO{
		AccountID:    u.AccountID,
		EmailAddress: u.Email,
		DisplayName:  u.DisplayName,
		Active:       true,
		TimeZone:     s.loc.String(),
		Links:        userLinks{JiraRest: self, AvatarURLs: s.avatars(u), Self: self},
	}
}

// platformUser is the platform API's UserDetails (and, with extras, User).
func (s *Server) platformUser(u *account) map[string]any {
	if u == nil {
		return nil
	}
	accountType := "atlassian"
	if u.Customer {
		accountType = "customer"
	}
	out := map[string]any{
		"self":        s.userRestURL(u),
		"accountId":   u.AccountID,
		"avatarUrls":  s.avatars(u),
		"displayName": u.DisplayName,
		"active":      true,
		"timeZone":    s.loc.String(),
		"accountType": accountType,
	}
	if u.Email != "" {
		out["emailAddress"] = u.Email
	}
	return out
}

// adf renders plain text as an Atlassian Document Format document, as v3 returns descriptions
// and comment bodies: a paragraph per blank-line-separated block, hard breaks for line breaks.
// Empty text is nil (Jira's null description).
func adf(text string) map[string]any {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var paragraphs []any
	for _, block := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		var content []any
		for i, line := range strings.Split(block, "\n") {
			if i > 0 {
				content = append(content, map[string]any{"type": "hardBreak"})
			}
			if line != "" {
				content = append(content, map[string]any{"type": "text", "text": line})
			}
		}
		paragraphs = append(paragraphs, map[string]any{"type": "paragraph", "content": content})
	}
	return map[string]any{"type": "doc", "version": 1, "content": paragraphs}
}

// adfText extracts the plain text of an ADF document: paragraphs are separated by a blank line
// and hard breaks become line breaks.
func adfText(node any) string {
	var b strings.Builder
	var walk func(n any, depth int)
	walk = func(n any, depth int) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		switch m["type"] {
		case "text":
			t, _ := m["text"].(string)
			b.WriteString(t)
			return
		case "hardBreak":
			b.WriteString("\n")
			return
		}
		children, _ := m["content"].([]any)
		for i, child := range children {
			if i > 0 && depth == 0 {
				b.WriteString("\n\n")
			}
			walk(child, depth+1)
		}
	}
	walk(node, 0)
	return b.String()
}

// renderHTML is the HTML JSM renders plain text as.
func renderHTML(text string) string {
	var paragraphs []string
	for _, block := range strings.Split(text, "\n\n") {
		if block == "" {
			continue
		}
		paragraphs = append(paragraphs, "<p>"+strings.ReplaceAll(html.EscapeString(block), "\n", "<br/>\n")+"</p>")
	}
	return strings.Join(paragraphs, "\n")
}
