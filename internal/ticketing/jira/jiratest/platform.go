package jiratest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const api3 = "/rest/api/3"

// RequestTypeField is the field id of JSM's "Customer Request Type" field in platform issues.
const RequestTypeField = "customfield_10010"

// platformRoutes are the /rest/api/3 endpoints the server implements, with the path templates
// and success statuses of jira-platform-openapi.json.
func (s *Server) platformRoutes() []route {
	r := func(method, path string, status int, fn func(*call) reply) route {
		return route{method: method, path: api3 + path, status: status, handle: fn}
	}
	return []route{
		r(http.MethodPost, "/search/jql", http.StatusOK, s.searchJQL),
		r(http.MethodGet, "/issue/{issueIdOrKey}", http.StatusOK, s.getIssue),
		r(http.MethodGet, "/issue/{issueIdOrKey}/comment", http.StatusOK, s.getComments),
		r(http.MethodGet, "/myself", http.StatusOK, s.getMyself),
	}
}

const msgIssueMissing = "Issue does not exist or you do not have permission to see it."

// issueExpand is what Jira's IssueBean says may be expanded.
const issueExpand = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

// allFields are the fields the server knows, in the order Jira tends to send them.
var allFields = []string{
	"statuscategorychangedate", "issuetype", "project", "resolution", "resolutiondate", "created",
	"priority", "labels", "assignee", "updated", "status", "description", "summary", "creator",
	"reporter", "comment", OrganizationsField, RequestTypeField,
}

// fieldSet is the fields an issue is rendered with; nil means the id alone.
type fieldSet map[string]bool

// selectFields reads Jira's field list: names, "*all" or "*navigable" (every field here),
// "id" (nothing more) and "-name" (exclusion); items may be comma-separated. Unknown names are
// ignored, as Jira ignores them. def applies when the list is empty.
func selectFields(list []string, def []string) fieldSet {
	var items []string
	for _, v := range list {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				items = append(items, f)
			}
		}
	}
	if len(items) == 0 {
		items = def
	}
	set := fieldSet{}
	more := false // anything beyond the id was asked for
	for _, f := range items {
		switch {
		case f == "*all" || f == "*navigable":
			for _, name := range allFields {
				set[name] = true
			}
			more = true
		case f == "id" || strings.HasPrefix(f, "-"):
		case slices.Contains(allFields, f):
			set[f] = true
			more = true
		default: // "key" and fields the server does not have
			more = true
		}
	}
	if !more {
		return nil
	}
	for _, f := range items {
		if name, ok := strings.CutPrefix(f, "-"); ok {
			delete(set, name)
		}
	}
	return set
}

// issueBean renders an issue with the fields in set: IssueBean of the v3 API (ADF text), or
// with adfText false the v2 representation webhooks carry (plain text).
func (s *Server) issueBean(is *Issue, set fieldSet, adfBodies bool) map[string]any {
	if set == nil {
		return map[string]any{"id": strconv.Itoa(is.ID)}
	}
	return map[string]any{
		"expand": issueExpand,
		"id":     strconv.Itoa(is.ID),
		"self":   fmt.Sprintf("%s%s/issue/%d", s.srv.URL, api3, is.ID),
		"key":    is.Key,
		"fields": s.issueFields(is, set, adfBodies),
	}
}

