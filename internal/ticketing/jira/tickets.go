package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/customer-portal/portal/internal/portal"
)

// pageSize is what the client asks of every JSM page; Jira may clamp it.
const pageSize = 100

// searchPageSize is the maxResults of a JQL search page; Jira clamps it (to 100 on Cloud).
const searchPageSize = 100

// CreateTicket raises a customer request on behalf of the reporter, who is found by email among
// the organization's users or JSM's customers, or created as a customer, and added to the
// organization. Participants are found or created the same way.
func (c *Client) CreateTicket(ctx context.Context, t portal.NewRemoteTicket) (*portal.RemoteTicket, error) {
	if strings.TrimSpace(t.Summary) == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "summary", "a ticket needs a summary")
	}
	if strings.TrimSpace(t.ReporterEmail) == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "reporterEmail", "a ticket needs the reporter's email")
	}
	typeID, err := c.requestType(t.RequestTypeID)
	if err != nil {
		return nil, err
	}
	orgID := 0
	if t.OrganizationID != "" {
		if orgID, err = strconv.Atoi(t.OrganizationID); err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "organizationId", "the Jira organization id %q is not a number", t.OrganizationID)
		}
	}
	var members map[string]string // email (lower case) -> account id, of the organization
	if orgID != 0 {
		if members, err = c.organizationMembers(ctx, orgID); err != nil {
			return nil, err
		}
	}
	var join []string // accounts to add to the organization
	account := func(email, name string) (string, error) {
		if id, ok := members[strings.ToLower(email)]; ok {
			return id, nil
		}
		id, err := c.customer(ctx, email, name)
		if err != nil {
			return "", err
		}
		if orgID != 0 && !slices.Contains(join, id) {
			join = append(join, id)
		}
		return id, nil
	}
	reporter, err := account(t.ReporterEmail, t.ReporterName)
	if err != nil {
		return nil, err
	}
	var participants []string
	for _, email := range t.ParticipantEmails {
		if strings.EqualFold(email, t.ReporterEmail) || strings.TrimSpace(email) == "" {
			continue
		}
		id, err := account(email, "")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(participants, id) {
			participants = append(participants, id)
		}
	}
	if len(join) > 0 {
		if res, err := c.jsm.Organization.Add(ctx, orgID, join); err != nil {
			return nil, c.fail("add customers to organization "+strconv.Itoa(orgID), res, err)
		}
	}
	payload := &models.CreateCustomerRequestPayloadScheme{
		ServiceDeskID:       c.cfg.ServiceDeskID,
		RequestTypeID:       typeID,
		RaiseOnBehalfOf:     reporter,
		RequestParticipants: participants,
		RequestFieldValues:  map[string]any{"summary": t.Summary},
	}
	if t.Description != "" {
		payload.RequestFieldValues["description"] = t.Description
	}
	if orgID != 0 {
		payload.RequestFieldValues[c.cfg.OrganizationsField] = []int{orgID}
	}
	if id, ok := c.cfg.Priorities[t.Priority]; ok && id != "" {
		payload.RequestFieldValues["priority"] = map[string]string{"id": id}
	}
	req, res, err := c.jsm.Request.Create(ctx, payload)
	if err != nil {
		return nil, c.fail("create requests", res, err)
	}
	out := c.fromRequest(req)
	if out.OrganizationID == "" && orgID != 0 {
		out.OrganizationID = strconv.Itoa(orgID)
	}
	c.log.Info("jira request created", "key", out.Key, "requestType", typeID)
	return out, nil
}

// requestType maps a portal ticket type id to a JSM request type id: through the configured
// map, "" to the default, and a JSM id as itself.
func (c *Client) requestType(id string) (string, error) {
	if v, ok := c.cfg.RequestTypes[id]; ok {
		return v, nil
	}
	for _, v := range c.cfg.RequestTypes {
		if v == id {
			return v, nil
		}
	}
	if id == "" {
		return "", portal.FieldErrorf(portal.Invalid, "requestTypeId", "no default Jira request type is configured")
	}
	if _, err := strconv.Atoi(id); err == nil {
		return id, nil
	}
	return "", portal.FieldErrorf(portal.Invalid, "requestTypeId", "no Jira request type is configured for ticket type %q", id)
}

