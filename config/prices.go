package config

// BuiltinPrices is the price table for common current models, in US dollars
// per million tokens (input, output, cached input, cache writes), from the providers'
// public list prices. A provider's `prices` entry in the config overrides
// the built-in one for that model; a model in neither costs 0 (and the
// gateway logs it at start). Verify against your contract before billing.
func BuiltinPrices() map[string]Price {
	return map[string]Price{
		// OpenAI
		"gpt-4o":                 {Input: 2.50, Output: 10.00, CachedInput: 1.25},
		"gpt-4o-mini":            {Input: 0.15, Output: 0.60, CachedInput: 0.075},
		"gpt-4.1":                {Input: 2.00, Output: 8.00, CachedInput: 0.50},
		"gpt-4.1-mini":           {Input: 0.40, Output: 1.60, CachedInput: 0.10},
		"gpt-4.1-nano":           {Input: 0.10, Output: 0.40, CachedInput: 0.025},
		"o3":                     {Input: 2.00, Output: 8.00, CachedInput: 0.50},
		"o4-mini":                {Input: 1.10, Output: 4.40, CachedInput: 0.275},
		"text-embedding-3-small": {Input: 0.02},
		"text-embedding-3-large": {Input: 0.13},
		// Anthropic (cached input = cache read, 0.1× input; cache writes
		// 1.25× input for 5 minutes, 2× for an hour)
		"claude-opus-4-20250514":     {Input: 15.00, Output: 75.00, CachedInput: 1.50, CacheWrite: 18.75, CacheWrite1h: 30.00},
		"claude-sonnet-4-20250514":   {Input: 3.00, Output: 15.00, CachedInput: 0.30, CacheWrite: 3.75, CacheWrite1h: 6.00},
		"claude-3-7-sonnet-20250219": {Input: 3.00, Output: 15.00, CachedInput: 0.30, CacheWrite: 3.75, CacheWrite1h: 6.00},
		"claude-3-5-haiku-20241022":  {Input: 0.80, Output: 4.00, CachedInput: 0.08, CacheWrite: 1.00, CacheWrite1h: 1.60},
		// Google Gemini (prompts up to 200k tokens)
		"gemini-2.5-pro":        {Input: 1.25, Output: 10.00, CachedInput: 0.31},
		"gemini-2.5-flash":      {Input: 0.30, Output: 2.50, CachedInput: 0.075},
		"gemini-2.5-flash-lite": {Input: 0.10, Output: 0.40, CachedInput: 0.025},
		// DeepSeek
		"deepseek-chat":     {Input: 0.27, Output: 1.10, CachedInput: 0.07},
		"deepseek-reasoner": {Input: 0.55, Output: 2.19, CachedInput: 0.14},
	}
}

// EffectivePrices is p's price table: the built-in price of each model it
// lists, overridden by its own `prices` entries.
func (p Provider) EffectivePrices() map[string]Price {
	builtin := BuiltinPrices()
	out := make(map[string]Price, len(p.Models)+len(p.Prices))
	for _, m := range p.Models {
		if pr, ok := builtin[m]; ok {
			out[m] = pr
		}
	}
	for m, pr := range p.Prices {
		out[m] = pr
	}
	return out
}
