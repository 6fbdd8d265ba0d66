package experiment

import (
	"strings"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// Key paths name a value in the experiment tree: keys joined by dots, keys
// that are not bare TOML keys quoted, array elements as [i]:
// stages.rlhf.reward.config.beta, seeds[0], grid.zip[1].axes, a."b.c".

// The syntax is package table's, which names the keys of decoding problems
// the same way.

func quoteKey(k string) string              { return table.QuoteKey(k) }
func joinKey(parent, k string) string       { return table.JoinKey(parent, k) }
func joinIndex(parent string, i int) string { return table.JoinIndex(parent, i) }

// segmentStarts returns the byte offsets at which each segment of path
// begins (a key after its dot, an index at its '[').
func segmentStarts(path string) []int {
	var starts []int
	i := 0
	for i < len(path) {
		starts = append(starts, i)
		switch path[i] {
		case '[':
			for i < len(path) && path[i] != ']' {
				i++
			}
			i++
		case '"':
			i++
			for i < len(path) && path[i] != '"' {
				if path[i] == '\\' {
					i++
				}
				i++
			}
			i++
		default:
			for i < len(path) && path[i] != '.' && path[i] != '[' {
				i++
			}
		}
		if i < len(path) && path[i] == '.' {
			i++
		}
	}
	return starts
}

// parentPath returns path without its last segment ("" at the top).
func parentPath(path string) string {
	starts := segmentStarts(path)
	if len(starts) <= 1 {
		return ""
	}
	p := path[:starts[len(starts)-1]]
	return strings.TrimSuffix(p, ".")
}

// isWithin reports whether path is p itself or lies below it.
func isWithin(path, p string) bool {
	if path == p {
		return true
	}
	if !strings.HasPrefix(path, p) || p == "" {
		return p == ""
	}
	c := path[len(p)]
	return c == '.' || c == '['
}

// splitAxisPath splits a grid axis path into bare keys; ok is false if a
// part is empty or not a bare key.
func splitAxisPath(path string) (keys []string, ok bool) {
	if path == "" {
		return nil, false
	}
	keys = strings.Split(path, ".")
	for _, k := range keys {
		if k == "" {
			return nil, false
		}
		for i := 0; i < len(k); i++ {
			if !isBareKeyChar(k[i]) {
				return nil, false
			}
		}
	}
	return keys, true
}
