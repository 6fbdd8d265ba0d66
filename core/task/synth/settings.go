package synth

import (
	"errors"
	"fmt"
	"math"
)

// Settings describe the whole synthetic task: the prompt distribution, the
// oracle, the generators, the preference labels and the split sizes. Field
// tags name the keys of an experiment file's task section; decode a section
// over DefaultSettings() so that keys left out keep their defaults. For
// example (wherever the experiment schema puts the section):
//
//	pair_mode = "edit"
//	tau = 0.1
//	[oracle]
//	hidden_share = 0     # oracle without hidden preferences
//	[oracle.vowel_end]
//	hidden = false       # or: tell the rubric writer about it
//	[strong]
//	steps = 80
//	[splits]
//	sft = 20000
//	rm = 20000
//	rl = 20000
type Settings struct {
	Prompts PromptSettings `toml:"prompts" json:"prompts"`
	Oracle  OracleSettings `toml:"oracle" json:"oracle"`
	// Strong and Weak are the two generators of different skill whose
	// answers make up the preference pairs. In edit mode they are the two
	// repairs of a shared draft that Draft writes.
	Strong GeneratorSettings `toml:"strong" json:"strong"`
	Weak   GeneratorSettings `toml:"weak" json:"weak"`
	Draft  GeneratorSettings `toml:"draft" json:"draft"`
	// PairMode is "independent" (two separate answers) or "edit" (two
	// repairs of one draft, so that chosen and rejected share structure).
	PairMode PairMode `toml:"pair_mode" json:"pair_mode"`
	// Tau is the Bradley–Terry temperature of the labels: a wins over b with
	// probability σ((q_a − q_b)/Tau). Tau = 0 labels without noise.
	Tau float64 `toml:"tau" json:"tau"`
	// MaxResponse is the longest response, in letters, that a generator
	// writes; models should sample at most this many tokens before EOS.
	MaxResponse int `toml:"max_response" json:"max_response"`
	// MaxContext bounds the longest improver input (see ImproverContext);
	// Validate fails if the prompt and response lengths could exceed it.
	MaxContext int           `toml:"max_context" json:"max_context"`
	Splits     SplitSettings `toml:"splits" json:"splits"`
}

// PromptSettings describe how prompts are drawn. Counts and lengths are
// drawn uniformly from their inclusive ranges.
type PromptSettings struct {
	MinInclude int     `toml:"min_include" json:"min_include"`
	MaxInclude int     `toml:"max_include" json:"max_include"`
	MinExclude int     `toml:"min_exclude" json:"min_exclude"`
	MaxExclude int     `toml:"max_exclude" json:"max_exclude"`
	MinLength  int     `toml:"min_length" json:"min_length"`
	MaxLength  int     `toml:"max_length" json:"max_length"`
	OrderProb  float64 `toml:"order_prob" json:"order_prob"` // chance a prompt asks for an order (asc or desc, even odds)
}

// Criterion is one criterion of the oracle: its weight within its group and
// whether it is hidden. A weight of 0 switches the criterion off. Hidden
// criteria count in the oracle but not in the rubric. Marking a
// prompt-stated criterion (include, exclude, length, order) hidden keeps it
// in the prompt but takes it out of the rubric; marking a preference (say
// no_repeat) not hidden hands it to the rubric writer.
type Criterion struct {
	Weight float64 `toml:"weight" json:"weight"`
	Hidden bool    `toml:"hidden" json:"hidden"`
}

// OracleSettings weigh the oracle's criteria. The oracle is
//
//	q = (StatedShare·stated + HiddenShare·hidden) / (StatedShare + HiddenShare)
//
// where stated and hidden are the weighted means of the criteria in each
// group that apply to the prompt (include applies only when the prompt names
// letters to include, exclude and order likewise); a group with no
// applicable criterion drops out and the other takes the whole share. The
// rubric is the stated group alone. Both are multiplied by the fraction of
// response tokens that are letters, and are 0 for an empty response.
type OracleSettings struct {
	Include  Criterion `toml:"include" json:"include"`     // share of must-include letters present
	Exclude  Criterion `toml:"exclude" json:"exclude"`     // 1 − share of positions holding an excluded letter
	Length   Criterion `toml:"length" json:"length"`       // 1 − |n − target|/target, at least 0
	Order    Criterion `toml:"order" json:"order"`         // share of neighbours in the stated order (ties count as ordered)
	NoRepeat Criterion `toml:"no_repeat" json:"no_repeat"` // 1 − share of neighbours that repeat a letter
	Close    Criterion `toml:"close" json:"close"`         // mean closeness of neighbours in the alphabet
	VowelEnd Criterion `toml:"vowel_end" json:"vowel_end"` // 1 if the last letter is a vowel
	// CloseGap is the largest alphabet distance between neighbours that
	// counts as close; the credit falls linearly to 0 at twice that.
	CloseGap    int     `toml:"close_gap" json:"close_gap"`
	StatedShare float64 `toml:"stated_share" json:"stated_share"`
	HiddenShare float64 `toml:"hidden_share" json:"hidden_share"`
}

