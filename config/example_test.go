package config_test

import (
	"fmt"

	"github.com/switchyard/switchyard/config"
)

func ExampleParse() {
	src := []byte(`
providers:
  - name: openai
    type: openai
    api_keys: ["${OPENAI_API_KEY}"]
    models: [gpt-4o-mini]
routes:
  - model: chat
    targets: [{provider: openai, model: gpt-4o-mini}]
`)
	getenv := func(name string) (string, bool) {
		if name == "OPENAI_API_KEY" {
			return "sk-example-1234567890", true
		}
		return "", false
	}
	c, err := config.Parse(src, getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := c.Redacted().Providers[0]
	fmt.Println(c.Listen, p.BaseURL, p.APIKeys[0], p.Timeout)
	fmt.Println(c.Routes[0].Model, c.Routes[0].Strategy, c.Routes[0].Cache.Mode)
	// Output:
	// 127.0.0.1:8080 https://api.openai.com/v1 ****7890 2m0s
	// chat priority deterministic
}

func ExampleConfig_Validate() {
	src := []byte(`
providers:
  - name: openai
    type: openai
    api_keys: ["${OPENAI_API_KEY}"]
  - name: local
    type: foo
routes:
  - model: chat
    strategy: fastest
    targets: [{provider: nobody}]
`)
	_, err := config.Parse(src, func(string) (string, bool) { return "", false })
	fmt.Println(err)
	// Output:
	// config: providers[0].api_keys[0]: environment variable OPENAI_API_KEY is not set
	// config: providers[1].type: unknown type "foo" (want one of openai, anthropic, gemini, openai-compatible, azure, simulator)
	// config: routes[0].strategy: unknown value "fastest" (want one of consistent_hash, least_connections, hybrid, weighted, priority, latency_priority, cost_priority)
	// config: routes[0].targets[0].provider: unknown provider "nobody"
}
