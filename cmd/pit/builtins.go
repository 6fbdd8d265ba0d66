package main

// The built-in plugins register themselves with the SDK, so that
// "pit plugin serve KIND NAME" serves them and "pit plugins" lists them.
import _ "github.com/pit-lab/pit/plugins/builtin"
