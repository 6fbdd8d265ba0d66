package runner

import (
	"errors"
	"fmt"
	"testing"
)

func TestStepFailure(t *testing.T) {
	cases := []struct {
		err   error
		step  int
		value string
		ok    bool
	}{
		{fmt.Errorf("step 12: %w", errors.New("nn: policy loss is NaN; update skipped")), 12, "NaN", true},
		{fmt.Errorf("step 3: %w", errors.New("reward of item 0 (abc) is +Inf")), 3, "+Inf", true},
		{errors.New("step 7: advantage of sequence 2 token 4 is -Inf"), 7, "-Inf", true},
		{errors.New("stage rlhf: refresh step 2: nn: gradient is not finite (sum of squares NaN); update skipped"), 2, "NaN", true},
		{errors.New("step 4: loss is 0.5"), 0, "", false},
		{errors.New("reward plugin \"x\" exited during Score"), 0, "", false},
		{errors.New("step 9: the NaNny plugin failed"), 0, "", false},
		{nil, 0, "", false},
	}
	for _, c := range cases {
		step, value, ok := StepFailure(c.err)
		if step != c.step || value != c.value || ok != c.ok {
			t.Errorf("StepFailure(%v) = %d, %q, %v; want %d, %q, %v", c.err, step, value, ok, c.step, c.value, c.ok)
		}
	}
}
