package hf

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFloat16ToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x3C00, 1},
		{0xC000, -2},
		{0x3555, 0.333251953125},                // 1 + 0x155/1024, times 2^-2
		{0x7BFF, 65504},                         // largest finite
		{0x0400, 6.103515625e-05},               // smallest normal 2^-14
		{0x03FF, 1023 * 5.9604644775390625e-08}, // largest subnormal
		{0x0001, 5.9604644775390625e-08},        // smallest subnormal 2^-24
		{0x8001, -5.9604644775390625e-08},
		{0x0000, 0},
		{0x7C00, float32(math.Inf(1))},
		{0xFC00, float32(math.Inf(-1))},
	} {
		got := Float16ToFloat32(tc.bits)
		if math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("f16 %#04x = %g (%#08x), want %g (%#08x)", tc.bits, got, math.Float32bits(got), tc.want, math.Float32bits(tc.want))
		}
	}
	if b := math.Float32bits(Float16ToFloat32(0x8000)); b != 0x80000000 {
		t.Errorf("f16 -0 gives bits %#08x", b)
	}
	if v := Float16ToFloat32(0x7E01); !math.IsNaN(float64(v)) || math.Float32bits(v) != 0x7FC02000 {
		t.Errorf("f16 NaN 0x7e01 gives %g (%#08x), want NaN 0x7fc02000", v, math.Float32bits(v))
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want uint32
	}{
		{0x3F80, math.Float32bits(1)},
		{0xC040, math.Float32bits(-3)},
		{0x4049, math.Float32bits(3.140625)},
		{0x0001, 0x00010000}, // a float32 subnormal
		{0x7F80, math.Float32bits(float32(math.Inf(1)))},
	} {
		if got := math.Float32bits(BFloat16ToFloat32(tc.bits)); got != tc.want {
			t.Errorf("bf16 %#04x gives bits %#08x, want %#08x", tc.bits, got, tc.want)
		}
	}
}

