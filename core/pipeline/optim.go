package pipeline

import "github.com/pit-lab/pit/core/nn"

// The training stages (sft, pit_sft, rm, pit_rm) share their optimiser
// settings; these check and convert them in one place.

// checkSize reports steps, batch size and learning rate out of range.
func checkSize(bad func(key, format string, args ...any), steps, batch int, lr float64) {
	if steps < 1 {
		bad("steps", "must be at least 1 (got %d)", steps)
	}
	if batch < 1 {
		bad("batch_size", "must be at least 1 (got %d)", batch)
	}
	if !(lr > 0) {
		bad("lr", "must be > 0 (got %v)", lr)
	}
}

// checkSchedule reports a warm-up that does not fit the steps and an unknown
// schedule.
func checkSchedule(bad func(key, format string, args ...any), steps, warmup int, schedule string) {
	if schedule != nn.ScheduleConstant && warmup >= steps {
		bad("warmup_steps", "must be below steps (%d) with the %s schedule (got %d)", steps, schedule, warmup)
	}
	switch schedule {
	case nn.ScheduleConstant, nn.ScheduleLinear, nn.ScheduleCosine:
	default:
		bad("schedule", "want constant, linear or cosine (got %q)", schedule)
	}
}

// optimConfig is the AdamW configuration of a training stage; the learning
// rate decays to a tenth of its peak.
func optimConfig(lr, weightDecay, clipNorm float64, warmup, steps int, schedule string) nn.OptimConfig {
	return nn.OptimConfig{LR: lr, WeightDecay: weightDecay, ClipNorm: clipNorm, Schedule: schedule,
		WarmupSteps: warmup, TotalSteps: steps, MinLRFrac: 0.1}
}
