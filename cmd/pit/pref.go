package main

// The real-preference-data stage kinds (pref_data, pref_rm) and the
// "preference" task kind of experiment files.
import _ "github.com/pit-lab/pit/core/task/pref/prefstage"
