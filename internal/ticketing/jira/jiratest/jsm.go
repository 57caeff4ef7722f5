package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

const sd = "/rest/servicedeskapi"

// jsmRoutes are the /rest/servicedeskapi endpoints the server implements, with the path
// templates and success statuses of jsm-openapi.json.
func (s *Server) jsmRoutes() []route {
	r := func(method, path string, status int, fn func(*call) reply) route {
		return route{method: method, path: sd + path, status: status, handle: fn}
	}
	return []route{
		r(http.MethodGet, "/servicedesk", http.StatusOK, s.listServiceDesks),
		r(http.MethodGet, "/servicedesk/{serviceDeskId}", http.StatusOK, s.getServiceDesk),
		r(http.MethodGet, "/servicedesk/{serviceDeskId}/requesttype", http.StatusOK, s.listRequestTypes),
		r(http.MethodGet, "/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}", http.StatusOK, s.getRequestType),
		r(http.MethodGet, "/organization", http.StatusOK, s.listOrganizations),
		r(http.MethodPost, "/organization", http.StatusCreated, s.createOrganization),
		r(http.MethodGet, "/organization/{organizationId}", http.StatusOK, s.getOrganization),
		r(http.MethodGet, "/organization/{organizationId}/user", http.StatusOK, s.listOrganizationUsers),
		r(http.MethodPost, "/organization/{organizationId}/user", http.StatusNoContent, s.addOrganizationUsers),
		r(http.MethodDelete, "/organization/{organizationId}/user", http.StatusNoContent, s.removeOrganizationUsers),
		r(http.MethodPost, "/customer", http.StatusCreated, s.createCustomer),
		r(http.MethodGet, "/servicedesk/{serviceDeskId}/customer", http.StatusOK, s.listCustomers),
		r(http.MethodPost, "/request", http.StatusCreated, s.createRequest),
		r(http.MethodGet, "/request", http.StatusOK, s.listRequests),
		r(http.MethodGet, "/request/{issueIdOrKey}", http.StatusOK, s.getRequest),
		r(http.MethodGet, "/request/{issueIdOrKey}/comment", http.StatusOK, s.listRequestComments),
		r(http.MethodPost, "/request/{issueIdOrKey}/comment", http.StatusCreated, s.createRequestComment),
		r(http.MethodGet, "/request/{issueIdOrKey}/comment/{commentId}", http.StatusOK, s.getRequestComment),
		r(http.MethodGet, "/request/{issueIdOrKey}/transition", http.StatusOK, s.listTransitions),
		r(http.MethodPost, "/request/{issueIdOrKey}/transition", http.StatusNoContent, s.performTransition),
		r(http.MethodGet, "/request/{issueIdOrKey}/participant", http.StatusOK, s.listParticipants),
		r(http.MethodPost, "/request/{issueIdOrKey}/participant", http.StatusOK, s.addParticipants),
	}
}

// Error messages JSM sends.
const (
	msgNoPermission   = "You do not have permission to perform this operation."
	msgRequestMissing = "Request does not exist or you do not have permission to see it."
)

// --- service desks and request types

type serviceDeskDTO struct {
	ID          string   `json:"id"`
	ProjectID   string   `json:"projectId"`
	ProjectName string   `json:"projectName"`
	ProjectKey  string   `json:"projectKey"`
	Links       selfLink `json:"_links"`
}

func (s *Server) jsmDesk(d *serviceDesk) serviceDeskDTO {
	return serviceDeskDTO{
		ID: strconv.Itoa(d.ID), ProjectID: strconv.Itoa(d.ProjectID), ProjectName: d.ProjectName, ProjectKey: d.ProjectKey,
		Links: selfLink{Self: fmt.Sprintf("%s%s/servicedesk/%d", s.srv.URL, sd, d.ID)},
	}
}

