// Package jiratest runs a Jira Service Management (JSM) server for tests: a real HTTP server
// that speaks the wire format of Jira Cloud's /rest/servicedeskapi and /rest/api/3, as
// shared/contracts/NOTES.md describes it, so that go-atlassian (and the portal through it)
// cannot tell it from the real thing.
//
// It serves the part of JSM a customer portal needs (service desks, request types,
// organizations and their users, customers, customer requests with comments, transitions and
// participants) with JSM's paging ({"size","start","limit","isLastPage","values","_links"}),
// string IDs that are numeric, DateDTO dates with "+0000" offsets, and JSM's error bodies. Of the
// platform API it serves POST /rest/api/3/search/jql (token paging, a small JQL subset), GET
// issue, GET comments (ADF bodies) and GET myself. Every call needs basic auth (email and API
// token); an agent without permission gets 403s or empty results, as in Jira.
//
// Tests control the server: SetLatency, Fail, RateLimit and Reset inject faults; UpdateIssue
// plays an agent working in Jira; SeedIssues creates many issues at once; Webhook builds the
// payload Jira would send. Routes live in one table; the package's tests check every route
// against the vendors' OpenAPI documents, and every server validates each response it sends
// against them while a test runs (see New).
package jiratest

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/contracttest"
	"github.com/google/uuid"
)

// Default credentials of the API user (an agent with permission to everything), and the
// default field id of JSM's "Organizations" custom field.
const (
	DefaultEmail       = "agent@example.com"
	DefaultToken       = "jira-api-token"
	OrganizationsField = "customfield_10002"
)

// Priorities every server starts with, as Jira Cloud's default priority scheme has them
// (AddPriority adds more), and the one a request gets when raised without one.
const (
	PriorityHighest   = "1"
	PriorityHigh      = "2"
	PriorityMedium    = "3"
	PriorityLow       = "4"
	PriorityLowest    = "5"
	DefaultPriorityID = PriorityMedium
)

// Paging defaults: JSM and Jira answer 50 items when the client asks for none, and clamp what a
// client asks for to a maximum (SetPageLimit, SetSearchLimit).
const (
	defaultLimit       = 50
	defaultSearchMax   = 100
	defaultCommentPage = 100
	maxCommentPage     = 5000
)

// account is a Jira account: an agent (who can use the API with its token) or a JSM customer.
type account struct {
	AccountID   string
	Email       string
	DisplayName string
	// Customer marks a JSM customer account (accountType "customer"); agents are "atlassian".
	Customer bool
	// Token is an agent's API token; customers have none.
	Token string
	// Forbidden agents are authenticated but lack every permission: JSM answers them 403 (or
	// an empty list where the spec has no 403), the platform API hides every issue.
	Forbidden bool
}

// serviceDesk is a JSM service desk and its project.
type serviceDesk struct {
	ID          int
	ProjectID   int
	ProjectKey  string
	ProjectName string
}

// requestType is a request type of a service desk. Every request type asks for a summary and an
// optional description, and accepts the priority and Organizations fields.
type requestType struct {
	ID            int
	ServiceDeskID int
	Name          string
	Description   string
	IssueTypeID   int
}

// organization is a JSM customer organization.
type organization struct {
	ID      int
	Name    string
	Members []string // account ids, in the order they were added
}

// priority is a Jira priority.
type priority struct {
	ID   string
	Name string
}

// Issue is a customer request as Jira stores it. UpdateIssue hands tests a copy to change.
type Issue struct {
	ID            int    // read-only
	Key           string // read-only, e.g. "SD-12"
	ServiceDeskID int    // read-only
	RequestTypeID int    // read-only
	Summary       string
	Description   string // plain text; the platform API renders it as ADF
	// Status is a status name of the workflow (the Status* constants). Changing it moves the status
	// date and sets or clears the resolution as Jira's workflow does.
	Status        string
	Reporter      string   // account id
	Assignee      string   // account id or ""
	Participants  []string // account ids
	Organizations []int    // organization ids the request is shared with
	// Priority is the id of the issue's priority (DefaultPriorityID unless the request was
	// raised with one, or changed); "" reads as the default.
	Priority string
	Labels   []string
	Comments []Comment
	Created  time.Time
	// Updated is the last change. UpdateIssue moves it to the server's clock unless the
	// mutation sets it.
	Updated    time.Time
	Resolved   time.Time // zero while unresolved
	StatusDate time.Time // when the current status was entered

	history []statusChange
	// priorityField marks a request raised with the priority field: its request type's form
	// has the field, so JSM's request view carries it.
	priorityField bool
}

