package table_test

import (
	"fmt"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

// Decode a TOML table over defaults: absent keys keep them, and every
// problem names its key.
func Example() {
	type kl struct {
		Target float64 `toml:"target" range:"> 0"`
	}
	type config struct {
		Steps int    `toml:"steps"`
		Mode  string `toml:"mode" doc:"fixed or adaptive"`
		KL    kl     `toml:"kl"`
	}
	cfg := config{Steps: 100, Mode: "fixed", KL: kl{Target: 6}}

	parse := func(doc string) map[string]any {
		var raw map[string]any
		if _, err := toml.Decode(doc, &raw); err != nil {
			panic(err)
		}
		return raw
	}
	fmt.Println(table.Decode(parse("steps = 2e3\nkl.target = 3.0"), &cfg), cfg)
	fmt.Println(table.Decode(parse("steps = 1.5\nmod = \"adaptive\""), &cfg))
	_ = table.Decode(parse("kl.target = -1.0"), &cfg)
	fmt.Println(table.CheckRanges(cfg))
	// Output:
	// <nil> {2000 fixed {3}}
	// key "mod": unknown key (did you mean "mode"? known keys: kl, mode, steps)
	// key "steps": expected an integer (got float 1.5)
	// key "kl.target": expected a number > 0 (got -1)
}
