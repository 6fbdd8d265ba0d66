// Package hf reads Hugging Face-style model folders: config.json of the
// GPT-2 and Llama families and weights in the safetensors format (one file,
// or shards listed by model.safetensors.index.json), with float32, float16
// and bfloat16 tensors converted exactly to float32. It also writes
// safetensors files, which the tests use to build tiny checkpoints in the
// on-disk format without network access.
//
// Every error names the file and, where one is involved, the tensor.
package hf

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Safetensors dtype names (as they appear in a file's header) that this
// package converts.
const (
	F32  = "F32"
	F16  = "F16"
	BF16 = "BF16"
)

// maxHeader bounds the JSON header of a safetensors file (the format's own
// limit is 100 MB).
const maxHeader = 100 << 20

// Tensor is one tensor of a safetensors file.
type Tensor struct {
	Name  string
	DType string // F32, F16 or BF16
	Shape []int
	// Raw holds the little-endian bytes as stored in the file.
	Raw []byte
}

// Float32 converts the tensor's data to float32 (exactly: every float16 and
// bfloat16 value is representable in float32).
func (t *Tensor) Float32() ([]float32, error) {
	n := numel(t.Shape)
	switch t.DType {
	case F32:
		if len(t.Raw) != 4*n {
			return nil, fmt.Errorf("tensor %q: %d bytes for %d float32 values", t.Name, len(t.Raw), n)
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Raw[4*i:]))
		}
		return out, nil
	case F16, BF16:
		if len(t.Raw) != 2*n {
			return nil, fmt.Errorf("tensor %q: %d bytes for %d 16-bit values", t.Name, len(t.Raw), n)
		}
		conv := Float16ToFloat32
		if t.DType == BF16 {
			conv = BFloat16ToFloat32
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(t.Raw[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q: unsupported dtype %s (want F32, F16 or BF16)", t.Name, t.DType)
}

// BFloat16ToFloat32 converts bfloat16 bits: they are the upper half of a
// float32.
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float16ToFloat32 converts IEEE 754 half-precision bits exactly, including
// subnormals, infinities and NaN (whose payload is kept).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: frac · 2^-24, normalise into a float32
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		frac &= 0x3ff
		return math.Float32frombits(sign | e<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// headerEntry is one tensor's record in a safetensors header.
type headerEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadSafetensors reads every tensor of a safetensors file. Tensors of
// dtypes other than F32/F16/BF16 are read too; converting them fails with
// an error naming the tensor.
func ReadSafetensors(path string) (map[string]*Tensor, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	ts, err := parseSafetensors(buf)
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", path, err)
	}
	return ts, nil
}

func parseSafetensors(buf []byte) (map[string]*Tensor, error) {
	if len(buf) < 8 {
		return nil, errors.New("not a safetensors file: shorter than its 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > maxHeader || n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("not a safetensors file: header length %d beyond the file's %d bytes", n, len(buf))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	data := buf[8+n:]
	out := make(map[string]*Tensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("tensor %q: header entry: %w", name, err)
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) {
			return nil, fmt.Errorf("tensor %q: data offsets [%d, %d) outside the %d data bytes", name, lo, hi, len(data))
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
		}
		if w := dtypeWidth(e.DType); w > 0 && int64(w*numel(e.Shape)) != hi-lo {
			return nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, offsets give %d", name, e.Shape, e.DType, w*numel(e.Shape), hi-lo)
		}
		out[name] = &Tensor{Name: name, DType: e.DType, Shape: e.Shape, Raw: data[lo:hi]}
	}
	return out, nil
}

func dtypeWidth(dt string) int {
	switch dt {
	case "F64", "I64", "U64":
		return 8
	case F32, "I32", "U32":
		return 4
	case F16, BF16, "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// Float32Bytes encodes float32 values little-endian, as a safetensors F32
// tensor stores them.
func Float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// WriteSafetensors writes tensors to path in the safetensors format, in
// name order, with optional string metadata. Each tensor's Raw must hold
// its shape's number of values in its dtype.
func WriteSafetensors(path string, tensors []Tensor, metadata map[string]string) error {
	ts := slices.Clone(tensors)
	slices.SortFunc(ts, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for i, t := range ts {
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("hf: write %s: tensor %q twice", path, t.Name)
		}
		w := dtypeWidth(t.DType)
		if w == 0 || w*numel(t.Shape) != len(t.Raw) {
			return fmt.Errorf("hf: write %s: tensor %q: %d bytes do not fit shape %v of %s", path, t.Name, len(t.Raw), t.Shape, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, Offsets: [2]int64{off, off + int64(len(t.Raw))}}
		off += int64(len(t.Raw))
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("hf: write %s: %w", path, err)
	}
	// pad the header with spaces to a multiple of 8 bytes, as the reference
	// writer does, so that the data section is aligned
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8, 8+len(hj)+int(off))
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	buf = append(buf, hj...)
	for _, t := range ts {
		buf = append(buf, t.Raw...)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("hf: write %s: %w", path, err)
	}
	return nil
}