// Comment is a comment on a request: public (shown to customers) or internal.
type Comment struct {
	ID      int    // assigned when 0
	Author  string // account id; the API user when empty
	Body    string
	Public  bool
	Created time.Time // the server's clock when zero
}

type statusChange struct {
	status string
	at     time.Time
}

// Server is a Jira Service Management site. Its methods are safe for concurrent use.
type Server struct {
	srv      *httptest.Server
	routes   []route               // fixed once New returns
	contract *contracttest.Checker // validates responses; nil when the specs are unavailable

	mu        sync.Mutex
	now       func() time.Time
	loc       *time.Location
	agent     string              // account id of the API user (SetCredentials)
	users     map[string]*account // by account id
	desks     []*serviceDesk
	types     []*requestType
	orgs      []*organization
	prios     []*priority
	issues    []*Issue          // in creation order
	byKey     map[string]*Issue // by upper-case key
	byID      map[int]*Issue
	keyNext   map[string]int // next issue number by project key
	nextID    int            // ids of desks, request types, organizations, issues, comments
	pageLimit int
	searchMax int

	latency    time.Duration
	failStatus int
	failCount  int
	rateCount  int
	retryAfter time.Duration
	resets     int
	calls      int
	callsTo    map[string]int // by "METHOD /path/{template}"
}

// New starts a Jira site and closes it when the test ends. The site has one agent, the API
// user, with DefaultEmail and DefaultToken (see SetCredentials), and nothing else: add service
// desks, request types, organizations and customers.
//
// Every response is checked against jsm-openapi.json or jira-platform-openapi.json (found in
// ../shared/contracts beside the module root): its status must be one the operation lists when
// it is a success, and its body must match the schema the spec gives for that status. A
// mismatch fails tb when the test ends. Without the specs the check is skipped and tb logs why.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		now:       time.Now,
		loc:       time.UTC,
		users:     map[string]*account{},
		byKey:     map[string]*Issue{},
		byID:      map[int]*Issue{},
		keyNext:   map[string]int{},
		nextID:    10000,
		pageLimit: defaultLimit,
		searchMax: defaultSearchMax,
		callsTo:   map[string]int{},
	}
	for i, name := range []string{"Highest", "High", "Medium", "Low", "Lowest"} {
		s.prios = append(s.prios, &priority{ID: strconv.Itoa(i + 1), Name: name})
	}
	s.routes = slices.Concat(s.jsmRoutes(), s.platformRoutes())
	agent := &account{AccountID: agentAccountID(), Email: DefaultEmail, DisplayName: "Portal Agent", Token: DefaultToken}
	s.users[agent.AccountID] = agent
	s.agent = agent.AccountID
	// The contract reports when the test ends, after the server has closed (see NewChecker).
	if jsm, platform, err := loadSpecs(); err != nil {
		tb.Logf("jiratest: responses are not checked against the Jira OpenAPI documents: %v", err)
	} else {
		s.contract = newContract(tb, jsm, platform)
	}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the site's base URL, what sm.New and v3.New take.
func (s *Server) URL() string { return s.srv.URL }

// Credentials are the API user's email and API token.
func (s *Server) Credentials() (email, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[s.agent]
	return u.Email, u.Token
}

// AgentAccountID is the API user's account id: the reporter of requests raised without
// raiseOnBehalfOf and the author of comments made through the API.
func (s *Server) AgentAccountID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agent
}

// SetCredentials changes the API user's email and token.
func (s *Server) SetCredentials(email, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[s.agent]
	u.Email, u.Token = email, token
}

// AddAgent adds another agent who can call the API with email and token; forbidden agents
// lack every permission. It returns the agent's account id.
func (s *Server) AddAgent(email, token, displayName string, forbidden bool) (accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if email == "" || token == "" {
		panic("jiratest: AddAgent: email and token are required")
	}
	if s.userByEmail(email) != nil {
		panic(fmt.Sprintf("jiratest: AddAgent: an account with email %q exists", email))
	}
	u := &account{AccountID: agentAccountID(), Email: email, DisplayName: displayName, Token: token, Forbidden: forbidden}
	s.users[u.AccountID] = u
	return u.AccountID
}

