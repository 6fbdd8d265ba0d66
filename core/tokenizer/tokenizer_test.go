package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitGPT2(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here, they're not.", []string{"I", "'m", " here", ",", " they", "'re", " not", "."}},
		{"don't 'S ''s", []string{"don", "'t", " '", "S", " ''", "s"}},
		{"a  b", []string{"a", " ", " b"}},
		{"a   b", []string{"a", "  ", " b"}},
		{"\n\nHuman: hi", []string{"\n", "\n", "Human", ":", " hi"}},
		{"x \ny", []string{"x", " ", "\n", "y"}},
		{"end  ", []string{"end", "  "}},
		{" ", []string{" "}},
		{"abc123 45.6", []string{"abc", "123", " 45", ".", "6"}},
		{"héllo wörld ½", []string{"héllo", " wörld", " ½"}},
		{"日本語 テキスト!!", []string{"日本語", " テキスト", "!!"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"$$ (x) ", []string{"$$", " (", "x", ")", " "}},
		{"tab\tthen", []string{"tab", "\t", "then"}},
		// whitespace is Unicode's White_Space: NEL is, the byte-order mark
		// is not (gpt-3-encoder's JavaScript \s says the opposite for both)
		{"a\u0085b", []string{"a", "\u0085", "b"}},
		{"a\ufeffb", []string{"a", "\ufeff", "b"}},
	} {
		got := splitGPT2(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Join(got, "") != tc.in {
			t.Errorf("split(%q) loses text", tc.in)
		}
	}
}

func TestByteTable(t *testing.T) {
	// GPT-2's table: space → Ġ, newline → Ċ, printable ASCII itself
	for c, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', 'a': 'a', 0: 'Ā', 0xAD: 'Ń', 0x7F: 'ġ'} {
		if byteToRune[c] != want {
			t.Errorf("byte %#02x → %q, want %q", c, byteToRune[c], want)
		}
	}
	seen := map[rune]bool{}
	for c := range 256 {
		if seen[byteToRune[c]] || runeToByte[byteToRune[c]] != byte(c) {
			t.Fatalf("table not a bijection at %#02x", c)
		}
		seen[byteToRune[c]] = true
	}
}

// tinyTokenizerJSON is a byte-level BPE with five merges and one special
// token, in tokenizer.json's format (merges as strings or as pairs).
func tinyTokenizerJSON(t *testing.T, pairs bool) string {
	t.Helper()
	vocab := map[string]int{}
	for c := range 256 {
		vocab[string(byteToRune[c])] = c
	}
	merges := [][2]string{{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"Ġ", "w"}, {"o", "r"}}
	for i, m := range merges {
		vocab[m[0]+m[1]] = 256 + i
	}
	var mj any
	if pairs {
		mj = merges
	} else {
		var s []string
		for _, m := range merges {
			s = append(s, m[0]+" "+m[1])
		}
		mj = s
	}
	f := map[string]any{
		"version":       "1.0",
		"added_tokens":  []any{map[string]any{"id": 261, "content": "<|endoftext|>", "special": true}},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": mj},
	}
	buf, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), TokenizerJSON)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTinyTokenizerJSON(t *testing.T) {
	for _, pairs := range []bool{false, true} {
		b, err := LoadTokenizerJSON(tinyTokenizerJSON(t, pairs))
		if err != nil {
			t.Fatal(err)
		}
		// "hello" → h e l l o → he ll o → hell o; " world" → Ġw or l d
		want := []int{258, 'o', 259, 260, 'l', 'd'}
		if got := b.Encode("hello world"); !reflect.DeepEqual(got, want) {
			t.Errorf("merges as pairs=%v: Encode = %v, want %v", pairs, got, want)
		}
		eot, ok := b.SpecialID("<|endoftext|>")
		if !ok || eot != 261 || b.VocabSize() != 262 {
			t.Errorf("special %d %v, vocab %d", eot, ok, b.VocabSize())
		}
		if got := b.EncodeWithSpecials("he<|endoftext|>"); !reflect.DeepEqual(got, []int{256, 261}) {
			t.Errorf("EncodeWithSpecials = %v", got)
		}
		if got := b.Encode("<|endoftext|>"); len(got) < 2 {
			t.Errorf("Encode must not produce the special id from text: %v", got)
		}
		s, err := b.Decode([]int{258, 'o', 261, 0xC3, 0xA9})
		if err != nil || s != "hello<|endoftext|>é" {
			t.Errorf("Decode = %q, %v", s, err)
		}
		if _, err := b.Decode([]int{999}); err == nil || !strings.Contains(err.Error(), "999") {
			t.Errorf("Decode of an unknown id: %v", err)
		}
	}
}

