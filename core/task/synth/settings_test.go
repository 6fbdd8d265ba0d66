package synth

import (
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

func TestDefaultSettingsValid(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesBadFields(t *testing.T) {
	tests := []struct {
		field  string
		modify func(*Settings)
	}{
		{"prompts.min_include", func(s *Settings) { s.Prompts.MinInclude = -1 }},
		{"prompts.max_include", func(s *Settings) { s.Prompts.MinInclude, s.Prompts.MaxInclude = 3, 2 }},
		{"prompts.max_exclude", func(s *Settings) { s.Prompts.MaxInclude, s.Prompts.MaxExclude = 14, 14 }},
		{"prompts.min_length", func(s *Settings) { s.Prompts.MinLength = 0 }},
		{"prompts.max_length", func(s *Settings) { s.Prompts.MaxLength, s.MaxResponse = 30, 30 }},
		{"prompts.order_prob", func(s *Settings) { s.Prompts.OrderProb = 1.5 }},
		{"oracle.close.weight", func(s *Settings) { s.Oracle.Close.Weight = -1 }},
		{"oracle: no stated criterion", func(s *Settings) {
			s.Oracle.Include.Hidden, s.Oracle.Exclude.Hidden, s.Oracle.Length.Hidden, s.Oracle.Order.Hidden = true, true, true, true
		}},
		{"oracle.close_gap", func(s *Settings) { s.Oracle.CloseGap = 0 }},
		{"oracle.hidden_share", func(s *Settings) { s.Oracle.HiddenShare = -0.5 }},
		{"oracle.stated_share", func(s *Settings) { s.Oracle.StatedShare, s.Oracle.HiddenShare = 0, 0 }},
		{"weak.steps", func(s *Settings) { s.Weak.Steps = -3 }},
		{"draft.noise", func(s *Settings) { s.Draft.Noise = 2 }},
		{"pair_mode", func(s *Settings) { s.PairMode = "both" }},
		{"tau", func(s *Settings) { s.Tau = -0.1 }},
		{"max_response", func(s *Settings) { s.MaxResponse = 5 }},
		{"max_context", func(s *Settings) { s.MaxContext = 30 }},
		{"splits.rl", func(s *Settings) { s.Splits.RL = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			s := DefaultSettings()
			tc.modify(&s)
			err := s.Validate()
			if err == nil {
				t.Fatal("Validate accepted bad settings")
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error does not name %q: %v", tc.field, err)
			}
		})
	}
	// Every problem is reported at once.
	s := DefaultSettings()
	s.Tau, s.PairMode = -1, "x"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "tau") || !strings.Contains(err.Error(), "pair_mode") {
		t.Errorf("want both problems named: %v", err)
	}
}

// TestDecodeSettings: an experiment file's task section decodes over the
// defaults with both BurntSushi/toml and pit's config decoder (package
// table, what the experiment loader and plugins use).
func TestDecodeSettings(t *testing.T) {
	const doc = `
pair_mode = "edit"
tau = 0.1
[prompts]
max_length = 8
[oracle]
hidden_share = 0.25
close_gap = 3
[oracle.vowel_end]
weight = 2.0
hidden = false
[strong]
steps = 80
[splits]
sft = 10
`
	want := DefaultSettings()
	want.PairMode = Edit
	want.Tau = 0.1
	want.Prompts.MaxLength = 8
	want.Oracle.HiddenShare = 0.25
	want.Oracle.CloseGap = 3
	want.Oracle.VowelEnd = Criterion{Weight: 2}
	want.Strong.Steps = 80
	want.Splits.SFT = 10

	got := DefaultSettings()
	if _, err := toml.Decode(doc, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("toml:\n got %+v\nwant %+v", got, want)
	}

	var raw map[string]any
	if _, err := toml.Decode(doc, &raw); err != nil {
		t.Fatal(err)
	}
	got = DefaultSettings()
	if err := table.Decode(raw, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table.Decode:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}
