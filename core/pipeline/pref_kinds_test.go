package pipeline_test

// The real-preference-data stage kinds and task kind live in a package that
// imports this one; registering them in the test binary lets
// TestExperimentFiles load experiments/*-reward-models.toml too.
import _ "github.com/pit-lab/pit/core/task/pref/prefstage"
