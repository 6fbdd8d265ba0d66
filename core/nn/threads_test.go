package nn

import (
	"runtime"
	"testing"
)

// TestWeightsIndependentOfThreads trains the golden reference (every kind
// of training step, sampling) on one worker and on the default number:
// the weights must agree bit for bit, since every parallel kernel splits
// its work in static ranges whose results do not depend on the split.
func TestWeightsIndependentOfThreads(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("GOMAXPROCS is 1: nothing to compare")
	}
	for _, dt := range []string{"float32", "float64"} {
		many := trainReference(t, dt, false)
		prev := runtime.GOMAXPROCS(1)
		one := trainReference(t, dt, false)
		runtime.GOMAXPROCS(prev)
		if one != many {
			t.Errorf("%s: weights after training differ between 1 and %d threads", dt, prev)
		}
	}
}
