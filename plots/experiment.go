package plots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// Declared is what pit plot needs from an experiment file: where its
// results are and its [[plot]] tables.
type Declared struct {
	Name       string // the experiment's name
	Out        string // the results root, as written (default "results")
	ResultsDir string // <out>/<name>, resolved (see ReadExperiment)
	Plots      []Spec
}

// ReadExperiment reads name, out and the [[plot]] tables of an experiment
// file, leaving every other table to the experiment parser. Unknown keys in
// a [[plot]] table and invalid specs are errors naming the file and
// key. A relative out is taken from the working directory, like pit run
// does, and from the file's directory when no results are found there.
func ReadExperiment(path string) (*Declared, error) {
	var doc struct {
		Name string `toml:"name"`
		Out  string `toml:"out"`
		Plot []Spec `toml:"plot"`
	}
	md, err := toml.DecodeFile(path, &doc)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var errs []error
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "plot" {
			errs = append(errs, fmt.Errorf("%s: %s: unknown key in a [[plot]] table (keys: %s)", path, k.String(), strings.Join(specKeys(), ", ")))
		}
	}
	if doc.Name == "" {
		errs = append(errs, fmt.Errorf("%s: no experiment name", path))
	}
	for i := range doc.Plot {
		if err := doc.Plot[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: [[plot]] #%d: %w", path, i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &Declared{Name: doc.Name, Out: doc.Out, Plots: doc.Plot}
	if d.Out == "" {
		d.Out = "results"
	}
	d.ResultsDir = filepath.Join(d.Out, d.Name)
	if !filepath.IsAbs(d.Out) {
		if _, err := os.Stat(d.ResultsDir); err != nil {
			alt := filepath.Join(filepath.Dir(path), d.Out, d.Name)
			if _, err := os.Stat(alt); err == nil {
				d.ResultsDir = alt
			}
		}
	}
	return d, nil
}

// specKeys lists the keys a [[plot]] table accepts.
func specKeys() []string {
	t := reflect.TypeFor[Spec]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, t.Field(i).Tag.Get("toml"))
	}
	return keys
}
