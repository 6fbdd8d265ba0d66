package pipeline

import "github.com/pit-lab/pit/core/runner"

// faultReporter is a plugin handle that reports its process's faults
// (crashes, hangs, restarts; core/runner/pluginhost.Handle).
type faultReporter interface{ OnFault(func(string)) }

// reportFaults records every fault of plugin p as a warning of the stage, so
// that it reaches the manifest of each run using the stage, and the log.
func reportFaults(c *runner.Context, p runner.Plugin) {
	if fr, ok := p.(faultReporter); ok {
		fr.OnFault(func(msg string) { c.Warn("plugin fault: %s", msg) })
	}
}