// SetForbidden takes every permission from the agent with accountID (true) or gives them back.
func (s *Server) SetForbidden(accountID string, forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[accountID]
	if u == nil || u.Customer {
		panic(fmt.Sprintf("jiratest: SetForbidden: no agent %q", accountID))
	}
	u.Forbidden = forbidden
}

// AddCustomer adds a JSM customer account and returns its account id (JSM's "qm:…" form).
func (s *Server) AddCustomer(email, displayName string) (accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userByEmail(email) != nil {
		panic(fmt.Sprintf("jiratest: AddCustomer: an account with email %q exists", email))
	}
	return s.addCustomerLocked(email, displayName).AccountID
}

func (s *Server) addCustomerLocked(email, displayName string) *account {
	u := &account{AccountID: customerAccountID(), Email: email, DisplayName: displayName, Customer: true}
	s.users[u.AccountID] = u
	return u
}

// AddServiceDesk adds a service desk for a new project and returns the service desk's id.
func (s *Server) AddServiceDesk(projectKey, projectName string) (serviceDeskID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	projectKey = strings.ToUpper(projectKey)
	if projectKey == "" || strings.ContainsAny(projectKey, " -/") {
		panic(fmt.Sprintf("jiratest: AddServiceDesk: invalid project key %q", projectKey))
	}
	if s.deskByKey(projectKey) != nil {
		panic(fmt.Sprintf("jiratest: AddServiceDesk: project %q exists", projectKey))
	}
	d := &serviceDesk{ID: len(s.desks) + 1, ProjectID: s.newID(), ProjectKey: projectKey, ProjectName: projectName}
	s.desks = append(s.desks, d)
	s.keyNext[projectKey] = 1
	return d.ID
}

// AddRequestType adds a request type to a service desk and returns its id.
func (s *Server) AddRequestType(serviceDeskID int, name, description string) (requestTypeID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.desk(serviceDeskID) == nil {
		panic(fmt.Sprintf("jiratest: AddRequestType: no service desk %d", serviceDeskID))
	}
	rt := &requestType{ID: len(s.types) + 1, ServiceDeskID: serviceDeskID, Name: name, Description: description, IssueTypeID: 10100}
	s.types = append(s.types, rt)
	return rt.ID
}

// AddPriority adds a priority and returns its id. Every server starts with Highest, High,
// Medium, Low and Lowest (ids "1" to "5", the Priority* constants).
func (s *Server) AddPriority(name string) (priorityID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		panic("jiratest: AddPriority: a priority needs a name")
	}
	next := 1
	for _, p := range s.prios {
		if n, err := strconv.Atoi(p.ID); err == nil && n >= next {
			next = n + 1
		}
	}
	p := &priority{ID: strconv.Itoa(next), Name: name}
	s.prios = append(s.prios, p)
	return p.ID
}

// priority finds a priority by id ("" is the default priority); s.mu must be held.
func (s *Server) priority(id string) *priority {
	if id == "" {
		id = DefaultPriorityID
	}
	for _, p := range s.prios {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// priorityNamed finds a priority by name, case-insensitively; s.mu must be held.
func (s *Server) priorityNamed(name string) *priority {
	for _, p := range s.prios {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// AddOrganization adds a customer organization and returns its id.
func (s *Server) AddOrganization(name string) (organizationID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &organization{ID: len(s.orgs) + 1, Name: name}
	s.orgs = append(s.orgs, o)
	return o.ID
}

// AddToOrganization makes accounts members of an organization.
func (s *Server) AddToOrganization(organizationID int, accountIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(organizationID)
	if o == nil {
		panic(fmt.Sprintf("jiratest: AddToOrganization: no organization %d", organizationID))
	}
	for _, id := range accountIDs {
		if s.users[id] == nil {
			panic(fmt.Sprintf("jiratest: AddToOrganization: no account %q", id))
		}
		if !slices.Contains(o.Members, id) {
			o.Members = append(o.Members, id)
		}
	}
}

// SetClock makes the server read the time from now (the default is time.Now).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetTimeZone sets the API user's time zone (UTC by default): Jira renders dates in it and reads
// JQL dates in it.
func (s *Server) SetTimeZone(loc *time.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loc = loc
}

// SetPageLimit sets the most items a JSM page holds (default 50); larger limits are clamped.
func (s *Server) SetPageLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		panic("jiratest: SetPageLimit: n must be positive")
	}
	s.pageLimit = n
}

// SetSearchLimit sets the most issues a /search/jql page holds (default 100); larger
// maxResults are clamped.
func (s *Server) SetSearchLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		panic("jiratest: SetSearchLimit: n must be positive")
	}
	s.searchMax = n
}

