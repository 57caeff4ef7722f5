package jiratest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// query is the parsed form of the JQL subset the server understands:
//
//	clause { AND clause } [ ORDER BY field (ASC|DESC) { , field (ASC|DESC) } ]
//	clause = project (= | in) value | project in ( value { , value } )
//	       | (updated | created) (>= | > | <= | <) date
//	       | (key | issuekey) (= | in) value | (key | issuekey) in ( value { , value } )
//
// Keywords and field names are case-insensitive; values may be quoted. Dates are
// "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd" or "yyyy-MM-dd", read in the user's time
// zone. Anything else (OR, NOT, functions, other fields, relative dates) is refused with a 400,
// so an adapter cannot come to rely on JQL the server does not check.
type query struct {
	projects []string // upper-case keys; nil means any
	keys     []string // upper-case issue keys (or ids); nil means any
	times    []timeBound
	order    []orderTerm
}

type timeBound struct {
	field string // "updated" or "created"
	op    string // ">=", ">", "<=", "<"
	at    time.Time
}

type orderTerm struct {
	field string // "updated", "created" or "key"
	desc  bool
}

// jqlError is a 400 whose message Jira's errorMessages carries.
type jqlError struct{ msg string }

func (e *jqlError) Error() string { return e.msg }

func jqlErrorf(format string, a ...any) error { return &jqlError{msg: fmt.Sprintf(format, a...)} }

type token struct {
	text   string
	quoted bool
}

// lexJQL splits JQL into words, quoted strings and operators.
func lexJQL(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"' || r == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(rs) && rs[j] != r {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
				j++
			}
			if j >= len(rs) {
				return nil, jqlErrorf("Error in the JQL Query: The quoted string '%s' has not been completed. (line 1, character %d)", string(rs[i:]), i+1)
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		case strings.ContainsRune("(),", r):
			out = append(out, token{text: string(r)})
			i++
		case strings.ContainsRune("=!<>~", r):
			j := i + 1
			if j < len(rs) && rs[j] == '=' {
				j++
			}
			out = append(out, token{text: string(rs[i:j])})
			i = j
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune("(),=!<>~\"'", rs[j]) {
				j++
			}
			out = append(out, token{text: string(rs[i:j])})
			i = j
		}
	}
	return out, nil
}

// parseJQL parses jql in the user's time zone loc.
func parseJQL(jql string, loc *time.Location) (*query, error) {
	toks, err := lexJQL(jql)
	if err != nil {
		return nil, err
	}
	p := &jqlParser{toks: toks, loc: loc}
	q := &query{}
	if len(toks) > 0 && !p.keyword("ORDER") {
		for {
			if err := p.clause(q); err != nil {
				return nil, err
			}
			if p.keyword("AND") {
				p.i++
				continue
			}
			break
		}
	}
	if p.keyword("ORDER") {
		p.i++
		if !p.keyword("BY") {
			return nil, p.unexpected("'by'")
		}
		p.i++
		for {
			term, err := p.orderTerm()
			if err != nil {
				return nil, err
			}
			q.order = append(q.order, term)
			if p.peek() == "," {
				p.i++
				continue
			}
			break
		}
	}
	if p.i < len(p.toks) {
		if p.keyword("OR") || p.keyword("NOT") {
			return nil, jqlErrorf("jiratest supports JQL clauses joined by AND only; found '%s'.", p.toks[p.i].text)
		}
		return nil, p.unexpected("'AND', 'ORDER BY' or the end of the query")
	}
	if q.projects == nil && q.keys == nil && len(q.times) == 0 {
		return nil, jqlErrorf("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	return q, nil
}

type jqlParser struct {
	toks []token
	i    int
	loc  *time.Location
}

func (p *jqlParser) peek() string {
	if p.i >= len(p.toks) {
		return ""
	}
	return p.toks[p.i].text
}

// keyword reports whether the next token is the unquoted keyword kw.
func (p *jqlParser) keyword(kw string) bool {
	return p.i < len(p.toks) && !p.toks[p.i].quoted && strings.EqualFold(p.toks[p.i].text, kw)
}

func (p *jqlParser) unexpected(want string) error {
	if p.i >= len(p.toks) {
		return jqlErrorf("Error in the JQL Query: Expecting %s but reached the end of the query.", want)
	}
	return jqlErrorf("Error in the JQL Query: Expecting %s but got '%s'.", want, p.toks[p.i].text)
}

// value reads one operand.
func (p *jqlParser) value() (string, error) {
	if p.i >= len(p.toks) {
		return "", p.unexpected("a value")
	}
	t := p.toks[p.i]
	if !t.quoted && (strings.ContainsAny(t.text, "(),") || t.text == "") {
		return "", p.unexpected("a value")
	}
	p.i++
	return t.text, nil
}

func (p *jqlParser) clause(q *query) error {
	if p.i >= len(p.toks) {
		return p.unexpected("a field name")
	}
	field := strings.ToLower(p.toks[p.i].text)
	p.i++
	op := p.peek()
	switch field {
	case "project":
		if q.projects != nil {
			return jqlErrorf("jiratest supports one project clause per query.")
		}
		vs, err := p.values(field, op)
		if err != nil {
			return err
		}
		q.projects = vs
	case "key", "issuekey":
		if q.keys != nil {
			return jqlErrorf("jiratest supports one key clause per query.")
		}
		vs, err := p.values("key", op)
		if err != nil {
			return err
		}
		q.keys = vs
	case "updated", "created", "updateddate", "createddate":
		field = strings.TrimSuffix(field, "date")
		switch op {
		case ">=", ">", "<=", "<":
		default:
			return jqlErrorf("jiratest supports the operators '>=', '>', '<=' and '<' for the field '%s'; found '%s'.", field, op)
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return err
		}
		at, err := parseJQLDate(v, p.loc)
		if err != nil {
			return jqlErrorf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v, field)
		}
		q.times = append(q.times, timeBound{field: field, op: op, at: at})
	case "order":
		return p.unexpected("a field name")
	default:
		return jqlErrorf("Field '%s' does not exist or you do not have permission to view it.", p.toks[p.i-1].text)
	}
	return nil
}

// values reads the operand of field = value or field in (value, ...), upper-cased.
func (p *jqlParser) values(field, op string) ([]string, error) {
	switch {
	case op == "=":
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return []string{strings.ToUpper(v)}, nil
	case strings.EqualFold(op, "in"):
		p.i++
		if p.peek() != "(" {
			return nil, p.unexpected("'('")
		}
		p.i++
		var out []string
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			out = append(out, strings.ToUpper(v))
			if p.peek() == "," {
				p.i++
				continue
			}
			break
		}
		if p.peek() != ")" {
			return nil, p.unexpected("')'")
		}
		p.i++
		return out, nil
	}
	return nil, jqlErrorf("jiratest supports the operators '=' and 'in' for the field '%s'; found '%s'.", field, op)
}

