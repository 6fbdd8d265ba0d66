package sdk

import (
	"log/slog"

	"github.com/pit-lab/pit/plugins/sdk/internal/logging"
)

// Logger returns the plugin's logger. In a served plugin it writes JSON
// lines to stderr, which the host relays into its own log under the
// plugin's name, at each line's level, with the attributes as key/value
// pairs. Outside a served plugin (in tests) it discards. Plugins must never
// write to stdout: go-plugin's handshake owns it.
func Logger() *slog.Logger { return logging.Logger() }