func (s *Server) issueFields(is *Issue, set fieldSet, adfBodies bool) map[string]any {
	base := s.srv.URL
	d := s.desk(is.ServiceDeskID)
	st := statusByName(is.Status)
	text := func(t string) any {
		if adfBodies {
			if doc := adf(t); doc != nil {
				return doc
			}
			return nil
		}
		if t == "" {
			return nil
		}
		return t
	}
	fields := map[string]any{}
	for name := range set {
		switch name {
		case "summary":
			fields[name] = is.Summary
		case "description":
			fields[name] = text(is.Description)
		case "created":
			fields[name] = s.jiraTime(is.Created)
		case "updated":
			fields[name] = s.jiraTime(is.Updated)
		case "resolutiondate":
			fields[name] = s.jiraTime(is.Resolved)
		case "statuscategorychangedate":
			fields[name] = s.jiraTime(is.StatusDate)
		case "status":
			id, key, catName, color := categoryInfo(st.category)
			fields[name] = map[string]any{
				"self": fmt.Sprintf("%s%s/status/%s", base, api3, st.id), "description": "",
				"iconUrl": base + "/images/icons/statuses/generic.png", "name": st.name, "id": st.id,
				"statusCategory": map[string]any{
					"self": fmt.Sprintf("%s%s/statuscategory/%d", base, api3, id),
					"id":   id, "key": key, "colorName": color, "name": catName,
				},
			}
		case "resolution":
			if st.resolution == "" {
				fields[name] = nil
			} else {
				rid := resolutionID(st.resolution)
				fields[name] = map[string]any{
					"self": fmt.Sprintf("%s%s/resolution/%s", base, api3, rid), "id": rid,
					"description": "", "name": st.resolution,
				}
			}
		case "reporter":
			fields[name] = s.platformUser(s.users[is.Reporter])
		case "creator":
			fields[name] = s.platformUser(s.users[is.Reporter])
		case "assignee":
			fields[name] = s.platformUser(s.users[is.Assignee])
		case "project":
			fields[name] = map[string]any{
				"self": fmt.Sprintf("%s%s/project/%d", base, api3, d.ProjectID), "id": strconv.Itoa(d.ProjectID),
				"key": d.ProjectKey, "name": d.ProjectName, "projectTypeKey": "service_desk", "simplified": false,
			}
		case "issuetype":
			rt := s.requestType(is.RequestTypeID)
			fields[name] = map[string]any{
				"self": fmt.Sprintf("%s%s/issuetype/%d", base, api3, rt.IssueTypeID), "id": strconv.Itoa(rt.IssueTypeID),
				"description": "For requests that require approval.", "name": "Service Request",
				"subtask": false, "hierarchyLevel": 0,
			}
		case "priority":
			fields[name] = s.priorityValue(is)
		case "labels":
			fields[name] = append([]string{}, is.Labels...)
		case "comment":
			comments := make([]any, 0, len(is.Comments))
			for _, cm := range is.Comments {
				comments = append(comments, s.platformComment(is, cm, adfBodies, false))
			}
			fields[name] = map[string]any{
				"comments": comments, "self": fmt.Sprintf("%s%s/issue/%d/comment", base, api3, is.ID),
				"maxResults": len(comments), "total": len(comments), "startAt": 0,
			}
		case OrganizationsField:
			orgs := make([]any, 0, len(is.Organizations))
			for _, id := range is.Organizations {
				orgs = append(orgs, s.jsmOrg(s.org(id)))
			}
			fields[name] = orgs
		case RequestTypeField:
			rt := s.jsmRequestType(s.requestType(is.RequestTypeID))
			fields[name] = map[string]any{
				"_links": map[string]any{
					"jiraRest": fmt.Sprintf("%s/rest/api/2/issue/%d", base, is.ID),
					"web":      fmt.Sprintf("%s/servicedesk/customer/portal/%d/%s", base, is.ServiceDeskID, is.Key),
					"agent":    fmt.Sprintf("%s/browse/%s", base, is.Key),
					"self":     fmt.Sprintf("%s%s/request/%d", base, sd, is.ID),
				},
				"requestType":   rt,
				"currentStatus": requestStatusDTO{Status: st.name, StatusCategory: st.category, StatusDate: s.date(is.StatusDate)},
			}
		}
	}
	return fields
}

// platformComment is a v3 Comment (ADF body) or, with adfBodies false, a v2 one (text body).
func (s *Server) platformComment(is *Issue, cm Comment, adfBodies, rendered bool) map[string]any {
	author := s.platformUser(s.users[cm.Author])
	var body any = cm.Body
	if adfBodies {
		body = adf(cm.Body)
	}
	out := map[string]any{
		"self":                   fmt.Sprintf("%s%s/issue/%d/comment/%d", s.srv.URL, api3, is.ID, cm.ID),
		"id":                     strconv.Itoa(cm.ID),
		"author":                 author,
		"body":                   body,
		"updateAuthor":           author,
		"created":                s.jiraTime(cm.Created),
		"updated":                s.jiraTime(cm.Created),
		"jsdPublic":              cm.Public,
		"jsdAuthorCanSeeRequest": true,
	}
	if rendered {
		out["renderedBody"] = renderHTML(cm.Body)
	}
	return out
}

