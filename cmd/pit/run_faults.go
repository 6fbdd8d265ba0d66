package main

import (
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/pluginhost"
)

// setPluginPolicy applies the experiment's [plugins] section (call
// deadline, retries; see pluginhost.Settings) to the plugin host of pit run.
func setPluginPolicy(ph runner.PluginHost, runs []experiment.Run) error {
	pol, err := pluginhost.PolicyFor(runs)
	if err != nil {
		return err
	}
	h, ok := ph.(*pluginhost.Host)
	if !ok {
		return fmt.Errorf("plugin host is a %T: cannot set the fault policy", ph)
	}
	h.SetPolicy(pol)
	return nil
}
