package control

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

type failingLimiter struct{ err error }

func (f failingLimiter) Reserve(context.Context, string, limits.Limits, int) (limits.Reservation, error) {
	return nil, f.err
}

type failingBudgeter struct{ err error }

func (f failingBudgeter) Reserve(context.Context, string, budget.Budget, llm.Money) (budget.Hold, error) {
	return nil, f.err
}
func (f failingBudgeter) Spent(context.Context, string, budget.Period) (llm.Money, error) {
	return 0, nil
}

// A store failure is a 503 naming the shared state; a limit or budget
// reached, and a caller gone, stay what they are.
func TestSharedStateFailuresAreUnavailable(t *testing.T) {
	denied := &llm.Error{Kind: llm.KindRateLimited, Code: "budget_exceeded"}
	tests := []struct {
		name     string
		err      error
		wantKind llm.Kind
		wantCode string
	}{
		{"redis down", fmt.Errorf("evalsha: %w", errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")), llm.KindUnavailable, codeSharedStateUnavailable},
		{"limit reached", denied, llm.KindRateLimited, "budget_exceeded"},
		{"caller gone", context.Canceled, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lerr := closedLimiter{failingLimiter{tt.err}}.Reserve(context.Background(), "k", limits.Limits{RPM: 1}, 1)
			_, berr := closedBudgeter{failingBudgeter{tt.err}}.Reserve(context.Background(), "k", budget.Budget{}, 1)
			for _, err := range []error{lerr, berr} {
				if !errors.Is(err, tt.err) {
					t.Fatalf("%v does not wrap %v", err, tt.err)
				}
				var le *llm.Error
				if tt.wantCode == "" {
					if errors.As(err, &le) {
						t.Fatalf("%v became an llm.Error", err)
					}
					continue
				}
				if !errors.As(err, &le) || le.Kind != tt.wantKind || le.Code != tt.wantCode {
					t.Fatalf("got %#v, want kind %v code %q", le, tt.wantKind, tt.wantCode)
				}
			}
		})
	}
	if err := unavailable("budgets", nil); err != nil {
		t.Fatalf("nil became %v", err)
	}
}