// searchJQL is POST /rest/api/3/search/jql: token paging over the issues the JQL selects.
// maxResults defaults to 50 and is clamped to the server's search limit; fields default to the
// id alone; the last page has isLast true and no nextPageToken.
func (s *Server) searchJQL(c *call) reply {
	var in struct {
		JQL             string   `json:"jql"`
		MaxResults      *int     `json:"maxResults"`
		Fields          []string `json:"fields"`
		Expand          string   `json:"expand"`
		NextPageToken   string   `json:"nextPageToken"`
		Properties      []string `json:"properties"`
		FieldsByKeys    bool     `json:"fieldsByKeys"`
		ReconcileIssues []int64  `json:"reconcileIssues"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return platformFail(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
	}
	q, err := parseJQL(in.JQL, s.loc)
	if err != nil {
		return jqlFail(err)
	}
	if q.projects != nil {
		keys := make([]string, 0, len(q.projects))
		for _, v := range q.projects {
			d := s.deskByKey(v)
			if d == nil {
				if id, err := strconv.Atoi(v); err == nil {
					for _, x := range s.desks {
						if x.ProjectID == id {
							d = x
						}
					}
				}
			}
			if d == nil || c.user.Forbidden {
				return platformFail(http.StatusBadRequest, fmt.Sprintf("The value '%s' does not exist for the field 'project'.", v))
			}
			keys = append(keys, d.ProjectKey)
		}
		q.projects = keys
	}
	// Like Jira, a key clause naming an issue that does not exist (or that the user may not
	// see) is a 400, not an empty result.
	for _, k := range q.keys {
		if s.issue(k) == nil || c.user.Forbidden {
			return platformFail(http.StatusBadRequest, fmt.Sprintf("An issue with key '%s' does not exist for field 'key'.", k))
		}
	}
	limit := defaultLimit
	if in.MaxResults != nil && *in.MaxResults > 0 {
		limit = *in.MaxResults
	}
	limit = min(limit, s.searchMax)
	offset := 0
	if in.NextPageToken != "" {
		offset, err = readPageToken(in.NextPageToken, in.JQL)
		if err != nil {
			return platformFail(http.StatusBadRequest, "The provided next page token is invalid or expired.")
		}
	}
	var matches []*Issue
	if !c.user.Forbidden {
		for _, is := range s.issues {
			if q.matches(is, s.desk(is.ServiceDeskID).ProjectKey) {
				matches = append(matches, is)
			}
		}
	}
	slices.SortStableFunc(matches, q.compare)
	offset = min(offset, len(matches))
	end := min(offset+limit, len(matches))
	set := selectFields(in.Fields, []string{"id"})
	issues := make([]any, 0, end-offset)
	for _, is := range matches[offset:end] {
		issues = append(issues, s.issueBean(is, set, true))
	}
	out := map[string]any{"issues": issues, "isLast": end >= len(matches)}
	if end < len(matches) {
		out["nextPageToken"] = pageToken(end, in.JQL)
	}
	return reply{status: http.StatusOK, body: out}
}

func jqlFail(err error) reply {
	var je *jqlError
	if errors.As(err, &je) {
		return platformFail(http.StatusBadRequest, je.msg)
	}
	return platformFail(http.StatusBadRequest, err.Error())
}

// pageToken is an opaque token for the page starting at offset of the query jql.
func pageToken(offset int, jql string) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%08x", offset, jqlHash(jql)))
}

// readPageToken returns the offset of a token made for the same JQL.
func readPageToken(token, jql string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, err
	}
	var offset int
	var hash uint32
	if _, err := fmt.Sscanf(string(b), "%d:%08x", &offset, &hash); err != nil {
		return 0, err
	}
	if hash != jqlHash(jql) || offset < 0 {
		return 0, errors.New("token of another query")
	}
	return offset, nil
}

func jqlHash(jql string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(jql))
	return h.Sum32()
}

// issueParam finds the issue of the path; an agent without permission is told it does not
// exist, as Jira tells it.
func (s *Server) issueParam(c *call) (*Issue, *reply) {
	is := s.issue(c.p["issueIdOrKey"])
	if is == nil || c.user.Forbidden {
		r := platformFail(http.StatusNotFound, msgIssueMissing)
		return nil, &r
	}
	return is, nil
}

// getIssue is GET /rest/api/3/issue/{issueIdOrKey}; fields default to all.
func (s *Server) getIssue(c *call) reply {
	is, fail := s.issueParam(c)
	if fail != nil {
		return *fail
	}
	set := selectFields(c.q["fields"], []string{"*all"})
	bean := s.issueBean(is, set, true)
	if set == nil {
		bean["key"] = is.Key
		bean["self"] = fmt.Sprintf("%s%s/issue/%d", s.srv.URL, api3, is.ID)
		bean["fields"] = map[string]any{}
	}
	return reply{status: http.StatusOK, body: bean}
}

// getComments is GET /rest/api/3/issue/{issueIdOrKey}/comment: ADF bodies, oldest first
// unless orderBy=-created, startAt/maxResults paging (maxResults defaults to 100).
func (s *Server) getComments(c *call) reply {
	is, fail := s.issueParam(c)
	if fail != nil {
		return *fail
	}
	startAt, _ := strconv.Atoi(c.q.Get("startAt"))
	maxResults, err := strconv.Atoi(c.q.Get("maxResults"))
	if err != nil || maxResults <= 0 {
		maxResults = defaultCommentPage
	}
	maxResults = min(maxResults, maxCommentPage)
	startAt = max(startAt, 0)
	comments := slices.Clone(is.Comments)
	switch c.q.Get("orderBy") {
	case "", "created", "+created":
	case "-created":
		slices.Reverse(comments)
	default:
		return platformFail(http.StatusBadRequest, fmt.Sprintf("The orderBy value '%s' is not supported.", c.q.Get("orderBy")))
	}
	rendered := slices.Contains(expansions(c), "renderedBody")
	start := min(startAt, len(comments))
	end := min(start+maxResults, len(comments))
	page := make([]any, 0, end-start)
	for _, cm := range comments[start:end] {
		page = append(page, s.platformComment(is, cm, true, rendered))
	}
	return reply{status: http.StatusOK, body: map[string]any{
		"startAt": startAt, "maxResults": maxResults, "total": len(comments), "comments": page,
	}}
}

// getMyself is GET /rest/api/3/myself: the caller, forbidden or not.
func (s *Server) getMyself(c *call) reply {
	u := s.platformUser(c.user)
	u["locale"] = "en_US"
	u["groups"] = map[string]any{"size": 0, "items": []any{}}
	u["applicationRoles"] = map[string]any{"size": 1, "items": []any{}}
	u["expand"] = "groups,applicationRoles"
	return reply{status: http.StatusOK, body: u}
}