func (s *Server) listServiceDesks(c *call) reply {
	var desks []*serviceDesk
	if !c.user.Forbidden {
		desks = s.desks
	}
	w := s.pageWindow(c, len(desks))
	values := make([]serviceDeskDTO, 0, w.end-w.start)
	for _, d := range desks[w.start:w.end] {
		values = append(values, s.jsmDesk(d))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

// deskParam finds the service desk of the path: by id, or by project key or id as JSM allows.
func (s *Server) deskParam(c *call) (*serviceDesk, *reply) {
	v := c.p["serviceDeskId"]
	var d *serviceDesk
	if id, err := strconv.Atoi(v); err == nil {
		d = s.desk(id)
		if d == nil {
			for _, x := range s.desks {
				if x.ProjectID == id {
					d = x
				}
			}
		}
	} else {
		d = s.deskByKey(v)
	}
	if d == nil {
		r := jsmFail(http.StatusNotFound, fmt.Sprintf("Service Desk with ID: %s does not exist.", v))
		return nil, &r
	}
	if c.user.Forbidden {
		r := jsmFail(http.StatusForbidden, msgNoPermission)
		return nil, &r
	}
	return d, nil
}

func (s *Server) getServiceDesk(c *call) reply {
	d, fail := s.deskParam(c)
	if fail != nil {
		return *fail
	}
	return reply{status: http.StatusOK, body: s.jsmDesk(d)}
}

type requestTypeDTO struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	HelpText      string   `json:"helpText"`
	IssueTypeID   string   `json:"issueTypeId"`
	ServiceDeskID string   `json:"serviceDeskId"`
	PortalID      string   `json:"portalId"`
	GroupIDs      []string `json:"groupIds"`
	Expands       []string `json:"_expands"`
	Links         selfLink `json:"_links"`
}

// requestTypeGroup is the one request-type group of every portal; all request types are in it.
const requestTypeGroup = "1"

func (s *Server) jsmRequestType(rt *requestType) requestTypeDTO {
	return requestTypeDTO{
		ID: strconv.Itoa(rt.ID), Name: rt.Name, Description: rt.Description, HelpText: "",
		IssueTypeID: strconv.Itoa(rt.IssueTypeID), ServiceDeskID: strconv.Itoa(rt.ServiceDeskID),
		PortalID: strconv.Itoa(rt.ServiceDeskID), GroupIDs: []string{requestTypeGroup},
		Expands: []string{"field"},
		Links:   selfLink{Self: fmt.Sprintf("%s%s/servicedesk/%d/requesttype/%d", s.srv.URL, sd, rt.ServiceDeskID, rt.ID)},
	}
}

func (s *Server) listRequestTypes(c *call) reply {
	d, fail := s.deskParam(c)
	if fail != nil {
		return *fail
	}
	group := c.q.Get("groupId")
	search := strings.ToLower(c.q.Get("searchQuery"))
	var types []*requestType
	for _, rt := range s.types {
		if rt.ServiceDeskID != d.ID || (group != "" && group != requestTypeGroup) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(rt.Name), search) {
			continue
		}
		types = append(types, rt)
	}
	w := s.pageWindow(c, len(types))
	values := make([]requestTypeDTO, 0, w.end-w.start)
	for _, rt := range types[w.start:w.end] {
		values = append(values, s.jsmRequestType(rt))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

func (s *Server) getRequestType(c *call) reply {
	d, fail := s.deskParam(c)
	if fail != nil {
		return *fail
	}
	id, _ := strconv.Atoi(c.p["requestTypeId"])
	rt := s.requestType(id)
	if rt == nil || rt.ServiceDeskID != d.ID {
		return jsmFail(http.StatusNotFound, "The request type you are trying to view does not exist.")
	}
	return reply{status: http.StatusOK, body: s.jsmRequestType(rt)}
}

// --- organizations and customers

type organizationDTO struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Links selfLink `json:"_links"`
}

func (s *Server) jsmOrg(o *organization) organizationDTO {
	return organizationDTO{
		ID: strconv.Itoa(o.ID), Name: o.Name,
		Links: selfLink{Self: fmt.Sprintf("%s%s/organization/%d", s.srv.URL, sd, o.ID)},
	}
}

func (s *Server) listOrganizations(c *call) reply {
	if c.user.Forbidden {
		return jsmFail(http.StatusForbidden, msgNoPermission)
	}
	account := c.q.Get("accountId")
	var orgs []*organization
	for _, o := range s.orgs {
		if account == "" || slices.Contains(o.Members, account) {
			orgs = append(orgs, o)
		}
	}
	w := s.pageWindow(c, len(orgs))
	values := make([]organizationDTO, 0, w.end-w.start)
	for _, o := range orgs[w.start:w.end] {
		values = append(values, s.jsmOrg(o))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

func (s *Server) createOrganization(c *call) reply {
	if c.user.Forbidden {
		return jsmFail(http.StatusForbidden, msgNoPermission)
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return jsmFail(http.StatusBadRequest, "The organization name must not be empty.")
	}
	for _, o := range s.orgs {
		if strings.EqualFold(o.Name, name) {
			return jsmFail(http.StatusBadRequest, "An organization with this name already exists.")
		}
	}
	o := &organization{ID: len(s.orgs) + 1, Name: name}
	s.orgs = append(s.orgs, o)
	return reply{status: http.StatusCreated, body: s.jsmOrg(o)}
}

// orgParam finds the organization of the path.
func (s *Server) orgParam(c *call) (*organization, *reply) {
	if c.user.Forbidden {
		r := jsmFail(http.StatusForbidden, msgNoPermission)
		return nil, &r
	}
	id, err := strconv.Atoi(c.p["organizationId"])
	o := s.org(id)
	if err != nil || o == nil {
		r := jsmFail(http.StatusNotFound, fmt.Sprintf("Organization with ID %s does not exist.", c.p["organizationId"]))
		return nil, &r
	}
	return o, nil
}

func (s *Server) getOrganization(c *call) reply {
	o, fail := s.orgParam(c)
	if fail != nil {
		return *fail
	}
	return reply{status: http.StatusOK, body: s.jsmOrg(o)}
}

func (s *Server) listOrganizationUsers(c *call) reply {
	o, fail := s.orgParam(c)
	if fail != nil {
		return *fail
	}
	return s.userPage(c, o.Members)
}

// userPage is a JSM page of the accounts with ids.
func (s *Server) userPage(c *call, ids []string) reply {
	w := s.pageWindow(c, len(ids))
	values := make([]userDTO, 0, w.end-w.start)
	for _, id := range ids[w.start:w.end] {
		values = append(values, s.jsmUser(s.users[id]))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

// accountIDs reads {"accountIds":[…]} and checks that every account exists.
func (s *Server) accountIDs(c *call) ([]string, *reply) {
	var in struct {
		AccountIDs []string `json:"accountIds"`
		Usernames  []string `json:"usernames"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		r := jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
		return nil, &r
	}
	for _, id := range in.AccountIDs {
		if s.users[id] == nil {
			r := jsmFail(http.StatusBadRequest, fmt.Sprintf("The user with account ID %q does not exist.", id))
			return nil, &r
		}
	}
	return in.AccountIDs, nil
}

func (s *Server) addOrganizationUsers(c *call) reply {
	o, fail := s.orgParam(c)
	if fail != nil {
		return *fail
	}
	ids, fail := s.accountIDs(c)
	if fail != nil {
		return *fail
	}
	for _, id := range ids {
		if !slices.Contains(o.Members, id) {
			o.Members = append(o.Members, id)
		}
	}
	return reply{status: http.StatusNoContent}
}

func (s *Server) removeOrganizationUsers(c *call) reply {
	o, fail := s.orgParam(c)
	if fail != nil {
		return *fail
	}
	ids, fail := s.accountIDs(c)
	if fail != nil {
		return *fail
	}
	o.Members = slices.DeleteFunc(o.Members, func(id string) bool { return slices.Contains(ids, id) })
	return reply{status: http.StatusNoContent}
}

// createCustomer adds a customer account. Like JSM, an email that already has an account
// answers 400, or 409 with strictConflictStatusCode=true.
func (s *Server) createCustomer(c *call) reply {
	if c.user.Forbidden {
		return jsmFail(http.StatusForbidden, msgNoPermission)
	}
	var in struct {
		Email       string `json:"email"`
		DisplayName string `json:"displayName"`
		FullName    string `json:"fullName"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
	}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
		return jsmFail(http.StatusBadRequest, "The email address is invalid.")
	}
	if s.userByEmail(in.Email) != nil {
		status := http.StatusBadRequest
		if c.q.Get("strictConflictStatusCode") == "true" {
			status = http.StatusConflict
		}
		return jsmFail(status, "An account already exists for this email.")
	}
	name := in.DisplayName
	if name == "" {
		name = in.FullName
	}
	if name == "" {
		name = in.Email
	}
	u := s.addCustomerLocked(in.Email, name)
	return reply{status: http.StatusCreated, body: s.jsmUser(u)}
}

// --- customer requests

type fieldValueDTO struct {
	FieldID       string         `json:"fieldId"`
	Label         string         `json:"label"`
	Value         any            `json:"value"`
	RenderedValue map[string]any `json:"renderedValue,omitempty"`
}

type requestStatusDTO struct {
	Status         string   `json:"status"`
	StatusCategory string   `json:"statusCategory"`
	StatusDate     *dateDTO `json:"statusDate"`
}

type requestLinks struct {
	JiraRest string `json:"jiraRest"`
	Web      string `json:"web"`
	Agent    string `json:"agent"`
	Self     string `json:"self"`
}

// customerRequestDTO is JSM's CustomerRequestDTO; the expandable parts are set on request.
type customerRequestDTO struct {
	Expands            []string         `json:"_expands"`
	IssueID            string           `json:"issueId"`
	IssueKey           string           `json:"issueKey"`
	RequestTypeID      string           `json:"requestTypeId"`
	RequestType        *requestTypeDTO  `json:"requestType,omitempty"`
	ServiceDeskID      string           `json:"serviceDeskId"`
	ServiceDesk        *serviceDeskDTO  `json:"serviceDesk,omitempty"`
	CreatedDate        *dateDTO         `json:"createdDate"`
	Reporter           userDTO          `json:"reporter"`
	RequestFieldValues []fieldValueDTO  `json:"requestFieldValues"`
	CurrentStatus      requestStatusDTO `json:"currentStatus"`
	Participants       *jsmPage         `json:"participants,omitempty"`
	Status             *jsmPage         `json:"status,omitempty"`
	Comments           *jsmPage         `json:"comments,omitempty"`
	Links              requestLinks     `json:"_links"`
}

// requestExpands are the expansions JSM offers on a customer request.
var requestExpands = []string{"participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action", "comment"}

// expansions reads the expand parameter (repeated or comma-separated).
func expansions(c *call) []string {
	var out []string
	for _, v := range c.q["expand"] {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func (s *Server) jsmRequest(c *call, is *Issue, expand []string) customerRequestDTO {
	st := statusByName(is.Status)
	base := s.srv.URL
	fields := []fieldValueDTO{{FieldID: "summary", Label: "Summary", Value: is.Summary}}
	if is.Description != "" {
		fields = append(fields, fieldValueDTO{
			FieldID: "description", Label: "Description", Value: is.Description,
			RenderedValue: map[string]any{"html": renderHTML(is.Description)},
		})
	}
	if is.priorityField {
		fields = append(fields, fieldValueDTO{FieldID: "priority", Label: "Priority", Value: s.priorityValue(is)})
	}
	out := customerRequestDTO{
		Expands:            requestExpands,
		IssueID:            strconv.Itoa(is.ID),
		IssueKey:           is.Key,
		RequestTypeID:      strconv.Itoa(is.RequestTypeID),
		ServiceDeskID:      strconv.Itoa(is.ServiceDeskID),
		CreatedDate:        s.date(is.Created),
		Reporter:           s.jsmUser(s.users[is.Reporter]),
		RequestFieldValues: fields,
		CurrentStatus:      requestStatusDTO{Status: st.name, StatusCategory: st.category, StatusDate: s.date(is.StatusDate)},
		Links: requestLinks{
			JiraRest: fmt.Sprintf("%s/rest/api/2/issue/%d", base, is.ID),
			Web:      fmt.Sprintf("%s/servicedesk/customer/portal/%d/%s", base, is.ServiceDeskID, is.Key),
			Agent:    fmt.Sprintf("%s/browse/%s", base, is.Key),
			Self:     fmt.Sprintf("%s%s/request/%d", base, sd, is.ID),
		},
	}
	// An expansion's page lists everything (JSM pages these at 50; requests here are small).
	whole := func(n int) window { return window{start: 0, end: n, limit: max(n, defaultLimit), last: true} }
	for _, e := range expand {
		switch e {
		case "requestType":
			rt := s.jsmRequestType(s.requestType(is.RequestTypeID))
			out.RequestType = &rt
		case "serviceDesk":
			d := s.jsmDesk(s.desk(is.ServiceDeskID))
			out.ServiceDesk = &d
		case "participant":
			values := make([]userDTO, 0, len(is.Participants))
			for _, id := range is.Participants {
				values = append(values, s.jsmUser(s.users[id]))
			}
			p := s.page(c, whole(len(values)), values, len(values))
			out.Participants = &p
		case "status":
			values := make([]requestStatusDTO, 0, len(is.history))
			for i := len(is.history) - 1; i >= 0; i-- {
				h := is.history[i]
				values = append(values, requestStatusDTO{Status: h.status, StatusCategory: statusByName(h.status).category, StatusDate: s.date(h.at)})
			}
			p := s.page(c, whole(len(values)), values, len(values))
			out.Status = &p
		case "comment":
			values := make([]commentDTO, 0, len(is.Comments))
			for _, cm := range is.Comments {
				values = append(values, s.jsmComment(is, cm, false))
			}
			p := s.page(c, whole(len(values)), values, len(values))
			out.Comments = &p
		}
	}
	return out
}

// priorityValue is an issue's priority as Jira shows it in a field value.
func (s *Server) priorityValue(is *Issue) map[string]any {
	p := s.priority(is.Priority)
	if p == nil { // UpdateIssue refuses unknown priorities
		p = s.priority(DefaultPriorityID)
	}
	return map[string]any{
		"self": fmt.Sprintf("%s%s/priority/%s", s.srv.URL, api3, p.ID), "name": p.Name, "id": p.ID,
		"iconUrl": fmt.Sprintf("%s/images/icons/priorities/%s.svg", s.srv.URL, strings.ToLower(p.Name)),
	}
}

// requestParam finds the request of the path; an agent without permission is told it does not
// exist, as JSM tells it.
func (s *Server) requestParam(c *call) (*Issue, *reply) {
	is := s.issue(c.p["issueIdOrKey"])
	if is == nil || c.user.Forbidden {
		r := jsmFail(http.StatusNotFound, msgRequestMissing)
		return nil, &r
	}
	return is, nil
}

// createRequest raises a customer request. The reporter is raiseOnBehalfOf or the caller;
// requestFieldValues takes summary (required), description (plain text, or ADF with
// isAdfRequest), priority ({"id":…} or {"name":…} of a priority the server knows) and the
// Organizations field (OrganizationsField: organization ids as numbers, strings or {"id":…}
// objects), which shares the request with those organizations. Other fields are refused, as
// JSM refuses fields the request type does not have.
func (s *Server) createRequest(c *call) reply {
	if c.user.Forbidden {
		return jsmFail(http.StatusForbidden, msgNoPermission)
	}
	var in struct {
		ServiceDeskID       string                     `json:"serviceDeskId"`
		RequestTypeID       string                     `json:"requestTypeId"`
		RequestFieldValues  map[string]json.RawMessage `json:"requestFieldValues"`
		RaiseOnBehalfOf     string                     `json:"raiseOnBehalfOf"`
		RequestParticipants []string                   `json:"requestParticipants"`
		Channel             string                     `json:"channel"`
		IsAdfRequest        bool                       `json:"isAdfRequest"`
		Form                json.RawMessage            `json:"form"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
	}
	deskID, _ := strconv.Atoi(in.ServiceDeskID)
	d := s.desk(deskID)
	if d == nil {
		return jsmFail(http.StatusBadRequest, fmt.Sprintf("The service desk with ID %q does not exist.", in.ServiceDeskID))
	}
	typeID, _ := strconv.Atoi(in.RequestTypeID)
	rt := s.requestType(typeID)
	if rt == nil || rt.ServiceDeskID != d.ID {
		return jsmFail(http.StatusBadRequest, "The request type you are trying to use does not exist or you do not have permission to use it.")
	}
	reporter := c.user.AccountID
	if in.RaiseOnBehalfOf != "" {
		u := s.users[in.RaiseOnBehalfOf]
		if u == nil {
			u = s.userByEmail(in.RaiseOnBehalfOf)
		}
		if u == nil {
			return jsmFail(http.StatusBadRequest, fmt.Sprintf("The user %q does not exist.", in.RaiseOnBehalfOf))
		}
		reporter = u.AccountID
	}
	for _, id := range in.RequestParticipants {
		if s.users[id] == nil {
			return jsmFail(http.StatusBadRequest, fmt.Sprintf("The participant %q does not exist.", id))
		}
	}
	var summary, description string
	var orgs []int
	var prio *priority
	for field, raw := range in.RequestFieldValues {
		switch field {
		case "summary":
			if err := json.Unmarshal(raw, &summary); err != nil {
				return fieldInvalid("Summary")
			}
		case "description":
			if in.IsAdfRequest {
				var doc map[string]any
				if err := json.Unmarshal(raw, &doc); err != nil || doc["type"] != "doc" {
					return fieldInvalid("Description")
				}
				description = adfText(doc)
			} else if err := json.Unmarshal(raw, &description); err != nil {
				return fieldInvalid("Description")
			}
		case "priority":
			var ref struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			}
			if err := json.Unmarshal(raw, &ref); err != nil || (ref.ID == "") == (ref.Name == "") {
				return fieldInvalid("Priority")
			}
			if ref.ID != "" {
				prio = s.priority(ref.ID)
			} else {
				prio = s.priorityNamed(ref.Name)
			}
			if prio == nil {
				return jsmFail(http.StatusBadRequest, "Specify a valid 'id' or 'name' for Priority")
			}
		case OrganizationsField:
			ids, ok := organizationIDs(raw)
			if !ok {
				return fieldInvalid("Organizations")
			}
			for _, id := range ids {
				if s.org(id) == nil {
					return jsmFail(http.StatusBadRequest, fmt.Sprintf("Organization with ID %d does not exist.", id))
				}
			}
			orgs = ids
		default:
			return jsmFail(http.StatusBadRequest, fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", field))
		}
	}
	if strings.TrimSpace(summary) == "" {
		return fieldInvalid("Summary")
	}
	now := s.clock()
	is := s.createIssue(d, rt, reporter, summary, description, now)
	is.Organizations = orgs
	if prio != nil {
		is.Priority, is.priorityField = prio.ID, true
	}
	for _, id := range in.RequestParticipants {
		if id != reporter && !slices.Contains(is.Participants, id) {
			is.Participants = append(is.Participants, id)
		}
	}
	return reply{status: http.StatusCreated, body: s.jsmRequest(c, is, nil)}
}

func fieldInvalid(label string) reply {
	return jsmFail(http.StatusBadRequest, fmt.Sprintf("Your request could not be created. Please check the fields have been correctly filled in. Please provide a valid value for field '%s'", label))
}

// organizationIDs reads the Organizations field: a list of ids, as numbers, strings or objects
// with an id.
func organizationIDs(raw json.RawMessage) ([]int, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	ids := make([]int, 0, len(items))
	for _, item := range items {
		var n int
		var str string
		var obj struct {
			ID json.RawMessage `json:"id"`
		}
		switch {
		case json.Unmarshal(item, &n) == nil:
		case json.Unmarshal(item, &str) == nil:
			v, err := strconv.Atoi(str)
			if err != nil {
				return nil, false
			}
			n = v
		case json.Unmarshal(item, &obj) == nil && obj.ID != nil:
			inner, ok := organizationIDs(json.RawMessage("[" + string(obj.ID) + "]"))
			if !ok {
				return nil, false
			}
			n = inner[0]
		default:
			return nil, false
		}
		if !slices.Contains(ids, n) {
			ids = append(ids, n)
		}
	}
	return ids, true
}

// listRequests lists customer requests, most recently active first. The API user is an agent:
// without requestOwnership it sees every request (customers would see only their own and their
// organizations'); requestOwnership narrows the list as JSM documents it. organizationId keeps
// the requests shared with that organization, serviceDeskId and requestTypeId those of the desk
// and type, requestStatus open or closed ones, searchTerm those whose summary contains it
// (wildcards * and ? are ignored).
func (s *Server) listRequests(c *call) reply {
	var matches []*Issue
	if !c.user.Forbidden {
		f, fail := s.requestFilter(c)
		if fail != nil {
			return *fail
		}
		for _, is := range s.issues {
			if f(is) {
				matches = append(matches, is)
			}
		}
	}
	slices.SortStableFunc(matches, func(a, b *Issue) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return b.ID - a.ID
	})
	w := s.pageWindow(c, len(matches))
	expand := expansions(c)
	values := make([]customerRequestDTO, 0, w.end-w.start)
	for _, is := range matches[w.start:w.end] {
		values = append(values, s.jsmRequest(c, is, expand))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

func (s *Server) requestFilter(c *call) (func(*Issue) bool, *reply) {
	intParam := func(name string) (int, *reply) {
		v := c.q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			r := jsmFail(http.StatusBadRequest, fmt.Sprintf("The value %q of %s is not a number.", v, name))
			return 0, &r
		}
		return n, nil
	}
	orgID, fail := intParam("organizationId")
	if fail != nil {
		return nil, fail
	}
	deskID, fail := intParam("serviceDeskId")
	if fail != nil {
		return nil, fail
	}
	typeID, fail := intParam("requestTypeId")
	if fail != nil {
		return nil, fail
	}
	status := c.q.Get("requestStatus")
	switch status {
	case "", "ALL_REQUESTS", "OPEN_REQUESTS", "CLOSED_REQUESTS":
	default:
		r := jsmFail(http.StatusBadRequest, fmt.Sprintf("The request status %q is not valid.", status))
		return nil, &r
	}
	ownership := c.q["requestOwnership"]
	for _, o := range ownership {
		switch o {
		case "OWNED_REQUESTS", "PARTICIPATED_REQUESTS", "ORGANIZATION", "ALL_ORGANIZATIONS", "APPROVER", "ALL_REQUESTS":
		default:
			r := jsmFail(http.StatusBadRequest, fmt.Sprintf("The request ownership %q is not valid.", o))
			return nil, &r
		}
	}
	term := strings.ToLower(strings.NewReplacer("*", "", "?", "").Replace(c.q.Get("searchTerm")))
	me := c.user.AccountID
	myOrgs := map[int]bool{}
	for _, o := range s.orgs {
		if slices.Contains(o.Members, me) {
			myOrgs[o.ID] = true
		}
	}
	owned := func(is *Issue) bool {
		if len(ownership) == 0 || slices.Contains(ownership, "ALL_REQUESTS") {
			return true
		}
		for _, o := range ownership {
			switch {
			case o == "OWNED_REQUESTS" && is.Reporter == me,
				o == "PARTICIPATED_REQUESTS" && slices.Contains(is.Participants, me),
				o == "ORGANIZATION" && orgID != 0 && slices.Contains(is.Organizations, orgID),
				o == "ALL_ORGANIZATIONS" && slices.ContainsFunc(is.Organizations, func(id int) bool { return myOrgs[id] }):
				return true
			}
		}
		return false
	}
	return func(is *Issue) bool {
		done := statusByName(is.Status).category == categoryDone
		switch {
		case !owned(is),
			orgID != 0 && !slices.Contains(is.Organizations, orgID),
			deskID != 0 && is.ServiceDeskID != deskID,
			typeID != 0 && is.RequestTypeID != typeID,
			status == "OPEN_REQUESTS" && done,
			status == "CLOSED_REQUESTS" && !done,
			term != "" && !strings.Contains(strings.ToLower(is.Summary), term):
			return false
		}
		return true
	}, nil
}

func (s *Server) getRequest(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	return reply{status: http.StatusOK, body: s.jsmRequest(c, is, expansions(c))}
}

// --- comments

type commentDTO struct {
	Expands      []string       `json:"_expands"`
	ID           string         `json:"id"`
	Body         string         `json:"body"`
	RenderedBody map[string]any `json:"renderedBody,omitempty"`
	Public       bool           `json:"public"`
	Author       userDTO        `json:"author"`
	Created      *dateDTO       `json:"created"`
	Links        selfLink       `json:"_links"`
}

func (s *Server) jsmComment(is *Issue, cm Comment, rendered bool) commentDTO {
	out := commentDTO{
		Expands: []string{"attachment", "renderedBody"},
		ID:      strconv.Itoa(cm.ID),
		Body:    cm.Body,
		Public:  cm.Public,
		Author:  s.jsmUser(s.users[cm.Author]),
		Created: s.date(cm.Created),
		Links:   selfLink{Self: fmt.Sprintf("%s%s/request/%d/comment/%d", s.srv.URL, sd, is.ID, cm.ID)},
	}
	if rendered {
		out.RenderedBody = map[string]any{"html": renderHTML(cm.Body)}
	}
	return out
}

// boolParam reads a Boolean query parameter, def when absent.
func boolParam(c *call, name string, def bool) bool {
	switch c.q.Get(name) {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}

// listRequestComments pages a request's comments, oldest first: public ones unless public=false,
// internal ones unless internal=false.
func (s *Server) listRequestComments(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	public, internal := boolParam(c, "public", true), boolParam(c, "internal", true)
	var comments []Comment
	for _, cm := range is.Comments {
		if (cm.Public && public) || (!cm.Public && internal) {
			comments = append(comments, cm)
		}
	}
	rendered := slices.Contains(expansions(c), "renderedBody")
	w := s.pageWindow(c, len(comments))
	values := make([]commentDTO, 0, w.end-w.start)
	for _, cm := range comments[w.start:w.end] {
		values = append(values, s.jsmComment(is, cm, rendered))
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

func (s *Server) getRequestComment(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	id, _ := strconv.Atoi(c.p["commentId"])
	for _, cm := range is.Comments {
		if cm.ID == id {
			return reply{status: http.StatusOK, body: s.jsmComment(is, cm, slices.Contains(expansions(c), "renderedBody"))}
		}
	}
	return jsmFail(http.StatusNotFound, "The comment does not exist.")
}

func (s *Server) createRequestComment(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	var in struct {
		Body   string `json:"body"`
		Public *bool  `json:"public"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
	}
	if strings.TrimSpace(in.Body) == "" {
		return jsmFail(http.StatusBadRequest, "The comment body must not be empty.")
	}
	public := in.Public == nil || *in.Public
	cm := s.addComment(is, c.user.AccountID, in.Body, public)
	return reply{status: http.StatusCreated, body: s.jsmComment(is, cm, false)}
}

// addComment adds a comment to an issue and moves its update time.
func (s *Server) addComment(is *Issue, author, body string, public bool) Comment {
	now := s.clock()
	cm := Comment{ID: s.newID(), Author: author, Body: body, Public: public, Created: now}
	is.Comments = append(is.Comments, cm)
	is.Updated = now
	return cm
}

// --- transitions and participants

type transitionDTO struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) listTransitions(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	ts := transitionsFrom(is.Status)
	w := s.pageWindow(c, len(ts))
	values := make([]transitionDTO, 0, w.end-w.start)
	for _, t := range ts[w.start:w.end] {
		values = append(values, transitionDTO{ID: t.id, Name: t.name})
	}
	return reply{status: http.StatusOK, body: s.page(c, w, values, len(values))}
}

func (s *Server) performTransition(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	var in struct {
		ID                string `json:"id"`
		AdditionalComment *struct {
			Body string `json:"body"`
		} `json:"additionalComment"`
	}
	if err := decodeStrict(c.body, &in); err != nil {
		return jsmFail(http.StatusBadRequest, "Invalid request payload: "+err.Error())
	}
	i := slices.IndexFunc(transitionsFrom(is.Status), func(t transition) bool { return t.id == in.ID })
	if i < 0 {
		return jsmFail(http.StatusBadRequest, fmt.Sprintf("The transition with ID %q is not valid for this request.", in.ID))
	}
	t := transitionsFrom(is.Status)[i]
	now := s.clock()
	s.setStatus(is, t.to, now)
	is.Updated = now
	if in.AdditionalComment != nil && strings.TrimSpace(in.AdditionalComment.Body) != "" {
		s.addComment(is, c.user.AccountID, in.AdditionalComment.Body, true)
	}
	return reply{status: http.StatusNoContent}
}

func (s *Server) listParticipants(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	return s.userPage(c, is.Participants)
}

// addParticipants adds participants and answers a page of those it added.
func (s *Server) addParticipants(c *call) reply {
	is, fail := s.requestParam(c)
	if fail != nil {
		return *fail
	}
	ids, fail := s.accountIDs(c)
	if fail != nil {
		return *fail
	}
	var added []string
	for _, id := range ids {
		if !slices.Contains(is.Participants, id) {
			is.Participants = append(is.Participants, id)
			added = append(added, id)
		}
	}
	if len(added) > 0 {
		is.Updated = s.clock()
	}
	whole := window{start: 0, end: len(added), limit: max(len(added), defaultLimit), last: true}
	values := make([]userDTO, 0, len(added))
	for _, id := range added {
		values = append(values, s.jsmUser(s.users[id]))
	}
	return reply{status: http.StatusOK, body: s.page(c, whole, values, len(values))}
}