func u16s(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func fixtureTensors() []Tensor {
	return []Tensor{
		{Name: "a.f32", DType: F32, Shape: []int{2, 3}, Raw: Float32Bytes([]float32{1, -2, 0.5, 3.25, 0, -0.125})},
		{Name: "b.f16", DType: F16, Shape: []int{3}, Raw: u16s(0x3C00, 0xC000, 0x0001)},
		{Name: "c.bf16", DType: BF16, Shape: []int{2}, Raw: u16s(0x4049, 0xC040)},
		{Name: "d.i64", DType: "I64", Shape: []int{1}, Raw: make([]byte, 8)},
	}
}

func checkFixture(t *testing.T, w *Weights) {
	t.Helper()
	for _, tc := range []struct {
		name  string
		shape []int
		want  []float32
	}{
		{"a.f32", []int{2, 3}, []float32{1, -2, 0.5, 3.25, 0, -0.125}},
		{"b.f16", []int{3}, []float32{1, -2, 5.9604644775390625e-08}},
		{"c.bf16", []int{2}, []float32{3.140625, -3}},
	} {
		got, err := w.Get(tc.name, tc.shape...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.want {
			if math.Float32bits(got[i]) != math.Float32bits(tc.want[i]) {
				t.Errorf("%s[%d] = %g, want %g", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSafetensors(filepath.Join(dir, SingleFile), fixtureTensors(), map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	// the layout is the format's: 8-byte header length, JSON padded to 8
	buf, _ := os.ReadFile(filepath.Join(dir, SingleFile))
	n := binary.LittleEndian.Uint64(buf)
	if n%8 != 0 || !strings.HasPrefix(string(buf[8:8+n]), "{") || int(8+n)+24+6+4+8 != len(buf) {
		t.Fatalf("header length %d, file %d bytes", n, len(buf))
	}
	w, err := OpenWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, w)
	if got := strings.Join(w.Names(), ","); got != "a.f32,b.f16,c.bf16,d.i64" {
		t.Errorf("names %s", got)
	}
}

func TestShardedWeights(t *testing.T) {
	dir := t.TempDir()
	ts := fixtureTensors()
	if err := WriteSafetensors(filepath.Join(dir, "model-00001-of-00002.safetensors"), ts[:2], nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteSafetensors(filepath.Join(dir, "model-00002-of-00002.safetensors"), ts[2:], nil); err != nil {
		t.Fatal(err)
	}
	index := `{"metadata":{"total_size":46},"weight_map":{"a.f32":"model-00001-of-00002.safetensors","b.f16":"model-00001-of-00002.safetensors","c.bf16":"model-00002-of-00002.safetensors","d.i64":"model-00002-of-00002.safetensors"}}`
	if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := OpenWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, w)
	_, err = w.Get("c.bf16", 3)
	wantErr(t, err, "model-00002-of-00002.safetensors", `"c.bf16"`, "shape [2]", "[3]")

	// an index that places a tensor in the wrong shard
	bad := strings.Replace(index, `"a.f32":"model-00001`, `"a.f32":"model-00002`, 1)
	os.WriteFile(filepath.Join(dir, IndexFile), []byte(bad), 0o644)
	_, err = OpenWeights(dir)
	wantErr(t, err, IndexFile, `"a.f32"`, "model-00002-of-00002.safetensors")
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one naming %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %q", err, p)
		}
	}
}

func TestWeightErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenWeights(dir)
	wantErr(t, err, dir, SingleFile, IndexFile)

	path := filepath.Join(dir, SingleFile)
	if err := WriteSafetensors(path, fixtureTensors(), nil); err != nil {
		t.Fatal(err)
	}
	w, err := OpenWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Get("missing.weight", 1)
	wantErr(t, err, dir, `"missing.weight"`, "missing")
	_, err = w.Get("a.f32", 3, 2)
	wantErr(t, err, path, `"a.f32"`, "[2 3]", "[3 2]")
	_, err = w.Get("d.i64", 1)
	wantErr(t, err, path, `"d.i64"`, "unsupported dtype I64")

	// truncated and corrupt files
	buf, _ := os.ReadFile(path)
	os.WriteFile(path, buf[:len(buf)-3], 0o644)
	_, err = OpenWeights(dir)
	wantErr(t, err, path, "offsets")
	os.WriteFile(path, []byte{1, 2, 3}, 0o644)
	_, err = OpenWeights(dir)
	wantErr(t, err, path, "not a safetensors file")

	err = WriteSafetensors(path, []Tensor{{Name: "x", DType: F32, Shape: []int{2}, Raw: make([]byte, 4)}}, nil)
	wantErr(t, err, path, `"x"`)
}

func TestParseConfig(t *testing.T) {
	gpt2 := `{"model_type":"gpt2","n_embd":768,"n_layer":12,"n_head":12,"n_positions":1024,"vocab_size":50257,"layer_norm_epsilon":1e-05,"activation_function":"gelu_new","n_inner":null}`
	c, err := ParseConfig([]byte(gpt2))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.GPT2; g == nil || g.NEmbd != 768 || g.NLayer != 12 || g.NHead != 12 || g.NPositions != 1024 || g.VocabSize != 50257 || g.LayerNormEpsilon != 1e-5 || g.MLP() != 3072 || c.Llama != nil {
		t.Errorf("gpt2 config %+v", c.GPT2)
	}
	llama := `{"model_type":"llama","hidden_size":576,"intermediate_size":1536,"num_hidden_layers":30,"num_attention_heads":9,"num_key_value_heads":3,"vocab_size":49152,"max_position_embeddings":8192,"rms_norm_eps":1e-05,"rope_theta":100000,"tie_word_embeddings":true,"hidden_act":"silu"}`
	c, err = ParseConfig([]byte(llama))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Llama; l == nil || l.HiddenSize != 576 || l.IntermediateSize != 1536 || l.NumKeyValueHeads != 3 || l.RopeTheta != 100000 || !l.TieWordEmbeddings || l.RMSNormEps != 1e-5 || l.MaxPositionEmbeddings != 8192 {
		t.Errorf("llama config %+v", c.Llama)
	}
	for _, tc := range []struct {
		name, json string
		parts      []string
	}{
		{"unknown", `{"model_type":"bert"}`, []string{`"bert"`, "gpt2 or llama"}},
		{"no type", `{"n_embd":4}`, []string{"model_type missing"}},
		{"gpt2 heads", strings.Replace(gpt2, `"n_head":12`, `"n_head":7`, 1), []string{"n_head (7)", "n_embd (768)"}},
		{"gpt2 act", strings.Replace(gpt2, `"gelu_new"`, `"relu"`, 1), []string{"activation_function", `"relu"`}},
		{"gpt2 missing", strings.Replace(gpt2, `"n_layer":12,`, ``, 1), []string{"n_layer"}},
		{"llama kv", strings.Replace(llama, `"num_key_value_heads":3`, `"num_key_value_heads":4`, 1), []string{"num_key_value_heads (4)"}},
		{"llama act", strings.Replace(llama, `"silu"`, `"gelu"`, 1), []string{"hidden_act"}},
		{"syntax", `{"model_type":`, []string{"unexpected end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			wantErr(t, err, tc.parts...)
		})
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"model_type":"t5"}`), 0o644)
	_, err = ReadConfig(dir)
	wantErr(t, err, filepath.Join(dir, ConfigFile), `"t5"`)
}
