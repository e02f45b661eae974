package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/store"
)

// KeyStore keeps client keys (store.Store implements it).
type KeyStore interface {
	CreateClientKey(ctx context.Context, k store.ClientKey) error
	GetClientKey(ctx context.Context, id string) (store.ClientKey, error)
	ListClientKeys(ctx context.Context) ([]store.ClientKey, error)
	UpdateClientKey(ctx context.Context, k store.ClientKey) error
	RevokeClientKey(ctx context.Context, id string, at time.Time) error
	RotateClientKey(ctx context.Context, id string, grace time.Duration) (string, store.ClientKey, error)
}

// Keys implements KeyService: client keys with their limits, stored hashed;
// the secret is answered once, by CreateKey and RotateKey. The zero value
// answers Unimplemented.
type Keys struct {
	pb.UnimplementedKeyServiceServer
	st       KeyStore
	onChange func(id string)
	now      func() time.Time
	// hasAdmin says an admin key is configured. Without one the first
	// client key is refused: it would switch authentication on, and admin
	// APIs would then refuse everyone, its creator included.
	hasAdmin bool
}

// KeysOption configures Keys.
type KeysOption func(*Keys)

// WithKeysClock injects the clock (tests).
func WithKeysClock(now func() time.Time) KeysOption { return func(k *Keys) { k.now = now } }

// WithAdminKeyConfigured tells the service whether the gateway has an admin
// key (SWITCHYARD_ADMIN_KEY). Without one (the default) CreateKey refuses
// the first client key with FailedPrecondition.
func WithAdminKeyConfigured(ok bool) KeysOption { return func(k *Keys) { k.hasAdmin = ok } }

// errNoAdminKey explains the refusal and the way out. It is made per call:
// a *connect.Error carries mutable metadata.
func errNoAdminKey() error {
	return connect.NewError(connect.CodeFailedPrecondition, errors.New(
		"no admin key is configured: the first client key would switch key checks on, and admin APIs (this one included) "+
			"would then refuse every caller. Set SWITCHYARD_ADMIN_KEY in the gateway's environment (e.g. export SWITCHYARD_ADMIN_KEY=$(openssl rand -hex 24)), "+
			"restart it, and send that key as 'Authorization: Bearer ADMIN_KEY' (the CLI reads the same variable)"))
}

// NewKeys returns the key service. onChange is called after every change
// (the authentication cache forgets what it knew); nil ignores changes.
func NewKeys(st KeyStore, onChange func(id string), opts ...KeysOption) *Keys {
	k := &Keys{st: st, onChange: onChange, now: time.Now}
	for _, o := range opts {
		o(k)
	}
	if k.onChange == nil {
		k.onChange = func(string) {}
	}
	return k
}

// Limits on what a key may carry, so a typo cannot store a megabyte.
const (
	maxKeyName     = 128
	maxKeyListLen  = 256
	maxKeyLabels   = 64
	maxKeyLabelLen = 256
	maxRotateGrace = 30 * 24 * time.Hour
)

func newKeyID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "key_" + hex.EncodeToString(b[:]), nil
}