// organizationMembers lists the users of an organization by email (lower case).
func (c *Client) organizationMembers(ctx context.Context, orgID int) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; ; {
		page, res, err := c.jsm.Organization.Users(ctx, orgID, start, pageSize)
		if err != nil {
			return nil, c.fail("read the users of organization "+strconv.Itoa(orgID), res, err)
		}
		for _, u := range page.Values {
			if u != nil && u.EmailAddress != "" {
				out[strings.ToLower(u.EmailAddress)] = u.AccountID
			}
		}
		if page.IsLastPage || len(page.Values) == 0 {
			return out, nil
		}
		start += len(page.Values)
	}
}

// customer returns the account id of the customer with email, creating the customer when JSM
// has none. JSM answers "already exists" with a 400 (409 when asked strictly): then the
// customer is looked up in the service desk's customers.
func (c *Client) customer(ctx context.Context, email, name string) (string, error) {
	if name == "" {
		name = email
	}
	created, res, err := c.jsm.Customer.Create(ctx, email, name)
	if err == nil {
		c.log.Info("jira customer created", "accountId", created.AccountID)
		return created.AccountID, nil
	}
	exists := res != nil && (res.Code == http.StatusConflict ||
		(res.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(jiraMessages(res)), "exist")))
	if !exists {
		return "", c.fail("create customers", res, err)
	}
	for start := 0; ; {
		page, res, err := c.jsm.Customer.Gets(ctx, c.cfg.ServiceDeskID, email, start, pageSize)
		if err != nil {
			return "", c.fail("search the service desk's customers", res, err)
		}
		for _, u := range page.Values {
			if u != nil && strings.EqualFold(u.EmailAddress, email) {
				return u.AccountID, nil
			}
		}
		if page.IsLastPage || len(page.Values) == 0 {
			break
		}
		start += len(page.Values)
	}
	return "", portal.FieldErrorf(portal.Invalid, "reporterEmail", "Jira has an account for %s that the service desk cannot see", email)
}

// GetTicket reads a customer request.
func (c *Client) GetTicket(ctx context.Context, key string) (*portal.RemoteTicket, error) {
	if key == "" {
		return nil, portal.Errorf(portal.NotFound, "Jira has no such ticket")
	}
	req, res, err := c.jsm.Request.Get(ctx, key, nil)
	if err != nil {
		return nil, c.fail("read requests", res, err)
	}
	// The service account may see other desks' requests (a webhook fires for the whole site):
	// only this desk's are the portal's.
	if req.ServiceDeskID != c.cfg.ServiceDeskID {
		return nil, portal.Errorf(portal.NotFound, "Jira has no such ticket on this service desk")
	}
	return c.fromRequest(req), nil
}

// fromRequest maps a JSM customer request to the portal's vocabulary. JSM's request view has no
// update time: UpdatedAt is the later of creation and the last status change (Changed, which
// reads the platform API, has the real one). Priority and OrganizationID are filled only when
// the request type exposes those fields in requestFieldValues.
func (c *Client) fromRequest(r *models.CustomerRequestScheme) *portal.RemoteTicket {
	out := &portal.RemoteTicket{Key: r.IssueKey, RequestTypeID: r.RequestTypeID}
	for _, f := range r.RequestFieldValues {
		if f == nil {
			continue
		}
		switch f.FieldID {
		case "summary":
			out.Summary, _ = f.Value.(string)
		case "description":
			out.Description = fieldText(f.Value)
		case "priority":
			if m, ok := f.Value.(map[string]any); ok {
				id, _ := m["id"].(string)
				name, _ := m["name"].(string)
				out.Priority = c.priority(id, name)
			}
		case c.cfg.OrganizationsField:
			out.OrganizationID = firstOrganization(f.Value)
		}
	}
	if r.Reporter != nil {
		out.ReporterEmail, out.ReporterName = r.Reporter.EmailAddress, r.Reporter.DisplayName
	}
	if r.CreatedDate != nil {
		out.CreatedAt = dtoTime(r.CreatedDate.EpochMillis, r.CreatedDate.ISO8601)
	}
	out.UpdatedAt = out.CreatedAt
	if s := r.CurrentStatus; s != nil {
		out.Status = status(s.Status, s.StatusCategory)
		out.StatusCategory = category(s.StatusCategory, out.Status)
		if s.StatusDate != nil {
			if at := dtoTime(s.StatusDate.EpochMillis, s.StatusDate.ISO8601); at.After(out.UpdatedAt) {
				out.UpdatedAt = at
			}
		}
	} else {
		out.Status, out.StatusCategory = portal.TicketOpen, portal.StatusCategoryOf(portal.TicketOpen)
	}
	return out
}

