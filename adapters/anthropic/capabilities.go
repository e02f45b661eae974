package anthropic

// NativeN reports that one Messages call answers one choice: Anthropic has
// no n. The router detects this (engine/route's nativeN) and, on a route
// with fan_out_n, serves n > 1 by n calls; elsewhere n != 1 is refused
// with a 400 naming n (translateRequest).
func (c *Client) NativeN() bool { return false }
