package runner

import (
	"regexp"
	"strconv"
)

// nonFiniteRE finds a rejected step in a stage's error: the stages say
// "step N: ..." and the rejected number as NaN, +Inf or -Inf.
var nonFiniteRE = regexp.MustCompile(`(?:^|[:;] )(?:refresh )?step (\d+): (?:.*[^\w.+-])?(NaN|[+-]Inf)\b`)

// StepFailure reports whether err is a training step rejected for a NaN or
// infinite loss, reward, advantage or gradient, and which step and value.
// The manifest records them (results.StageRecord.FailedStep, FailedValue).
func StepFailure(err error) (step int, value string, ok bool) {
	if err == nil {
		return 0, "", false
	}
	m := nonFiniteRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, "", false
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return 0, "", false
	}
	return n, m[2], true
}
