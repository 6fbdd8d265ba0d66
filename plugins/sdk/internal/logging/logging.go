// Package logging holds the plugin's logger, shared by package sdk (which
// hands it to authors) and package serve (which names it when it serves).
package logging

import (
	"io"
	"log/slog"
	"strings"
	"sync"
)

var (
	mu     sync.Mutex
	logger = New("plugin", io.Discard, slog.LevelInfo)
)

// Logger returns the current logger.
func Logger() *slog.Logger {
	mu.Lock()
	defer mu.Unlock()
	return logger
}

// Set replaces the current logger.
func Set(l *slog.Logger) {
	mu.Lock()
	defer mu.Unlock()
	logger = l
}

// New returns a logger that writes one JSON object a line to w, with the
// keys go-plugin's host reads from a plugin's stderr (@timestamp, @level,
// @message, @module), so the host relays each line into its own log at its
// level, under the plugin's name, with the attributes as key/value pairs.
func New(module string, w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				return slog.String("@level", strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
	return slog.New(h).With("@module", module)
}
