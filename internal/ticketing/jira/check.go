package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/customer-portal/portal/internal/portal"
)

// Check verifies, in order, that Jira answers and accepts the API token, that the service desk
// exists and the account may use it, and that every configured request type exists on it. It
// reports what is wrong in words an admin can act on; the error is only for a canceled context.
func (c *Client) Check(ctx context.Context) (portal.Diagnosis, error) {
	var d portal.Diagnosis
	host := c.siteHost()
	if _, res, err := c.jira.MySelf.Details(ctx, nil); err != nil {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		d.Problems = append(d.Problems, c.problem(res, err, host,
			"Jira refused the API token: check the service account's email and API token",
			"the service account may not read its own profile"))
		return d, nil
	}
	if _, res, err := c.jsm.ServiceDesk.Get(ctx, c.cfg.ServiceDeskID); err != nil {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		switch {
		case res != nil && res.Code == http.StatusNotFound:
			d.Problems = append(d.Problems, fmt.Sprintf("service desk %s does not exist", c.cfg.ServiceDeskID))
		default:
			d.Problems = append(d.Problems, c.problem(res, err, host, "Jira refused the API token",
				fmt.Sprintf("the service account lacks permission to use service desk %s (it must be an agent of the project)", c.cfg.ServiceDeskID)))
		}
		return d, nil
	}
	if len(c.cfg.RequestTypes) > 0 {
		desk, _ := strconv.Atoi(c.cfg.ServiceDeskID)
		known := map[string]bool{}
		for start := 0; ; {
			page, res, err := c.jsm.Request.Type.Gets(ctx, desk, 0, start, pageSize)
			if err != nil {
				if ctx.Err() != nil {
					return d, ctx.Err()
				}
				d.Problems = append(d.Problems, c.problem(res, err, host, "Jira refused the API token",
					fmt.Sprintf("the service account lacks permission to list the request types of service desk %s", c.cfg.ServiceDeskID)))
				return d, nil
			}
			for _, rt := range page.Values {
				if rt != nil {
					known[rt.ID] = true
				}
			}
			if page.IsLastPage || len(page.Values) == 0 {
				break
			}
			start += len(page.Values)
		}
		for _, typ := range sortedKeys(c.cfg.RequestTypes) {
			id := c.cfg.RequestTypes[typ]
			if known[id] {
				continue
			}
			if typ == "" {
				d.Problems = append(d.Problems, fmt.Sprintf("the default request type %s does not exist on service desk %s", id, c.cfg.ServiceDeskID))
			} else {
				d.Problems = append(d.Problems, fmt.Sprintf("request type %s (for ticket type %s) does not exist on service desk %s", id, typ, c.cfg.ServiceDeskID))
			}
		}
	}
	d.OK = len(d.Problems) == 0
	return d, nil
}

// problem words a failed call for an admin: a refused token, a missing permission (forbidden),
// an unreachable host, a TLS error, or whatever else Jira said.
func (c *Client) problem(res *models.ResponseScheme, err error, host, unauthorized, forbidden string) string {
	status := 0
	if res != nil && res.Response != nil {
		status = res.Code
	}
	switch {
	case errors.Is(err, errBreakerOpen):
		return "Jira has been failing; the portal waits before calling it again"
	case status == http.StatusUnauthorized:
		return unauthorized
	case status == http.StatusForbidden:
		return forbidden
	case status == http.StatusTooManyRequests:
		return "Jira is rate limiting the service account; try again later"
	case status >= 500:
		return fmt.Sprintf("Jira at %s is failing (HTTP %d); try again later", host, status)
	case status != 0:
		return fmt.Sprintf("Jira at %s answered HTTP %d", host, status)
	case tlsProblem(err):
		return fmt.Sprintf("the TLS connection to %s failed: check the site URL and its certificate", host)
	case dnsProblem(err):
		return fmt.Sprintf("the host %s cannot be resolved: check the site URL", host)
	default:
		pe := c.fail("reach Jira", res, err)
		return fmt.Sprintf("Jira at %s cannot be reached (%s)", host, portalMessage(pe))
	}
}

func portalMessage(err error) string {
	var pe *portal.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return "unknown error"
}

func (c *Client) siteHost() string {
	return c.jsm.Site.Host
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
