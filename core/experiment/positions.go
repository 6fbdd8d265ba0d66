package experiment

import (
	"sort"
	"strconv"
	"strings"
)

// BurntSushi/toml's MetaData lists the keys of a document in order but does
// not expose where they are, and it folds the elements of an array of tables
// into one key. positions is a small scanner over an already parsed (so
// syntactically valid) document that records the line of every key, table
// header and array element, keyed by the same dotted paths the validator
// uses ("grid.zip[1].axes", "seeds[2]").

// positions maps key paths to 1-based lines; order lists the paths in the
// order they first appear.
type positions struct {
	line  map[string]int
	index map[string]int // path -> position in order
	order []string
}

// lookup returns the line of path, or of its nearest ancestor that appears
// in the file, or 0.
func (p *positions) lookup(path string) int {
	for path != "" {
		if l, ok := p.line[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// has reports whether path itself appears in the file.
func (p *positions) has(path string) bool {
	_, ok := p.line[path]
	return ok
}

type scanner struct {
	s          string
	i          int
	lineStarts []int
	pos        *positions
	aot        map[string]int // array-of-tables path -> number of elements so far
	cur        string         // current table path
}

func scanPositions(src string) *positions {
	sc := &scanner{
		s:   src,
		pos: &positions{line: map[string]int{}, index: map[string]int{}},
		aot: map[string]int{},
	}
	sc.lineStarts = append(sc.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			sc.lineStarts = append(sc.lineStarts, i+1)
		}
	}
	sc.document()
	return sc.pos
}

func (sc *scanner) lineAt(off int) int {
	return sort.Search(len(sc.lineStarts), func(i int) bool { return sc.lineStarts[i] > off })
}

func (sc *scanner) record(path string, off int) {
	if path == "" {
		return
	}
	if _, ok := sc.pos.line[path]; ok {
		return
	}
	sc.pos.line[path] = sc.lineAt(off)
	sc.pos.index[path] = len(sc.pos.order)
	sc.pos.order = append(sc.pos.order, path)
}

func (sc *scanner) eof() bool { return sc.i >= len(sc.s) }

func (sc *scanner) peek(n int) byte {
	if sc.i+n < len(sc.s) {
		return sc.s[sc.i+n]
	}
	return 0
}

func (sc *scanner) skipSpace() {
	for !sc.eof() && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

// skipBlank skips whitespace, newlines and comments.
func (sc *scanner) skipBlank() {
	for !sc.eof() {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		case '#':
			for !sc.eof() && sc.s[sc.i] != '\n' {
				sc.i++
			}
		default:
			return
		}
	}
}

func (sc *scanner) skipLine() {
	for !sc.eof() && sc.s[sc.i] != '\n' {
		sc.i++
	}
}

func (sc *scanner) document() {
	for {
		sc.skipBlank()
		if sc.eof() {
			return
		}
		start := sc.i
		if sc.s[sc.i] == '[' {
			sc.header()
		} else {
			sc.keyValue(sc.cur)
		}
		sc.skipLine() // rest of the line: a comment at most
		if sc.i == start {
			sc.i++ // never loop without progress
		}
	}
}

func (sc *scanner) header() {
	off := sc.i
	array := sc.peek(1) == '['
	if array {
		sc.i += 2
	} else {
		sc.i++
	}
	keys := sc.key()
	path := ""
	for _, k := range keys {
		path = joinKey(path, k)
		sc.record(path, off)
		if n, ok := sc.aot[path]; ok && n > 0 {
			path = joinIndex(path, n-1)
		}
	}
	if array {
		// path already points at the previous element, if any; strip it.
		base := ""
		for i, k := range keys {
			base = joinKey(base, k)
			if i < len(keys)-1 {
				if n, ok := sc.aot[base]; ok && n > 0 {
					base = joinIndex(base, n-1)
				}
			}
		}
		n := sc.aot[base]
		sc.aot[base] = n + 1
		path = joinIndex(base, n)
		sc.record(path, off)
	}
	sc.cur = path
}

// key reads a dotted key and returns its parts.
func (sc *scanner) key() []string {
	var parts []string
	for !sc.eof() {
		sc.skipSpace()
		if sc.eof() {
			break
		}
		switch c := sc.s[sc.i]; {
		case c == '"':
			start := sc.i
			sc.i++
			for !sc.eof() && sc.s[sc.i] != '"' {
				if sc.s[sc.i] == '\\' {
					sc.i++
				}
				sc.i++
			}
			end := min(sc.i+1, len(sc.s))
			raw := sc.s[start:end]
			if u, err := strconv.Unquote(raw); err == nil {
				parts = append(parts, u)
			} else {
				parts = append(parts, strings.Trim(raw, `"`))
			}
			sc.i = end
		case c == '\'':
			sc.i++
			start := sc.i
			for !sc.eof() && sc.s[sc.i] != '\'' {
				sc.i++
			}
			parts = append(parts, sc.s[start:min(sc.i, len(sc.s))])
			sc.i = min(sc.i+1, len(sc.s))
		case isBareKeyChar(c):
			start := sc.i
			for !sc.eof() && isBareKeyChar(sc.s[sc.i]) {
				sc.i++
			}
			parts = append(parts, sc.s[start:sc.i])
		default:
			return parts
		}
		sc.skipSpace()
		if sc.eof() || sc.s[sc.i] != '.' {
			return parts
		}
		sc.i++
	}
	return parts
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (sc *scanner) keyValue(table string) {
	off := sc.i
	keys := sc.key()
	if len(keys) == 0 {
		return
	}
	path := table
	for _, k := range keys {
		path = joinKey(path, k)
		sc.record(path, off)
	}
	sc.skipSpace()
	if sc.eof() || sc.s[sc.i] != '=' {
		return
	}
	sc.i++
	sc.skipSpace()
	sc.value(path)
}

func (sc *scanner) value(path string) {
	if sc.eof() {
		return
	}
	switch sc.s[sc.i] {
	case '"':
		if strings.HasPrefix(sc.s[sc.i:], `"""`) {
			sc.multiline(`"""`, true)
			return
		}
		sc.i++
		for !sc.eof() && sc.s[sc.i] != '"' && sc.s[sc.i] != '\n' {
			if sc.s[sc.i] == '\\' {
				sc.i++
			}
			sc.i++
		}
		sc.i = min(sc.i+1, len(sc.s))
	case '\'':
		if strings.HasPrefix(sc.s[sc.i:], `'''`) {
			sc.multiline(`'''`, false)
			return
		}
		sc.i++
		for !sc.eof() && sc.s[sc.i] != '\'' && sc.s[sc.i] != '\n' {
			sc.i++
		}
		sc.i = min(sc.i+1, len(sc.s))
	case '[':
		sc.i++
		for n := 0; ; n++ {
			sc.skipBlank()
			if sc.eof() {
				return
			}
			if sc.s[sc.i] == ']' {
				sc.i++
				return
			}
			start := sc.i
			elem := joinIndex(path, n)
			sc.record(elem, sc.i)
			sc.value(elem)
			sc.skipBlank()
			if sc.eof() {
				return
			}
			switch sc.s[sc.i] {
			case ',':
				sc.i++
			case ']':
				sc.i++
				return
			default:
				if sc.i == start {
					sc.i++
				}
			}
		}
	case '{':
		sc.i++
		for {
			sc.skipBlank()
			if sc.eof() {
				return
			}
			if sc.s[sc.i] == '}' {
				sc.i++
				return
			}
			start := sc.i
			sc.keyValue(path)
			sc.skipBlank()
			if sc.eof() {
				return
			}
			switch sc.s[sc.i] {
			case ',':
				sc.i++
			case '}':
				sc.i++
				return
			default:
				if sc.i == start {
					sc.i++
				}
			}
		}
	default:
		for !sc.eof() && !strings.ContainsRune(",]}#\n\r", rune(sc.s[sc.i])) {
			sc.i++
		}
	}
}

func (sc *scanner) multiline(delim string, escapes bool) {
	sc.i += 3
	for !sc.eof() {
		if escapes && sc.s[sc.i] == '\\' {
			sc.i += 2
			continue
		}
		if strings.HasPrefix(sc.s[sc.i:], delim) {
			sc.i += 3
			// Up to two quotes may directly precede the closing delimiter.
			for k := 0; k < 2 && !sc.eof() && sc.s[sc.i] == delim[0]; k++ {
				sc.i++
			}
			return
		}
		sc.i++
	}
}
