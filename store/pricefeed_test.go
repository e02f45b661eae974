package store

import (
	"context"
	"testing"
	"time"
)

func TestPriceFeedKeepsTheLastSavedPerSource(t *testing.T) {
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if _, ok, err := s.LoadPriceFeed(ctx, "a"); err != nil || ok {
				t.Fatalf("empty store: ok=%v err=%v", ok, err)
			}
			steps := []PriceFeed{
				{Source: "a", Body: []byte(`{"m":1}`), FetchedAt: at},
				{Source: "a", Body: []byte(`{"m":2}`), FetchedAt: at.Add(time.Minute)},
				{Source: "b", Body: []byte(`{"m":3}`), FetchedAt: at},
			}
			for _, f := range steps {
				if err := s.SavePriceFeed(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range []PriceFeed{steps[1], steps[2]} {
				got, ok, err := s.LoadPriceFeed(ctx, want.Source)
				if err != nil || !ok || string(got.Body) != string(want.Body) || !got.FetchedAt.Equal(want.FetchedAt) {
					t.Errorf("%s: got %+v ok=%v err=%v, want %+v", want.Source, got, ok, err, want)
				}
			}
		})
	}
}
