package sdk_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/sdk"
)

// FuzzDecodeConfig decodes arbitrary TOML config tables (what an
// experiment file's config = {...} holds) into a config struct of every
// supported field type: no panics, every rejection one message per
// problem naming its key, and an accepted table decodes the same twice.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{
		``,
		`beta = 0.1`,
		`k = 4.0`,
		`k = 4.5`,
		`k = 9223372036854775807`,
		`beta = "high"`,
		`whiten = "yes"`,
		`warmup = "1m30s"`,
		`warmup = "soon"`,
		`warmup = 5`,
		`sources = ["policy", 3]`,
		`sources = "policy"`,
		`weights = { a = 1.0, b = "x" }`,
		`kl = { target = 1.0, horizon = 2.5 }`,
		`kl = 3`,
		`kl.targt = 1.0`,
		`Beta = 1.0`,
		`beta = nan`,
		`beta = inf`,
		`[[kl]]` + "\n" + `target = 1.0`,
		`bta = 0.1` + "\n" + `kk = 1`,
		`when = 1979-05-27T07:32:00Z`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var raw map[string]any
		if _, err := toml.Decode(doc, &raw); err != nil {
			return // not a config table; the experiment parser reports it
		}
		got := defaults()
		err := sdk.DecodeConfig(raw, &got)
		if err != nil {
			for _, e := range sdk.SplitErrors(err) {
				msg := e.Error()
				if !strings.HasPrefix(msg, "key \"") && !strings.HasPrefix(msg, "unknown key \"") {
					t.Errorf("message does not start by naming the key: %q", msg)
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("one problem, several lines: %q", msg)
				}
			}
			return
		}
		again := defaults()
		if err := sdk.DecodeConfig(raw, &again); err != nil {
			t.Fatalf("accepted once, rejected the second time: %v", err)
		}
		// %v, not DeepEqual: a NaN (nan in TOML) is accepted and unequal
		// to itself.
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", again) {
			t.Fatalf("two decodes differ:\n%+v\n%+v", got, again)
		}
	})
}