// keyFromProto validates the settable fields of in onto k.
func (s *Keys) keyFromProto(in *pb.ClientKey, k *store.ClientKey) error {
	name := strings.TrimSpace(in.GetName())
	if utf8.RuneCountInString(name) > maxKeyName || !utf8.ValidString(name) {
		return llm.InvalidParam("key.name", "name must be valid text of at most %d characters", maxKeyName)
	}
	if in.GetRpmLimit() < 0 {
		return llm.InvalidParam("key.rpm_limit", "rpm_limit must not be negative (0 means unlimited)")
	}
	if in.GetTpmLimit() < 0 {
		return llm.InvalidParam("key.tpm_limit", "tpm_limit must not be negative (0 means unlimited)")
	}
	for field, l := range map[string][]string{"key.allowed_models": in.GetAllowedModels(), "key.allowed_routes": in.GetAllowedRoutes(), "key.ip_allowlist": in.GetIpAllowlist()} {
		if len(l) > maxKeyListLen {
			return llm.InvalidParam(field, "at most %d entries", maxKeyListLen)
		}
		for _, v := range l {
			if strings.TrimSpace(v) == "" || len(v) > maxKeyLabelLen || !utf8.ValidString(v) {
				return llm.InvalidParam(field, "entries must be non-empty text of at most %d bytes", maxKeyLabelLen)
			}
		}
	}
	if _, err := access.ParseIPAllowlist(in.GetIpAllowlist()); err != nil {
		return llm.InvalidParam("key.ip_allowlist", "%v", err)
	}
	k.Name, k.RPM, k.TPM = name, int64(in.GetRpmLimit()), int64(in.GetTpmLimit())
	k.AllowedModels, k.AllowedRoutes, k.IPAllowlist = in.GetAllowedModels(), in.GetAllowedRoutes(), in.GetIpAllowlist()
	k.BudgetUSD, k.BudgetPeriod = 0, ""
	if b := in.GetBudget(); b != nil {
		if !(b.GetAmountUsd() >= 0) || math.IsInf(b.GetAmountUsd(), 0) {
			return llm.InvalidParam("key.budget.amount_usd", "amount_usd must be a number >= 0")
		}
		switch b.GetPeriod() {
		case pb.BudgetPeriod_BUDGET_PERIOD_DAY:
			k.BudgetPeriod = "day"
		case pb.BudgetPeriod_BUDGET_PERIOD_MONTH:
			k.BudgetPeriod = "month"
		default:
			return llm.InvalidParam("key.budget.period", "period must be BUDGET_PERIOD_DAY or BUDGET_PERIOD_MONTH")
		}
		k.BudgetUSD = b.GetAmountUsd()
	}
	k.ExpiresAt = time.Time{}
	if e := in.GetExpiresAt(); e != nil {
		if err := e.CheckValid(); err != nil {
			return llm.InvalidParam("key.expires_at", "%v", err)
		}
		if !e.AsTime().After(s.now()) {
			return llm.InvalidParam("key.expires_at", "expires_at must be in the future")
		}
		k.ExpiresAt = e.AsTime()
	}
	if len(in.GetLabels()) > maxKeyLabels {
		return llm.InvalidParam("key.labels", "at most %d labels", maxKeyLabels)
	}
	for lk, lv := range in.GetLabels() {
		if lk == "" || len(lk) > maxKeyLabelLen || len(lv) > maxKeyLabelLen || !utf8.ValidString(lk) || !utf8.ValidString(lv) {
			return llm.InvalidParam("key.labels", "label names must be non-empty; names and values text of at most %d bytes", maxKeyLabelLen)
		}
	}
	k.Labels = in.GetLabels()
	return nil
}

func clientKeyToProto(k store.ClientKey) *pb.ClientKey {
	out := &pb.ClientKey{
		Id: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: timestamppb.New(k.CreatedAt),
		AllowedModels: k.AllowedModels, AllowedRoutes: k.AllowedRoutes, RpmLimit: int32(min(k.RPM, math.MaxInt32)),
		TpmLimit: int32(min(k.TPM, math.MaxInt32)), IpAllowlist: k.IPAllowlist, Labels: k.Labels,
	}
	if !k.ExpiresAt.IsZero() {
		out.ExpiresAt = timestamppb.New(k.ExpiresAt)
	}
	if !k.RevokedAt.IsZero() {
		out.RevokedAt = timestamppb.New(k.RevokedAt)
	}
	if k.BudgetPeriod != "" {
		p := pb.BudgetPeriod_BUDGET_PERIOD_DAY
		if k.BudgetPeriod == "month" || k.BudgetPeriod == "monthly" {
			p = pb.BudgetPeriod_BUDGET_PERIOD_MONTH
		}
		out.Budget = &pb.Budget{AmountUsd: k.BudgetUSD, Period: p}
	}
	return out
}

func keyErr(id string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &llm.Error{Kind: llm.KindNotFound, Param: "id", Code: "key_not_found", Message: fmt.Sprintf("client key %q not found", id), Err: err}
	case errors.Is(err, store.ErrInvalidText):
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: "text fields must be valid UTF-8 without NUL", Err: err}
	}
	return err
}

// CreateKey creates a key and answers its secret, once.
func (s *Keys) CreateKey(ctx context.Context, in *pb.CreateKeyRequest) (*pb.CreateKeyResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.CreateKey(ctx, in)
	}
	var k store.ClientKey
	if err := s.keyFromProto(in.GetKey(), &k); err != nil {
		return nil, err
	}
	if !s.hasAdmin {
		existing, err := s.st.ListClientKeys(ctx)
		if err != nil {
			return nil, err
		}
		if len(existing) == 0 {
			return nil, errNoAdminKey()
		}
	}
	secret, prefix, hash, err := store.NewClientKeySecret()
	if err != nil {
		return nil, err
	}
	if k.ID, err = newKeyID(); err != nil {
		return nil, err
	}
	k.Prefix, k.Hash, k.CreatedAt = prefix, hash, s.now()
	if err := s.st.CreateClientKey(ctx, k); err != nil {
		return nil, keyErr(k.ID, err)
	}
	s.onChange(k.ID)
	return &pb.CreateKeyResponse{Key: clientKeyToProto(k), Secret: secret}, nil
}

