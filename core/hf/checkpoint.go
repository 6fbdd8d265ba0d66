package hf

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Weight file names of a Hugging Face model folder.
const (
	SingleFile = "model.safetensors"
	IndexFile  = "model.safetensors.index.json"
)

// Weights are the tensors of a model folder, from one safetensors file or
// from the shards its index lists.
type Weights struct {
	Dir     string
	tensors map[string]*Tensor
	file    map[string]string // tensor name → file it came from (base name)
}

// OpenWeights reads dir/model.safetensors, or, when absent, the shards
// listed by dir/model.safetensors.index.json. A tensor in two shards, or
// listed by the index but absent from its shard, is an error.
func OpenWeights(dir string) (*Weights, error) {
	w := &Weights{Dir: dir, tensors: map[string]*Tensor{}, file: map[string]string{}}
	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); err == nil {
		ts, err := ReadSafetensors(single)
		if err != nil {
			return nil, err
		}
		for n, t := range ts {
			w.tensors[n], w.file[n] = t, SingleFile
		}
		return w, nil
	}
	indexPath := filepath.Join(dir, IndexFile)
	buf, err := os.ReadFile(indexPath)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("hf: %s: neither %s nor %s found", dir, SingleFile, IndexFile)
		}
		return nil, fmt.Errorf("hf: %w", err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(buf, &index); err != nil {
		return nil, fmt.Errorf("hf: %s: %w", indexPath, err)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("hf: %s: empty weight_map", indexPath)
	}
	shards := slices.Sorted(maps.Keys(invert(index.WeightMap)))
	for _, shard := range shards {
		if filepath.Base(shard) != shard {
			return nil, fmt.Errorf("hf: %s: shard %q is not a file name in the folder", indexPath, shard)
		}
		ts, err := ReadSafetensors(filepath.Join(dir, shard))
		if err != nil {
			return nil, err
		}
		for n, t := range ts {
			if prev, dup := w.file[n]; dup {
				return nil, fmt.Errorf("hf: %s: tensor %q is in both %s and %s", dir, n, prev, shard)
			}
			w.tensors[n], w.file[n] = t, shard
		}
	}
	for n, shard := range index.WeightMap {
		if w.file[n] != shard {
			return nil, fmt.Errorf("hf: %s: %s lists tensor %q in %s, which does not hold it", dir, IndexFile, n, shard)
		}
	}
	return w, nil
}

func invert(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, v := range m {
		out[v] = true
	}
	return out
}

// Names returns the tensor names, sorted.
func (w *Weights) Names() []string { return slices.Sorted(maps.Keys(w.tensors)) }

// Has reports whether the folder holds the tensor.
func (w *Weights) Has(name string) bool { _, ok := w.tensors[name]; return ok }

// Get returns a tensor as float32 after checking its shape; a missing
// tensor, another shape or an unsupported dtype is an error naming the file
// and the tensor.
func (w *Weights) Get(name string, shape ...int) ([]float32, error) {
	t, ok := w.tensors[name]
	if !ok {
		return nil, fmt.Errorf("hf: %s: tensor %q missing from the checkpoint", w.Dir, name)
	}
	where := filepath.Join(w.Dir, w.file[name])
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("hf: %s: tensor %q has shape %v, the config implies %v", where, name, t.Shape, shape)
	}
	v, err := t.Float32()
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", where, err)
	}
	return v, nil
}
