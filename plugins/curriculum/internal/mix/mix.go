// Package mix turns a curriculum's schedule into each step's reference
// counts. A built-in curriculum decides two things per step: the
// probability p that a reference is a policy (M_P^RL) sample, and the round.
// Mix adds what every curriculum shares: the split of data references
// between y_w and y_l, an optional share of references from the improver's
// own earlier outputs, seeded rounding of expected counts to exact counts,
// the request to refresh the reward model when the round changes, and the
// state that makes all of it resume exactly after a checkpoint.
package mix

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Version is the version of every built-in curriculum.
const Version = "1.0.0"

// Common is the config every built-in curriculum shares; curricula embed it
// with `toml:",squash"`.
type Common struct {
	ChosenFraction       float64 `toml:"chosen_fraction" doc:"share of data references that are y_w; the rest are y_l" range:"[0, 1]"`
	SelfFraction         float64 `toml:"self_fraction" doc:"share of references taken from the improver's own earlier outputs, from step 1 on; the rest follow the schedule" range:"[0, 1]"`
	RefreshAtRoundChange bool    `toml:"refresh_at_round_change" doc:"ask the host to refresh the reward model on the first step of each new round"`
	RefreshPairs         int     `toml:"refresh_pairs" doc:"preference pairs from policy samples to build for a refresh" range:">= 1"`
}

// DefaultCommon returns the shared defaults: data references half y_w and
// half y_l, no self references, no refresh (256 pairs when turned on).
func DefaultCommon() Common { return Common{ChosenFraction: 0.5, RefreshPairs: 256} }

// Validate reports the first shared setting out of range.
func (c Common) Validate() error { return sdk.CheckRanges(c) }

// Mixer plans reference counts step by step. Its zero value is not usable:
// call Reset.
type Mixer struct {
	c     Common
	pcg   *rand.PCG
	rng   *rand.Rand
	round int  // round of the last planned step
	begun bool // whether a step has been planned
}

// Reset configures the mixer and restarts it from seed.
func (m *Mixer) Reset(c Common, seed int64) {
	m.c = c
	m.pcg = rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)
	m.rng = rand.New(m.pcg)
	m.round, m.begun = 0, false
}

// Common returns the shared config.
func (m *Mixer) Common() Common { return m.c }

// Plan returns the step's counts for policy probability p in round round,
// labelled phase. RefreshReward is set on the first step of a round that
// differs from the previous step's, when refresh_at_round_change is on.
func (m *Mixer) Plan(req *sdk.NextRequest, p float64, round int, phase string) (*sdk.NextResponse, error) {
	if m.rng == nil {
		return nil, fmt.Errorf("curriculum used before Configure")
	}
	if req == nil {
		return nil, fmt.Errorf("nil next request")
	}
	if req.BatchSize < 1 {
		return nil, fmt.Errorf("batch size must be ≥ 1, got %d", req.BatchSize)
	}
	if req.Step < 0 {
		return nil, fmt.Errorf("step must be ≥ 0, got %d", req.Step)
	}
	if !(p >= 0 && p <= 1) {
		return nil, fmt.Errorf("policy probability %v out of [0, 1]", p)
	}
	self := 0.0
	if req.Step >= 1 {
		self = m.c.SelfFraction
	}
	b := float64(req.BatchSize)
	data := (1 - self) * (1 - p)
	expected := []float64{
		data * (1 - m.c.ChosenFraction) * b, // data_rejected, in sdk.Sources order
		data * m.c.ChosenFraction * b,       // data_chosen
		(1 - self) * p * b,                  // policy
		self * b,                            // self
	}
	counts := Round(expected, req.BatchSize, m.rng)
	resp := &sdk.NextResponse{Counts: map[sdk.Source]int{}, Round: round, Phase: phase}
	for i, s := range sdk.Sources {
		resp.Counts[s] = counts[i]
	}
	resp.RefreshReward = m.c.RefreshAtRoundChange && m.begun && round != m.round
	m.round, m.begun = round, true
	return resp, nil
}

// Round turns expected counts that sum to total into whole counts with the
// same sum: each count is its expectation's floor or ceiling, rounded up with
// probability equal to the fractional part (systematic sampling, one uniform
// draw from rng).
func Round(expected []float64, total int, rng *rand.Rand) []int {
	counts := make([]int, len(expected))
	frac := make([]float64, len(expected))
	left := total
	for i, e := range expected {
		counts[i] = int(math.Floor(e + 1e-9))
		frac[i] = math.Max(0, e-float64(counts[i]))
		left -= counts[i]
	}
	if left <= 0 {
		return counts
	}
	// Points u, u+1, ..., u+left−1 on the line of cumulated fractions.
	u := rng.Float64()
	var cum float64
	next := u
	for i := range frac {
		cum += frac[i]
		for left > 0 && next < cum {
			counts[i]++
			left--
			next++
		}
	}
	// Rounding error in the cumulated fractions: give any rest to the last
	// source with a fraction.
	for i := len(frac) - 1; left > 0 && i >= 0; i-- {
		if frac[i] > 0 {
			counts[i] += left
			left = 0
		}
	}
	return counts
}

// state is what Save writes: the mixer's own state and the curriculum's.
type state struct {
	RNG   []byte          `json:"rng"`
	Round int             `json:"round"`
	Begun bool            `json:"begun"`
	Extra json.RawMessage `json:"extra,omitempty"`
}

// Save encodes the mixer's state together with extra, the curriculum's own
// state (any JSON-encodable value; nil for none).
func (m *Mixer) Save(extra any) ([]byte, error) {
	if m.pcg == nil {
		return nil, fmt.Errorf("curriculum used before Configure")
	}
	rng, err := m.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save random state: %w", err)
	}
	s := state{RNG: rng, Round: m.round, Begun: m.begun}
	if extra != nil {
		if s.Extra, err = json.Marshal(extra); err != nil {
			return nil, fmt.Errorf("save curriculum state: %w", err)
		}
	}
	return json.Marshal(s)
}

// Restore reads state written by Save, decoding the curriculum's own state
// into extra (a pointer; nil for none). On error the mixer is unchanged.
func (m *Mixer) Restore(b []byte, extra any) error {
	if m.pcg == nil {
		return fmt.Errorf("curriculum used before Configure")
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode curriculum state: %w", err)
	}
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("decode curriculum random state: %w", err)
	}
	if extra != nil {
		if len(s.Extra) == 0 {
			return fmt.Errorf("curriculum state lacks the strategy's own state")
		}
		if err := json.Unmarshal(s.Extra, extra); err != nil {
			return fmt.Errorf("decode curriculum state: %w", err)
		}
	}
	m.pcg, m.rng = pcg, rand.New(pcg)
	m.round, m.begun = s.Round, s.Begun
	return nil
}
