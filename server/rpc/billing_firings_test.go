package rpc

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/store"
)

func TestBilling_ListAlertFirings(t *testing.T) {
	b, st := newTestBilling(t)
	ctx := context.Background()
	for _, a := range []*pb.Alert{
		{Id: "spend", Type: "budget_threshold", Threshold: 10, Period: "daily"},
		{Id: "errs", Type: "error_rate", Threshold: 0.05, KeyId: "k1"},
	} {
		if _, err := b.CreateAlert(ctx, &pb.CreateAlertRequest{Alert: a}); err != nil {
			t.Fatal(err)
		}
	}
	// errs fires at +1m and +3m, spend at +2m.
	prev := map[string]time.Time{}
	for i, f := range []store.AlertFiring{
		{AlertID: "errs", Type: "error_rate", KeyID: "k1", Value: 0.5, Threshold: 0.05, Message: "key k1 error rate 50.0%"},
		{AlertID: "spend", Type: "budget_threshold", Value: 9, Threshold: 10, Message: "gateway spend $9.00 today"},
		{AlertID: "errs", Type: "error_rate", KeyID: "k1", Value: 0.25, Threshold: 0.05, Message: "key k1 error rate 25.0%", Delivery: "failed: attempt 1: status 400"},
	} {
		f.FiredAt = billingNow.Add(time.Duration(i+1) * time.Minute)
		if won, err := st.ClaimAlertFiring(ctx, prev[f.AlertID], f); err != nil || !won {
			t.Fatalf("claim %d = %v, %v", i, won, err)
		}
		prev[f.AlertID] = f.FiredAt
	}
	errs3 := &pb.AlertFiring{AlertId: "errs", Type: "error_rate", KeyId: "k1", FiredAt: timestamppb.New(billingNow.Add(3 * time.Minute)),
		Value: 0.25, Threshold: 0.05, Message: "key k1 error rate 25.0%", Delivery: "failed: attempt 1: status 400"}
	tests := []struct {
		name  string
		in    *pb.ListAlertFiringsRequest
		ids   string // alert ids, newest first
		first *pb.AlertFiring
		code  connect.Code // 0 = ok
		param string
	}{
		{name: "every alert, newest first", in: &pb.ListAlertFiringsRequest{}, ids: "errs,spend,errs", first: errs3},
		{name: "one alert", in: &pb.ListAlertFiringsRequest{AlertId: "spend"}, ids: "spend"},
		{name: "limit", in: &pb.ListAlertFiringsRequest{Limit: 2}, ids: "errs,spend"},
		{name: "limit above the cap is capped", in: &pb.ListAlertFiringsRequest{Limit: 1 << 30}, ids: "errs,spend,errs"},
		{name: "an alert that never fired", in: &pb.ListAlertFiringsRequest{AlertId: "other"}, ids: ""},
		{name: "negative limit", in: &pb.ListAlertFiringsRequest{Limit: -1}, code: connect.CodeInvalidArgument, param: "limit"},
		{name: "malformed alert id", in: &pb.ListAlertFiringsRequest{AlertId: "a b"}, code: connect.CodeInvalidArgument, param: "alert_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := b.ListAlertFirings(ctx, tt.in)
			if tt.code != 0 {
				if Code(err) != tt.code || !strings.Contains(err.Error(), tt.param) {
					t.Fatalf("err = %v, want %v naming %s", err, tt.code, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range resp.GetFirings() {
				ids = append(ids, f.GetAlertId())
			}
			if got := strings.Join(ids, ","); got != tt.ids {
				t.Fatalf("firings of %q, want %q", got, tt.ids)
			}
			if tt.first != nil && !proto.Equal(resp.GetFirings()[0], tt.first) {
				t.Fatalf("first = %v\nwant    %v", resp.GetFirings()[0], tt.first)
			}
		})
	}

	// A deleted alert's history goes with it.
	if _, err := b.DeleteAlert(ctx, &pb.DeleteAlertRequest{Id: "errs"}); err != nil {
		t.Fatal(err)
	}
	resp, err := b.ListAlertFirings(ctx, &pb.ListAlertFiringsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFirings()) != 1 || resp.GetFirings()[0].GetAlertId() != "spend" {
		t.Fatalf("after deleting errs: %v", resp.GetFirings())
	}
}

func TestBilling_ListAlertFiringsZeroValueIsUnimplemented(t *testing.T) {
	var b Billing
	if _, err := b.ListAlertFirings(context.Background(), &pb.ListAlertFiringsRequest{}); Code(err) != connect.CodeUnimplemented {
		t.Fatalf("err = %v, want Unimplemented", err)
	}
}
