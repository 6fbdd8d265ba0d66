package pipeline

import "github.com/pit-lab/pit/core/rl"

// RLSettings configure the RL stages (rlhf and pit_rl): rl.Settings, the
// keys of their tables.
type RLSettings = rl.Settings

func defaultRL() RLSettings { return rl.DefaultSettings() }