// GeneratorSettings describe a noisy solver. It starts from random letters
// of random length and makes Steps proposals of local search (change, insert,
// delete or swap a letter), keeping a proposal only when it raises the
// oracle; then it replaces each letter with a random one with probability
// Noise. More steps and less noise make a better generator.
type GeneratorSettings struct {
	Steps int     `toml:"steps" json:"steps"`
	Noise float64 `toml:"noise" json:"noise"`
}

// SplitSettings are the sizes of the dataset's splits. Every prompt appears
// in one split only.
type SplitSettings struct {
	SFT    int `toml:"sft" json:"sft"`         // pairs for policy SFT and PIT SFT
	RM     int `toml:"rm" json:"rm"`           // pairs for the reward models
	RL     int `toml:"rl" json:"rl"`           // prompts for RL
	Eval   int `toml:"eval" json:"eval"`       // prompts for evaluation
	RMEval int `toml:"rm_eval" json:"rm_eval"` // held-out pairs to evaluate reward models
}

// PairMode says how the two responses of a preference pair are made.
type PairMode string

// Pair modes.
const (
	Independent PairMode = "independent" // two separate answers, one per generator
	Edit        PairMode = "edit"        // two repairs of one shared draft
)

// DefaultSettings returns the settings the pipeline uses unless an
// experiment file says otherwise. Improver inputs fit in 42 tokens.
func DefaultSettings() Settings {
	return Settings{
		Prompts: PromptSettings{
			MinInclude: 1, MaxInclude: 3,
			MinExclude: 1, MaxExclude: 3,
			MinLength: 4, MaxLength: 10,
			OrderProb: 0.3,
		},
		Oracle: OracleSettings{
			Include:     Criterion{Weight: 1},
			Exclude:     Criterion{Weight: 1},
			Length:      Criterion{Weight: 1},
			Order:       Criterion{Weight: 1},
			NoRepeat:    Criterion{Weight: 1, Hidden: true},
			Close:       Criterion{Weight: 1, Hidden: true},
			VowelEnd:    Criterion{Weight: 1, Hidden: true},
			CloseGap:    4,
			StatedShare: 0.5,
			HiddenShare: 0.5,
		},
		Strong:      GeneratorSettings{Steps: 60, Noise: 0.03},
		Weak:        GeneratorSettings{Steps: 12, Noise: 0.15},
		Draft:       GeneratorSettings{Steps: 3, Noise: 0.2},
		PairMode:    Independent,
		Tau:         0.05,
		MaxResponse: 14,
		MaxContext:  48,
		Splits:      SplitSettings{SFT: 2000, RM: 2000, RL: 2000, Eval: 200, RMEval: 400},
	}
}

// MaxPrompt is the longest prompt, in tokens (without BOS), that these
// settings can draw.
func (s Settings) MaxPrompt() int {
	n := 1 // length token
	if s.Prompts.MaxInclude > 0 {
		n += 1 + s.Prompts.MaxInclude
	}
	if s.Prompts.MaxExclude > 0 {
		n += 1 + s.Prompts.MaxExclude
	}
	if s.Prompts.OrderProb > 0 {
		n++
	}
	return n
}

// PolicyContext is the longest policy input in tokens:
// [BOS] prompt [SEP_RESP] response [EOS].
func (s Settings) PolicyContext() int { return 1 + s.MaxPrompt() + 1 + s.MaxResponse + 1 }

// ImproverContext is the longest improver input in tokens:
// [BOS] prompt [SEP_REF] reference [SEP_RESP] response [EOS].
func (s Settings) ImproverContext() int {
	return 1 + s.MaxPrompt() + 1 + s.MaxResponse + 1 + s.MaxResponse + 1
}