// Issue returns a copy of the issue with the key or id, and whether it exists.
func (s *Server) Issue(keyOrID string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issue(keyOrID)
	if is == nil {
		return Issue{}, false
	}
	return is.clone(), true
}

// Issues returns copies of every issue, oldest first.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, len(s.issues))
	for i, is := range s.issues {
		out[i] = is.clone()
	}
	return out
}

// UpdateIssue changes an issue as an agent working in Jira would: mutate gets a copy to change
// (status, comments, summary, ...). Afterwards Updated moves to the server's clock unless
// mutate changed it; a new status moves the status date and sets or clears the resolution;
// new comments get ids, the API user as author and the clock as creation time where unset.
// It panics on an unknown issue, status, account or organization.
func (s *Server) UpdateIssue(key string, mutate func(*Issue)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issue(key)
	if is == nil {
		panic(fmt.Sprintf("jiratest: UpdateIssue: no issue %q", key))
	}
	c := is.clone()
	mutate(&c)
	now := s.clock()
	c.ID, c.Key, c.ServiceDeskID, c.RequestTypeID = is.ID, is.Key, is.ServiceDeskID, is.RequestTypeID
	if err := s.validIssue(&c); err != nil {
		panic("jiratest: UpdateIssue: " + err.Error())
	}
	if c.Status != is.Status {
		s.setStatus(&c, c.Status, now)
	}
	for i := range c.Comments {
		s.fillComment(&c.Comments[i], now)
	}
	if c.Updated.Equal(is.Updated) {
		c.Updated = now
	}
	*is = c
}

// SeedIssues creates n requests at once in the first service desk, with its first request type,
// reported by the first customer (or the API user when there is none). Their creation and
// update times are one second apart, ending at the server's clock. It returns their keys.
func (s *Server) SeedIssues(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.desks) == 0 {
		panic("jiratest: SeedIssues: add a service desk and a request type first")
	}
	d := s.desks[0]
	var rt *requestType
	for _, t := range s.types {
		if t.ServiceDeskID == d.ID {
			rt = t
			break
		}
	}
	if rt == nil {
		panic("jiratest: SeedIssues: the first service desk has no request type")
	}
	reporter := s.agent
	for _, u := range s.sortedUsers() {
		if u.Customer {
			reporter = u.AccountID
			break
		}
	}
	now := s.clock()
	keys := make([]string, n)
	for i := range n {
		at := now.Add(-time.Duration(n-1-i) * time.Second)
		is := s.createIssue(d, rt, reporter, fmt.Sprintf("Seeded request %d", i+1), "Seeded by jiratest.", at)
		keys[i] = is.Key
	}
	return keys
}

// Calls is the number of requests the server has received, faults included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsTo is the number of requests to one route, by method and the spec's path template, e.g.
// CallsTo("POST", "/rest/api/3/search/jql").
func (s *Server) CallsTo(method, pathTemplate string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsTo[method+" "+pathTemplate]
}

// SetLatency delays every answer by d (0 for none), after reading the request's body, so that
// a client's timeout covers the wait. A request whose client gives up stops waiting.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Fail makes the next n requests answer status (e.g. 503) with Jira's error body.
func (s *Server) Fail(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failCount = status, n
}

// RateLimit makes the next n requests answer 429 with a Retry-After header of retryAfter,
// rounded up to whole seconds.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateCount, s.retryAfter = n, retryAfter
}

// Reset makes the server drop the connection of the next request without an answer (a TCP
// reset), as a failing proxy does; each call drops one more request. Go's transport retries an
// idempotent request (GET, DELETE) once by itself when a reused connection fails that way, so to
// make a GET fail, call Reset twice (or use a fresh connection).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets++
}

// clock is the server's time, in milliseconds as Jira keeps it; s.mu must be held.
func (s *Server) clock() time.Time { return s.now().Truncate(time.Millisecond) }

// newID returns the next numeric id; s.mu must be held.
func (s *Server) newID() int {
	s.nextID++
	return s.nextID
}

func (s *Server) desk(id int) *serviceDesk {
	if id < 1 || id > len(s.desks) {
		return nil
	}
	return s.desks[id-1]
}

