package synth

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func mustBuild(t testing.TB, s Settings, seed int64) *Dataset {
	t.Helper()
	d, err := Build(context.Background(), s, seed)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func smallSettings() Settings {
	s := DefaultSettings()
	s.Splits = SplitSettings{SFT: 300, RM: 300, RL: 300, Eval: 50, RMEval: 100}
	return s
}

func TestBuildSizes(t *testing.T) {
	s := smallSettings()
	d := mustBuild(t, s, 1)
	for name, got := range map[string][2]int{
		"sft": {len(d.SFT), s.Splits.SFT}, "rm": {len(d.RM), s.Splits.RM}, "rl": {len(d.RL), s.Splits.RL},
		"eval": {len(d.Eval), s.Splits.Eval}, "rm_eval": {len(d.RMEval), s.Splits.RMEval},
	} {
		if got[0] != got[1] {
			t.Errorf("split %s has %d items, want %d", name, got[0], got[1])
		}
	}
	tk := mustTask(t, s)
	for _, p := range slices.Concat(d.SFT, d.RM, d.RMEval, d.RL) {
		if p.QChosen != tk.Quality(p.Prompt, p.Chosen) || p.QRejected != tk.Quality(p.Prompt, p.Rejected) {
			t.Fatalf("stored q does not match the oracle: %+v", p)
		}
		if len(p.Chosen) == 0 || len(p.Chosen) > s.MaxResponse || len(p.Rejected) == 0 || len(p.Rejected) > s.MaxResponse {
			t.Fatalf("response length out of 1..%d: %+v", s.MaxResponse, p)
		}
	}
}

func TestDeterminism(t *testing.T) {
	for _, mode := range []PairMode{Independent, Edit} {
		s := smallSettings()
		s.PairMode = mode
		a, b := mustBuild(t, s, 7), mustBuild(t, s, 7)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: same seed gave different datasets", mode)
		}
		c := mustBuild(t, s, 8)
		if reflect.DeepEqual(a.SFT, c.SFT) || reflect.DeepEqual(a.RL, c.RL) {
			t.Errorf("%s: seeds 7 and 8 gave the same data", mode)
		}
		same := 0
		for i := range a.SFT {
			if a.SFT[i].Prompt == c.SFT[i].Prompt {
				same++
			}
		}
		if same > len(a.SFT)/20 {
			t.Errorf("%s: %d of %d SFT prompts equal across seeds", mode, same, len(a.SFT))
		}
	}
}

func TestSplitsDisjoint(t *testing.T) {
	d := mustBuild(t, smallSettings(), 2)
	where := map[Prompt]string{}
	add := func(split string, p Prompt) {
		if prev, ok := where[p]; ok {
			t.Fatalf("prompt %v in %s and %s", p, prev, split)
		}
		where[p] = split
	}
	for _, p := range d.SFT {
		add("sft", p.Prompt)
	}
	for _, p := range d.RM {
		add("rm", p.Prompt)
	}
	for _, p := range d.RMEval {
		add("rm_eval", p.Prompt)
	}
	for _, p := range d.RL {
		add("rl", p.Prompt)
	}
	for _, p := range d.Eval {
		add("eval", p)
	}
}

func TestBuildErrors(t *testing.T) {
	s := smallSettings()
	s.Tau = -1
	if _, err := Build(context.Background(), s, 1); err == nil || !strings.Contains(err.Error(), "tau") {
		t.Errorf("bad tau: err = %v", err)
	}

	// Too few distinct prompts: one include letter, no exclude, length 3.
	s = smallSettings()
	s.Prompts = PromptSettings{MinInclude: 1, MaxInclude: 1, MinLength: 3, MaxLength: 3}
	if _, err := Build(context.Background(), s, 1); err == nil || !strings.Contains(err.Error(), "distinct prompts") {
		t.Errorf("tiny prompt space: err = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, smallSettings(), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build: err = %v", err)
	}
}

// TestGolden pins the data of one seed, so that a change to the generator
// that moves every experiment's numbers is a deliberate one (go test
// -update rewrites testdata/).
func TestGolden(t *testing.T) {
	for _, mode := range []PairMode{Independent, Edit} {
		s := DefaultSettings()
		s.PairMode = mode
		s.Splits = SplitSettings{SFT: 4, RM: 2, RL: 2, Eval: 2, RMEval: 2}
		d := mustBuild(t, s, 1)
		var b strings.Builder
		pair := func(split string, p Pair) {
			fmt.Fprintf(&b, "%-7s %-18s chosen=%-14s q=%.4f  rejected=%-14s q=%.4f first=%v draft=%s\n",
				split, p.Prompt, Text(p.Chosen), p.QChosen, Text(p.Rejected), p.QRejected, p.FirstChosen, Text(p.Draft))
		}
		for _, p := range d.SFT {
			pair("sft", p)
		}
		for _, p := range d.RM {
			pair("rm", p)
		}
		for _, p := range d.RMEval {
			pair("rm_eval", p)
		}
		for _, p := range d.RL {
			pair("rl", p)
		}
		for _, p := range d.Eval {
			fmt.Fprintf(&b, "%-7s %s\n", "eval", p)
		}
		golden(t, filepath.Join("testdata", "dataset_"+string(mode)+".golden"), b.String())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestDatasetJSON: a dataset survives a JSON round trip (stages cache it).
func TestDatasetJSON(t *testing.T) {
	s := smallSettings()
	s.PairMode = Edit
	d := mustBuild(t, s, 3)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Dataset
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, &back) {
		t.Error("dataset changed in a JSON round trip")
	}
}

func TestSummary(t *testing.T) {
	d := mustBuild(t, smallSettings(), 6)
	sum := d.Summary()
	if sum.RM != ComputePairStats(d.RM) || sum.RL.N != len(d.RL) || sum.SFT.N != len(d.SFT) || sum.RMEval.N != len(d.RMEval) {
		t.Errorf("Summary = %+v", sum)
	}
	if (PairStats{}) != ComputePairStats(nil) {
		t.Error("stats of no pairs are not zero")
	}
}
