package config

// Quota is what each API key of a provider is allowed by its subscription,
// declared so the gateway routes around a key before the provider answers
// 429. Providers with keys on different plans are declared as separate
// providers.
type Quota struct {
	// RPM and TPM are the key's requests and tokens per minute (0: not
	// limited in that dimension).
	RPM int `yaml:"rpm"`
	TPM int `yaml:"tpm"`
	// Headroom is the share of the quota ordinary routing uses before it
	// prefers the pool's other keys (default 0.8, in (0, 1]); the rest is
	// drawn on only when every key is at its headroom.
	Headroom float64 `yaml:"headroom"`
}

// DefaultQuotaHeadroom is the seed's ceiling at 80% of the subscribed rate.
const DefaultQuotaHeadroom = 0.8

func (q *Quota) validate(k *checker, f string) {
	if q == nil {
		return
	}
	if q.RPM < 0 {
		k.add(f+".rpm", "must be >= 0, got %d", q.RPM)
	}
	if q.TPM < 0 {
		k.add(f+".tpm", "must be >= 0, got %d", q.TPM)
	}
	if q.RPM == 0 && q.TPM == 0 {
		k.add(f, "declares neither rpm nor tpm")
	}
	if !(q.Headroom > 0 && q.Headroom <= 1) {
		k.add(f+".headroom", "must be in (0, 1], got %v", q.Headroom)
	}
}

func (q *Quota) applyDefaults() {
	if q != nil && q.Headroom == 0 {
		q.Headroom = DefaultQuotaHeadroom
	}
}
