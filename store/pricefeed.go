package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PriceFeed is the last good price feed fetched from Source: Body is the
// gateway's own encoding of the parsed prices (the store does not read it).
type PriceFeed struct {
	Source    string
	Body      []byte
	FetchedAt time.Time
}

// SavePriceFeed replaces the feed kept for f.Source, so a gateway that
// restarts while the feed is down serves the prices it last fetched.
func (s *Store) SavePriceFeed(ctx context.Context, f PriceFeed) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO price_feeds (source, body, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at`),
		f.Source, string(f.Body), toMillis(f.FetchedAt))
	if err != nil {
		return fmt.Errorf("store: save price feed: %w", err)
	}
	return nil
}

// LoadPriceFeed returns the feed kept for source; ok is false when there is none.
func (s *Store) LoadPriceFeed(ctx context.Context, source string) (f PriceFeed, ok bool, err error) {
	var (
		body string
		at   int64
	)
	err = s.db.QueryRowContext(ctx, s.d.q(`SELECT body, fetched_at FROM price_feeds WHERE source = ?`), source).Scan(&body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return PriceFeed{}, false, nil
	}
	if err != nil {
		return PriceFeed{}, false, fmt.Errorf("store: load price feed: %w", err)
	}
	return PriceFeed{Source: source, Body: []byte(body), FetchedAt: fromMillis(at)}, true, nil
}