func (s *Server) deskByKey(key string) *serviceDesk {
	for _, d := range s.desks {
		if strings.EqualFold(d.ProjectKey, key) {
			return d
		}
	}
	return nil
}

func (s *Server) requestType(id int) *requestType {
	if id < 1 || id > len(s.types) {
		return nil
	}
	return s.types[id-1]
}

func (s *Server) org(id int) *organization {
	if id < 1 || id > len(s.orgs) {
		return nil
	}
	return s.orgs[id-1]
}

// issue finds an issue by key (any case) or numeric id; s.mu must be held.
func (s *Server) issue(keyOrID string) *Issue {
	if is := s.byKey[strings.ToUpper(keyOrID)]; is != nil {
		return is
	}
	var id int
	if _, err := fmt.Sscanf(keyOrID, "%d", &id); err == nil && fmt.Sprint(id) == keyOrID {
		return s.byID[id]
	}
	return nil
}

func (s *Server) userByEmail(email string) *account {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}

// sortedUsers are the accounts in a stable order (by account id).
func (s *Server) sortedUsers() []*account {
	out := make([]*account, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *account) int { return strings.Compare(a.AccountID, b.AccountID) })
	return out
}

// createIssue stores a new request; s.mu must be held.
func (s *Server) createIssue(d *serviceDesk, rt *requestType, reporter, summary, description string, at time.Time) *Issue {
	n := s.keyNext[d.ProjectKey]
	s.keyNext[d.ProjectKey] = n + 1
	is := &Issue{
		ID:            s.newID(),
		Key:           fmt.Sprintf("%s-%d", d.ProjectKey, n),
		ServiceDeskID: d.ID,
		RequestTypeID: rt.ID,
		Summary:       summary,
		Description:   description,
		Reporter:      reporter,
		Priority:      DefaultPriorityID,
		Created:       at,
		Updated:       at,
	}
	s.setStatus(is, initialStatus, at)
	s.issues = append(s.issues, is)
	s.byKey[is.Key] = is
	s.byID[is.ID] = is
	return is
}

// setStatus moves an issue to status at time at, with the resolution Jira's workflow sets.
func (s *Server) setStatus(is *Issue, status string, at time.Time) {
	is.Status = status
	is.StatusDate = at
	is.history = append(is.history, statusChange{status: status, at: at})
	if statusByName(status).category == categoryDone {
		if is.Resolved.IsZero() {
			is.Resolved = at
		}
	} else {
		is.Resolved = time.Time{}
	}
}

// fillComment gives a new comment its id, author and creation time where unset.
func (s *Server) fillComment(c *Comment, now time.Time) {
	if c.ID == 0 {
		c.ID = s.newID()
	}
	if c.Author == "" {
		c.Author = s.agent
	}
	if c.Created.IsZero() {
		c.Created = now
	}
}

// validIssue checks what a test's mutation may have broken.
func (s *Server) validIssue(is *Issue) error {
	if statusByName(is.Status) == nil {
		return fmt.Errorf("unknown status %q (known: %s)", is.Status, strings.Join(statusNames(), ", "))
	}
	for _, id := range slices.Concat([]string{is.Reporter}, is.Participants) {
		if s.users[id] == nil {
			return fmt.Errorf("no account %q", id)
		}
	}
	if s.priority(is.Priority) == nil {
		return fmt.Errorf("no priority %q", is.Priority)
	}
	if is.Assignee != "" && s.users[is.Assignee] == nil {
		return fmt.Errorf("no account %q", is.Assignee)
	}
	for _, c := range is.Comments {
		if c.Author != "" && s.users[c.Author] == nil {
			return fmt.Errorf("no account %q", c.Author)
		}
	}
	for _, id := range is.Organizations {
		if s.org(id) == nil {
			return fmt.Errorf("no organization %d", id)
		}
	}
	return nil
}

func (is *Issue) clone() Issue {
	c := *is
	c.Participants = slices.Clone(is.Participants)
	c.Organizations = slices.Clone(is.Organizations)
	c.Labels = slices.Clone(is.Labels)
	c.Comments = slices.Clone(is.Comments)
	c.history = slices.Clone(is.history)
	return c
}

// agentAccountID is an Atlassian account id as agents have them ("712020:<uuid>").
func agentAccountID() string { return "712020:" + uuid.NewString() }

// customerAccountID is an account id as JSM gives customers ("qm:<uuid>:<uuid>").
func customerAccountID() string { return "qm:" + uuid.NewString() + ":" + uuid.NewString() }