// dtoTime is a DateDTO's instant: epochMillis when given (exact), else iso8601.
func dtoTime(epochMillis int, iso models.DateTimeScheme) time.Time {
	if epochMillis != 0 {
		return time.UnixMilli(int64(epochMillis)).UTC()
	}
	return time.Time(iso).UTC()
}

// fieldText is a request field value as plain text (a string, or ADF's text).
func fieldText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		var node models.CommentNodeScheme
		if json.Unmarshal(b, &node) != nil {
			return ""
		}
		return adfText(&node)
	}
	return ""
}

// firstOrganization reads the first organization id of an Organizations field value.
func firstOrganization(v any) string {
	items, ok := v.([]any)
	if !ok || len(items) == 0 {
		return ""
	}
	switch x := items[0].(type) {
	case float64:
		return strconv.Itoa(int(x))
	case string:
		return x
	case map[string]any:
		switch id := x["id"].(type) {
		case string:
			return id
		case float64:
			return strconv.Itoa(int(id))
		}
	}
	return ""
}

// status maps a Jira status to a portal status: the names JSM's workflows use first, then the
// status category.
func status(name, cat string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "waiting for customer", "pending":
		return portal.TicketWaitingForCustomer
	case "closed", "canceled", "cancelled", "declined", "won't do":
		return portal.TicketClosed
	case "resolved", "done", "completed":
		return portal.TicketResolved
	case "in progress", "work in progress":
		return portal.TicketInProgress
	}
	switch strings.ToUpper(cat) {
	case "NEW":
		return portal.TicketOpen
	case "INDETERMINATE":
		return portal.TicketInProgress
	case "DONE":
		return portal.TicketResolved
	}
	return portal.TicketOpen
}

// category is the portal's status category (new, indeterminate, done) of a Jira category.
func category(cat, st string) string {
	switch c := strings.ToLower(cat); c {
	case "new", "indeterminate", "done":
		return c
	}
	return portal.StatusCategoryOf(st)
}

// priority maps a Jira priority to the portal's: through the inverse of Config.Priorities by
// id when priorities are mapped ("" for an id no portal priority maps to), else by its name.
func (c *Client) priority(id, name string) string {
	if len(c.cfg.Priorities) == 0 {
		return priorityByName(name)
	}
	if id == "" {
		return ""
	}
	// The portal's order makes the answer stable when two priorities share a Jira id.
	for _, p := range portal.Priorities {
		if c.cfg.Priorities[p] == id {
			return p
		}
	}
	return ""
}

// priorityByName maps Jira's priority names to the portal's priorities; "" when unknown.
func priorityByName(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "highest", "critical", "blocker", "urgent":
		return "critical"
	case "high", "major":
		return "high"
	case "medium", "normal":
		return "medium"
	case "low", "lowest", "minor", "trivial":
		return "low"
	}
	return ""
}

// adfText is the plain text of an ADF document: blocks separated by newlines.
func adfText(n *models.CommentNodeScheme) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*models.CommentNodeScheme)
	walk = func(n *models.CommentNodeScheme) {
		if n == nil {
			return
		}
		switch n.Type {
		case "text":
			b.WriteString(n.Text)
		case "hardBreak":
			b.WriteString("\n")
		}
		for _, child := range n.Content {
			walk(child)
		}
		switch n.Type {
		case "paragraph", "heading", "codeBlock", "blockquote", "listItem":
			b.WriteString("\n")
		}
	}
	walk(n)
	return strings.TrimRight(b.String(), "\n")
}

