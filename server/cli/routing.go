package cli

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// configHistory lists the routing versions, newest first.
func (c *cli) configHistory(limit int) error {
	resp, err := c.client.RoutingConfigService().ListRoutingConfigHistory(c.ctx, &pb.ListRoutingConfigHistoryRequest{Limit: int32(limit)})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	rows := make([][]string, 0, len(resp.GetVersions()))
	for _, v := range resp.GetVersions() {
		note := ""
		if v.GetRollbackOf() > 0 {
			note = fmt.Sprintf("rollback to %d", v.GetRollbackOf())
		}
		var routes []string
		for _, r := range v.GetConfig().GetRoutes() {
			routes = append(routes, r.GetModel())
		}
		rows = append(rows, []string{strconv.FormatInt(v.GetVersion(), 10), fmtTime(v.GetUpdatedAt()), orDash(v.GetUpdatedBy()),
			v.GetConfig().GetStrategy(), orDash(strings.Join(routes, ",")), orDash(note)})
	}
	return c.table("VERSION\tUPDATED\tBY\tSTRATEGY\tROUTES\tNOTE", rows)
}

// configRollback puts an earlier version back in force.
func (c *cli) configRollback(pos []string, allowUnrouted bool) error {
	if err := need(pos, 1, "a version number (see config history)"); err != nil {
		return err
	}
	v, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a version number (see config history), got %q", pos[0])
	}
	resp, err := c.client.RoutingConfigService().RollbackRoutingConfig(c.ctx, &pb.RollbackRoutingConfigRequest{Version: v, AllowUnrouted: allowUnrouted})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.env.Stdout, "routing config rolled back to version %d: now version %d\n", v, resp.GetVersion())
	return nil
}