func (p *jqlParser) orderTerm() (orderTerm, error) {
	if p.i >= len(p.toks) {
		return orderTerm{}, p.unexpected("a field name")
	}
	field := strings.ToLower(p.toks[p.i].text)
	switch field {
	case "updated", "created", "key":
	default:
		return orderTerm{}, jqlErrorf("jiratest supports ORDER BY updated, created or key; found '%s'.", p.toks[p.i].text)
	}
	p.i++
	switch {
	case p.keyword("ASC"):
		p.i++
		return orderTerm{field: field}, nil
	case p.keyword("DESC"):
		p.i++
		return orderTerm{field: field, desc: true}, nil
	}
	return orderTerm{}, jqlErrorf("jiratest needs an explicit ASC or DESC after ORDER BY %s (Jira's default direction differs between fields).", field)
}

// parseJQLDate reads a JQL absolute date in loc.
func parseJQLDate(v string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006/01/02 15:04", "2006-01-02 15:04", "2006/01/02", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("invalid date")
}

// matches reports whether an issue of project key satisfies the query's restrictions.
func (q *query) matches(is *Issue, projectKey string) bool {
	if q.projects != nil && !containsFold(q.projects, projectKey) {
		return false
	}
	if q.keys != nil && !containsFold(q.keys, is.Key) && !containsFold(q.keys, strconv.Itoa(is.ID)) {
		return false
	}
	for _, b := range q.times {
		t := is.Updated
		if b.field == "created" {
			t = is.Created
		}
		var ok bool
		switch b.op {
		case ">=":
			ok = !t.Before(b.at)
		case ">":
			ok = t.After(b.at)
		case "<=":
			ok = !t.After(b.at)
		case "<":
			ok = t.Before(b.at)
		}
		if !ok {
			return false
		}
	}
	return true
}

// compare orders two issues by the query's ORDER BY, then (like Jira without one) by id,
// newest first.
func (q *query) compare(a, b *Issue) int {
	for _, o := range q.order {
		var c int
		switch o.field {
		case "updated":
			c = a.Updated.Compare(b.Updated)
		case "created":
			c = a.Created.Compare(b.Created)
		case "key":
			c = compareKeys(a.Key, b.Key)
		}
		if o.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return b.ID - a.ID
}

// compareKeys orders issue keys by project, then number.
func compareKeys(a, b string) int {
	pa, na := splitKey(a)
	pb, nb := splitKey(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	return na - nb
}

func splitKey(key string) (string, int) {
	i := strings.LastIndexByte(key, '-')
	n := 0
	_, _ = fmt.Sscanf(key[i+1:], "%d", &n)
	return key[:i], n
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