// ListKeys lists keys, revoked ones only when asked.
func (s *Keys) ListKeys(ctx context.Context, in *pb.ListKeysRequest) (*pb.ListKeysResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.ListKeys(ctx, in)
	}
	keys, err := s.st.ListClientKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListKeysResponse{Keys: make([]*pb.ClientKey, 0, len(keys))}
	for _, k := range keys {
		if !k.RevokedAt.IsZero() && !in.GetIncludeRevoked() {
			continue
		}
		out.Keys = append(out.Keys, clientKeyToProto(k))
	}
	return out, nil
}

// GetKey returns one key.
func (s *Keys) GetKey(ctx context.Context, in *pb.GetKeyRequest) (*pb.GetKeyResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.GetKey(ctx, in)
	}
	k, err := s.st.GetClientKey(ctx, in.GetId())
	if err != nil {
		return nil, keyErr(in.GetId(), err)
	}
	return &pb.GetKeyResponse{Key: clientKeyToProto(k)}, nil
}

// UpdateKey replaces a key's name, limits, allowlists, budget, expiry and
// labels (not its secret: see RotateKey).
func (s *Keys) UpdateKey(ctx context.Context, in *pb.UpdateKeyRequest) (*pb.UpdateKeyResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.UpdateKey(ctx, in)
	}
	id := in.GetId()
	switch body := in.GetKey().GetId(); {
	case id == "":
		id = body
	case body != "" && body != id:
		return nil, llm.InvalidParam("key.id", "key.id %q does not match the key %q being updated", body, id)
	}
	k, err := s.st.GetClientKey(ctx, id)
	if err != nil {
		return nil, keyErr(id, err)
	}
	if !k.RevokedAt.IsZero() {
		return nil, &llm.Error{Kind: llm.KindInvalidRequest, Param: "key.id", Message: fmt.Sprintf("client key %q is revoked", id)}
	}
	if err := s.keyFromProto(in.GetKey(), &k); err != nil {
		return nil, err
	}
	if err := s.st.UpdateClientKey(ctx, k); err != nil {
		return nil, keyErr(id, err)
	}
	s.onChange(id)
	return &pb.UpdateKeyResponse{Key: clientKeyToProto(k)}, nil
}

// RevokeKey revokes a key at once; revoking twice keeps the first time.
func (s *Keys) RevokeKey(ctx context.Context, in *pb.RevokeKeyRequest) (*pb.RevokeKeyResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.RevokeKey(ctx, in)
	}
	if err := s.st.RevokeClientKey(ctx, in.GetId(), s.now()); err != nil {
		return nil, keyErr(in.GetId(), err)
	}
	s.onChange(in.GetId())
	k, err := s.st.GetClientKey(ctx, in.GetId())
	if err != nil {
		return nil, keyErr(in.GetId(), err)
	}
	return &pb.RevokeKeyResponse{Key: clientKeyToProto(k)}, nil
}

// RotateKey issues a new secret; the old one keeps working for
// grace_seconds (at most 30 days).
func (s *Keys) RotateKey(ctx context.Context, in *pb.RotateKeyRequest) (*pb.RotateKeyResponse, error) {
	if s.st == nil {
		return s.UnimplementedKeyServiceServer.RotateKey(ctx, in)
	}
	grace := time.Duration(in.GetGraceSeconds()) * time.Second
	if grace < 0 || grace > maxRotateGrace {
		return nil, llm.InvalidParam("grace_seconds", "grace_seconds must be between 0 and %d", int(maxRotateGrace/time.Second))
	}
	secret, k, err := s.st.RotateClientKey(ctx, in.GetId(), grace)
	if err != nil {
		return nil, keyErr(in.GetId(), err)
	}
	s.onChange(in.GetId())
	return &pb.RotateKeyResponse{Key: clientKeyToProto(k), Secret: secret}, nil
}
