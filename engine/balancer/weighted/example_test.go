package weighted_test

import (
	"fmt"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/balancer/weighted"
)

func Example() {
	targets := []balancer.Target{{ID: "a", Weight: 5}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}}
	stats := []*balancer.Stats{new(balancer.Stats), new(balancer.Stats), new(balancer.Stats)}
	p, err := weighted.New(targets, stats, weighted.WithSeed(1)) // a seed that starts at the top of the cycle
	if err != nil {
		panic(err)
	}
	for range 7 {
		i, _ := p.Pick(&balancer.Request{})
		fmt.Print(targets[i].ID, " ")
	}
	fmt.Println()
	// Output: a a b a c a a
}
