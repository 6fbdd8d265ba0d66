package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pit-lab/pit/core/runner"
)

// Two stages: count draws numbers from the run's seed, sum adds them up.
// Two arms share count (same settings and seed), so it is computed once.
func Example() {
	reg := runner.NewRegistry() // programs use runner.Register
	reg.Register(runner.Kind{
		Name: "count",
		Run: func(c *runner.Context) error {
			rng := c.Rand("draws")
			var s string
			for i := 0; i < 3; i++ {
				s += strconv.Itoa(rng.IntN(10)) + "\n"
				c.Progress(i+1, 3)
			}
			return os.WriteFile(filepath.Join(c.Out, "draws.txt"), []byte(s), 0o644)
		},
	})
	reg.Register(runner.Kind{
		Name:  "sum",
		Needs: []string{"count"},
		Run: func(c *runner.Context) error {
			b, err := os.ReadFile(filepath.Join(c.Input("count"), "draws.txt"))
			if err != nil {
				return err
			}
			total := 0
			for _, line := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(line)
				total += n
			}
			return c.Metric(0, "total", float64(total))
		},
	})
	plan := runner.Plan{Experiment: "example"}
	for _, arm := range []string{"a", "b"} {
		plan.Runs = append(plan.Runs, runner.RunSpec{ID: "arm=" + arm, Arm: arm, Seed: 1, Stages: []runner.StageSpec{
			{Name: "count"},
			{Name: "sum", Config: "arm " + arm}, // differs per arm
		}})
	}
	dir, _ := os.MkdirTemp("", "runner-example-")
	defer os.RemoveAll(dir)
	opts := runner.Options{Dir: dir, Registry: reg, CodeVersion: "example"}

	sum, err := runner.Execute(context.Background(), plan, opts)
	fmt.Printf("first:  %d runs done, %d stages computed, %d reused, err %v\n", sum.Done, sum.Computed, sum.Cached, err)
	sum, err = runner.Execute(context.Background(), plan, opts)
	fmt.Printf("second: %d runs done, %d stages computed, %d reused, err %v\n", sum.Done, sum.Computed, sum.Cached, err)
	// Output:
	// first:  2 runs done, 3 stages computed, 0 reused, err <nil>
	// second: 2 runs done, 0 stages computed, 3 reused, err <nil>
}