// Validate reports every bad field, each named by its key in the experiment
// file.
func (s Settings) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("synth: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

	p := s.Prompts
	rangeOK := func(lo, hi string, a, b, limit int) {
		if a < 0 {
			bad("prompts."+lo, "%d is negative", a)
		}
		if b < a {
			bad("prompts."+hi, "%d is below %s (%d)", b, lo, a)
		}
		if b > limit {
			bad("prompts."+hi, "%d exceeds %d", b, limit)
		}
	}
	rangeOK("min_include", "max_include", p.MinInclude, p.MaxInclude, 26)
	rangeOK("min_exclude", "max_exclude", p.MinExclude, p.MaxExclude, 26)
	if p.MaxInclude+p.MaxExclude > 26 {
		bad("prompts.max_exclude", "max_include + max_exclude = %d exceeds the 26 letters", p.MaxInclude+p.MaxExclude)
	}
	if p.MinLength < 1 {
		bad("prompts.min_length", "%d is below 1", p.MinLength)
	}
	rangeOK("min_length", "max_length", p.MinLength, p.MaxLength, MaxTarget)
	if !finite(p.OrderProb) || p.OrderProb < 0 || p.OrderProb > 1 {
		bad("prompts.order_prob", "%v is not a probability", p.OrderProb)
	}

	o := s.Oracle
	crits := []struct {
		name string
		c    Criterion
	}{
		{"include", o.Include}, {"exclude", o.Exclude}, {"length", o.Length}, {"order", o.Order},
		{"no_repeat", o.NoRepeat}, {"close", o.Close}, {"vowel_end", o.VowelEnd},
	}
	stated := 0.0
	for _, c := range crits {
		if !finite(c.c.Weight) || c.c.Weight < 0 {
			bad("oracle."+c.name+".weight", "%v must be a finite number >= 0", c.c.Weight)
		} else if !c.c.Hidden {
			stated += c.c.Weight
		}
	}
	if stated == 0 {
		bad("oracle", "no stated criterion has a weight > 0, so the rubric would score nothing")
	}
	if o.CloseGap < 1 || o.CloseGap > 25 {
		bad("oracle.close_gap", "%d out of range 1..25", o.CloseGap)
	}
	if !finite(o.StatedShare) || o.StatedShare < 0 {
		bad("oracle.stated_share", "%v must be a finite number >= 0", o.StatedShare)
	}
	if !finite(o.HiddenShare) || o.HiddenShare < 0 {
		bad("oracle.hidden_share", "%v must be a finite number >= 0", o.HiddenShare)
	}
	if o.StatedShare+o.HiddenShare <= 0 {
		bad("oracle.stated_share", "stated_share + hidden_share must be > 0")
	}

	for _, g := range []struct {
		name string
		g    GeneratorSettings
	}{{"strong", s.Strong}, {"weak", s.Weak}, {"draft", s.Draft}} {
		if g.g.Steps < 0 {
			bad(g.name+".steps", "%d is negative", g.g.Steps)
		}
		if !finite(g.g.Noise) || g.g.Noise < 0 || g.g.Noise > 1 {
			bad(g.name+".noise", "%v is not a probability", g.g.Noise)
		}
	}
	switch s.PairMode {
	case Independent, Edit:
	default:
		bad("pair_mode", "%q is neither %q nor %q", s.PairMode, Independent, Edit)
	}
	if !finite(s.Tau) || s.Tau < 0 {
		bad("tau", "%v must be a finite number >= 0", s.Tau)
	}
	if s.MaxResponse < 1 {
		bad("max_response", "%d is below 1", s.MaxResponse)
	}
	if s.MaxResponse < p.MaxLength {
		bad("max_response", "%d is below prompts.max_length (%d): targets could not be met", s.MaxResponse, p.MaxLength)
	}
	if s.MaxContext < 1 {
		bad("max_context", "%d is below 1", s.MaxContext)
	} else if n := s.ImproverContext(); n > s.MaxContext {
		bad("max_context", "improver inputs can reach %d tokens (1 + prompt %d + 1 + 2 × max_response %d + 2), more than %d",
			n, s.MaxPrompt(), s.MaxResponse, s.MaxContext)
	}
	sp := s.Splits
	for _, f := range []struct {
		name string
		n    int
	}{{"sft", sp.SFT}, {"rm", sp.RM}, {"rl", sp.RL}, {"eval", sp.Eval}, {"rm_eval", sp.RMEval}} {
		if f.n < 0 {
			bad("splits."+f.name, "%d is negative", f.n)
		}
	}
	return errors.Join(errs...)
}