func TestRoundTripAnyText(t *testing.T) {
	b, err := LoadTokenizerJSON(tinyTokenizerJSON(t, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"", "hello\n\n  world\t!", "naïve 日本 🙂 '", "\x00\xff bad utf8 \xc3"} {
		got, err := b.Decode(b.Encode(s))
		if err != nil || got != s {
			t.Errorf("round trip of %q gives %q, %v", s, got, err)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("hello world's  \n\n end")
	f.Add("\xff\xfe 12 ½")
	f.Fuzz(func(t *testing.T, s string) {
		b := fuzzTokenizer(t)
		got, err := b.Decode(b.Encode(s))
		if err != nil || got != s {
			t.Fatalf("round trip of %q gives %q, %v", s, got, err)
		}
		if utf8.ValidString(s) && strings.Join(splitGPT2(s), "") != s {
			t.Fatalf("split loses text of %q", s)
		}
	})
}

var fuzzTok *BPE

// fuzzTokenizer loads the tiny tokenizer once for all fuzz inputs.
func fuzzTokenizer(t *testing.T) *BPE {
	if fuzzTok == nil {
		b, err := LoadTokenizerJSON(tinyTokenizerJSON(t, true))
		if err != nil {
			t.Fatal(err)
		}
		fuzzTok = b
	}
	return fuzzTok
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base, _ := os.ReadFile(tinyTokenizerJSON(t, false))
	for _, tc := range []struct {
		name, from, to string
		parts          []string
	}{
		{"wordpiece", `"type":"BPE"`, `"type":"WordPiece"`, []string{`"WordPiece"`}},
		{"metaspace", `"trim_offsets":true,"type":"ByteLevel"`, `"trim_offsets":true,"type":"Metaspace"`, []string{"pre_tokenizer", `"Metaspace"`}},
		{"prefix", `"add_prefix_space":false`, `"add_prefix_space":true`, []string{"add_prefix_space"}},
		{"normalizer", `"normalizer":null`, `"normalizer":{"type":"NFC"}`, []string{"normalizer"}},
		{"merge", `"o r"`, `"o x"`, []string{`"o" "x"`, "not in the vocabulary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(string(base), tc.from, tc.to, 1)
			if body == string(base) {
				t.Fatalf("fixture has no %s", tc.from)
			}
			p := write(tc.name+".json", body)
			_, err := LoadTokenizerJSON(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range append(tc.parts, p) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not name %q", err, part)
				}
			}
		})
	}
	v := write(VocabJSON, `{"a":0}`)
	m := write(MergesTxt, "#version: 0.2\na b c\n")
	if _, err := LoadVocabMerges(v, m); err == nil || !strings.Contains(err.Error(), "merges.txt:2") {
		t.Errorf("bad merges line: %v", err)
	}
	write(MergesTxt, "#version: 0.2\n")
	if _, err := LoadVocabMerges(v, m); err == nil || !strings.Contains(err.Error(), "not a byte-level vocabulary") {
		t.Errorf("vocab without bytes: %v", err)
	}
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), TokenizerJSON) {
		t.Errorf("empty folder: %v", err)
	}
}
