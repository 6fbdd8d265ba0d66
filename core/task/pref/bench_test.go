package pref

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// hhLines returns n HH-RLHF lines of multi-turn dialogues about 1 KB long.
func hhLines(n int) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	turn := strings.Repeat("lorem ipsum dolor sit amet ", 6)
	for i := 0; i < n; i++ {
		prompt := "\n\nHuman: " + turn + "\n\nAssistant: " + turn + "\n\nHuman: " + turn + AssistantTurn
		enc.Encode(map[string]string{"chosen": prompt + " yes, " + turn, "rejected": prompt + " no, " + turn})
	}
	return buf.Bytes()
}

func BenchmarkLoadHH(b *testing.B) {
	data := hhLines(1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, st, err := Load(context.Background(), bytes.NewReader(data), "bench", HHRLHF, Options{}); err != nil || st.Pairs != 1000 {
			b.Fatal(st, err)
		}
	}
}

func BenchmarkTokenize(b *testing.B) {
	pairs, _, err := Load(context.Background(), bytes.NewReader(hhLines(1000)), "bench", HHRLHF, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Tokenize(pairs, 64, 96, KeepEnd)
	}
}
