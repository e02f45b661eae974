package simulator

// NativeN reports that the simulator answers one choice per call, whatever
// n asks (as Anthropic does): a route with fan_out_n serves n > 1 on it by
// n calls, so demos and load tests show fan-out and its billing without an
// upstream. Its answers are deterministic, so the n choices are the same.
func (p *Provider) NativeN() bool { return false }