// AddComment adds a public comment, or an internal note when public is false.
func (c *Client) AddComment(ctx context.Context, key, body string, public bool) (*portal.RemoteComment, error) {
	if strings.TrimSpace(body) == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "body", "a comment needs a body")
	}
	cm, res, err := c.jsm.Request.Comment.Create(ctx, key, body, public)
	if err != nil {
		return nil, c.fail("comment on requests", res, err)
	}
	out := fromComment(cm)
	return &out, nil
}

func fromComment(cm *models.RequestCommentScheme) portal.RemoteComment {
	out := portal.RemoteComment{ID: cm.ID, Body: cm.Body, Public: cm.Public}
	if cm.Author != nil {
		out.AuthorName = cm.Author.DisplayName
	}
	if cm.Created != nil {
		out.CreatedAt = dtoTime(cm.Created.EpochMillis, cm.Created.ISO8601)
	}
	return out
}

// Comments returns every comment of a request, oldest first; internal notes only when internal.
func (c *Client) Comments(ctx context.Context, key string, internal bool) ([]portal.RemoteComment, error) {
	yes, no := true, false
	opts := &models.RequestCommentOptionsScheme{Public: &yes, Internal: &no, Limit: pageSize}
	if internal {
		opts.Internal = &yes
	}
	var out []portal.RemoteComment
	for {
		page, res, err := c.jsm.Request.Comment.Gets(ctx, key, opts)
		if err != nil {
			return nil, c.fail("read request comments", res, err)
		}
		for _, cm := range page.Values {
			if cm == nil || (!cm.Public && !internal) {
				continue
			}
			out = append(out, fromComment(cm))
		}
		if page.IsLastPage || len(page.Values) == 0 {
			break
		}
		opts.Start += len(page.Values)
	}
	slices.SortStableFunc(out, func(a, b portal.RemoteComment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Participants returns every request participant of a request, following JSM's pages until
// isLastPage: one call per page of up to pageSize (JSM may clamp the limit).
func (c *Client) Participants(ctx context.Context, key string) ([]portal.RemoteUser, error) {
	var out []portal.RemoteUser
	for start := 0; ; {
		page, res, err := c.jsm.Request.Participant.Gets(ctx, key, start, pageSize)
		if err != nil {
			return nil, c.fail("read request participants", res, err)
		}
		for _, u := range page.Values {
			if u == nil || u.AccountID == "" {
				continue
			}
			out = append(out, portal.RemoteUser{AccountID: u.AccountID, Email: u.EmailAddress, Name: u.DisplayName})
		}
		if page.IsLastPage || len(page.Values) == 0 {
			return out, nil
		}
		start += len(page.Values)
	}
}

// SetStatus moves a request to a portal status through one of the customer transitions Jira
// offers from its current status. JSM names transitions but does not say where they lead, so
// the transition is chosen by its name (see transitionTarget).
func (c *Client) SetStatus(ctx context.Context, key, want string) error {
	if !slices.Contains(portal.TicketStatuses, want) {
		return portal.FieldErrorf(portal.Invalid, "status", "%q is not a ticket status", want)
	}
	req, res, err := c.jsm.Request.Get(ctx, key, nil)
	if err != nil {
		return c.fail("read requests", res, err)
	}
	if cur := c.fromRequest(req); cur.Status == want {
		return nil
	}
	var pick *models.CustomerRequestTransitionScheme
	for start := 0; pick == nil; {
		page, res, err := c.jsm.Request.Transitions(ctx, key, start, pageSize)
		if err != nil {
			return c.fail("transition requests", res, err)
		}
		for _, t := range page.Values {
			if t != nil && transitionTarget(t.Name) == want {
				pick = t
				break
			}
		}
		if page.IsLastPage || len(page.Values) == 0 {
			break
		}
		start += len(page.Values)
	}
	if pick == nil {
		return portal.FieldErrorf(portal.Invalid, "status", "Jira's workflow offers no transition to %s from here", want)
	}
	if res, err := c.jsm.Request.Transition(ctx, key, pick.ID, ""); err != nil {
		return c.fail("transition requests", res, err)
	}
	c.log.Info("jira request transitioned", "key", key, "transition", pick.Name, "status", want)
	return nil
}

// transitionTarget is the portal status a customer transition leads to, judged by its name as
// JSM's workflows name them ("Resolve this issue", "Cancel request", "Respond to support",
// "Reopen"), or by a status name it carries; "" when the name says nothing.
func transitionTarget(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "reopen"), strings.Contains(n, "respond"), strings.Contains(n, "waiting for support"):
		return portal.TicketOpen
	case strings.Contains(n, "waiting for customer"), strings.Contains(n, "pending"):
		return portal.TicketWaitingForCustomer
	case strings.Contains(n, "cancel"), strings.Contains(n, "close"), strings.Contains(n, "withdraw"):
		return portal.TicketClosed
	case strings.Contains(n, "resolve"), strings.Contains(n, "done"), strings.Contains(n, "complete"):
		return portal.TicketResolved
	case strings.Contains(n, "progress"), strings.Contains(n, "start"):
		return portal.TicketInProgress
	case strings.Contains(n, "open"):
		return portal.TicketOpen
	}
	return ""
}

// searchFields are the fields Changed asks Jira for.
func (c *Client) searchFields() []string {
	return []string{"summary", "description", "status", "priority", "reporter", "created", "updated",
		c.cfg.OrganizationsField, c.cfg.RequestTypeField}
}

// Changed calls fn for every request of the service desk's project updated at or after since,
// oldest first, following Jira's page tokens to the end. JQL dates have minutes and are read in
// the service account's time zone, so the query starts at the minute of since in that zone and
// tickets updated before since are skipped.
func (c *Client) Changed(ctx context.Context, since time.Time, fn func(portal.RemoteTicket) error) error {
	project, loc, err := c.searchContext(ctx)
	if err != nil {
		return err
	}
	jql := fmt.Sprintf(`project = %s AND updated >= "%s" ORDER BY updated ASC`, project, since.In(loc).Format("2006/01/02 15:04"))
	fields := c.searchFields()
	token := ""
	for {
		page, res, err := c.jira.Issue.Search.SearchJQL(ctx, jql, fields, nil, searchPageSize, token)
		if err != nil {
			return c.fail("search issues", res, err)
		}
		custom := c.customFields(res)
		for _, is := range page.Issues {
			if is == nil {
				continue
			}
			t := c.fromIssue(is, custom[is.Key])
			if t.UpdatedAt.Before(since) {
				continue
			}
			if err := fn(t); err != nil {
				return err
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		token = page.NextPageToken
	}
}

// FindTicket reads one request through the JQL search Changed uses (`project = P AND key = K`,
// the same fields, one call once the desk's project key is known), so unlike GetTicket it sees
// the Organizations field whatever the request type's form shows. NotFound when the desk's
// project has no such issue: another desk's, an unknown one, or one the search index does not
// have yet (Jira answers a key it does not know with a 400 naming it).
func (c *Client) FindTicket(ctx context.Context, key string) (*portal.RemoteTicket, error) {
	if !validIssueKey(key) {
		return nil, portal.Errorf(portal.NotFound, "Jira has no such ticket")
	}
	project, _, err := c.searchContext(ctx)
	if err != nil {
		return nil, err
	}
	jql := fmt.Sprintf(`project = %s AND key = %s`, project, key)
	page, res, err := c.jira.Issue.Search.SearchJQL(ctx, jql, c.searchFields(), nil, 1, "")
	if err != nil {
		if res != nil && res.Code == http.StatusBadRequest && strings.Contains(jiraMessages(res), "does not exist for field 'key'") {
			return nil, portal.Errorf(portal.NotFound, "Jira has no such ticket")
		}
		return nil, c.fail("search issues", res, err)
	}
	custom := c.customFields(res)
	for _, is := range page.Issues {
		if is != nil && strings.EqualFold(is.Key, key) {
			t := c.fromIssue(is, custom[is.Key])
			return &t, nil
		}
	}
	// Another desk's request (or one moved away): not the portal's.
	return nil, portal.Errorf(portal.NotFound, "Jira has no such ticket on this service desk")
}

// validIssueKey reports whether key looks like an issue key (PROJECT-123), safe to put in JQL.
func validIssueKey(key string) bool {
	project, n, ok := strings.Cut(key, "-")
	if !ok || !validProjectKey(project) || n == "" || project[0] < 'A' || project[0] > 'Z' {
		return false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// searchContext is the desk's project key and the service account's time zone, read once.
func (c *Client) searchContext(ctx context.Context) (string, *time.Location, error) {
	c.searchMu.Lock()
	defer c.searchMu.Unlock()
	if c.projectKey != "" {
		return c.projectKey, c.userLoc, nil
	}
	desk, res, err := c.jsm.ServiceDesk.Get(ctx, c.cfg.ServiceDeskID)
	if err != nil {
		return "", nil, c.fail("read service desk "+c.cfg.ServiceDeskID, res, err)
	}
	me, res, err := c.jira.MySelf.Details(ctx, nil)
	if err != nil {
		return "", nil, c.fail("read the service account", res, err)
	}
	loc := time.UTC
	if me.TimeZone != "" {
		if l, err := time.LoadLocation(me.TimeZone); err == nil {
			loc = l
		}
	}
	if !validProjectKey(desk.ProjectKey) {
		return "", nil, portal.Errorf(portal.Unavailable, "Jira named an unusable project key for service desk %s", c.cfg.ServiceDeskID)
	}
	c.projectKey, c.userLoc = desk.ProjectKey, loc
	return c.projectKey, c.userLoc, nil
}

func validProjectKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// issueCustom are the custom fields of a searched issue that go-atlassian's structs lack.
type issueCustom struct {
	organizationID string
	requestTypeID  string
}

// customFields reads the Organizations and Customer Request Type fields of a search page from
// its raw body, by issue key.
func (c *Client) customFields(res *models.ResponseScheme) map[string]issueCustom {
	var body struct {
		Issues []struct {
			Key    string                     `json:"key"`
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"issues"`
	}
	out := map[string]issueCustom{}
	if res == nil || json.Unmarshal(res.Bytes.Bytes(), &body) != nil {
		return out
	}
	for _, is := range body.Issues {
		var x issueCustom
		if raw, ok := is.Fields[c.cfg.OrganizationsField]; ok {
			var orgs []struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(raw, &orgs) == nil && len(orgs) > 0 {
				x.organizationID = strings.Trim(string(orgs[0].ID), `"`)
			}
		}
		if raw, ok := is.Fields[c.cfg.RequestTypeField]; ok {
			var rt struct {
				RequestType struct {
					ID string `json:"id"`
				} `json:"requestType"`
			}
			if json.Unmarshal(raw, &rt) == nil {
				x.requestTypeID = rt.RequestType.ID
			}
		}
		out[is.Key] = x
	}
	return out
}

// fromIssue maps a platform issue to a RemoteTicket.
func (c *Client) fromIssue(is *models.IssueScheme, custom issueCustom) portal.RemoteTicket {
	out := portal.RemoteTicket{Key: is.Key, OrganizationID: custom.organizationID, RequestTypeID: custom.requestTypeID}
	f := is.Fields
	if f == nil {
		out.Status, out.StatusCategory = portal.TicketOpen, "new"
		return out
	}
	out.Summary = f.Summary
	out.Description = adfText(f.Description)
	cat := ""
	name := ""
	if f.Status != nil {
		name = f.Status.Name
		if f.Status.StatusCategory != nil {
			cat = f.Status.StatusCategory.Key
		}
	}
	out.Status = status(name, categoryName(cat))
	out.StatusCategory = category(cat, out.Status)
	if f.Priority != nil {
		out.Priority = c.priority(f.Priority.ID, f.Priority.Name)
	}
	if f.Reporter != nil {
		out.ReporterEmail, out.ReporterName = f.Reporter.EmailAddress, f.Reporter.DisplayName
	}
	if f.Created != nil {
		out.CreatedAt = time.Time(*f.Created).UTC()
	}
	if f.Updated != nil {
		out.UpdatedAt = time.Time(*f.Updated).UTC()
	}
	return out
}

// categoryName is JSM's category name (NEW, INDETERMINATE, DONE) of a platform category key.
func categoryName(key string) string { return strings.ToUpper(key) }

// searchState caches what Changed needs to build its JQL.
type searchState struct {
	searchMu   sync.Mutex
	projectKey string
	userLoc    *time.Location
}
