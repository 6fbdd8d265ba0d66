package rl

import "github.com/pit-lab/pit/core/task/synth"

// Task is what the loop needs of a task: how a query is laid out, where a
// sampled response ends, and the oracle's measure when the task has one.
// Synth adapts the synthetic task; the preference task has its own
// (package core/task/pref/prefstage), without an oracle.
type Task interface {
	// Prefix lays out a query as the model's prompt: the policy's when
	// ref is nil, else the improver's.
	Prefix(prompt, ref []int) []int
	// MaxResponse is the longest response in tokens.
	MaxResponse() int
	// EOS ends a response; sampling stops there.
	EOS() int
	// Cut returns the response in sampled tokens and whether it ended
	// (see synth.CutResponse).
	Cut(sample []int) (response []int, finished bool)
	// Quality is the oracle's q(x, y); ok is false for a task without one.
	Quality(p Prompt, y []int) (q float64, ok bool)
	// Decode renders tokens for messages.
	Decode(ids []int) string
}

// Prompt is a task's prompt. Its tokens are what the model reads;
// synth.Prompt carries more for its oracle.
type Prompt interface{ Tokens() []int }

// Synth is the synthetic task as the loop's Task.
func Synth(t *synth.Task) Task { return synthTask{t} }

type synthTask struct{ t *synth.Task }

func (s synthTask) Prefix(prompt, ref []int) []int {
	if ref != nil {
		return synth.ImproverPrefix(prompt, ref)
	}
	return synth.PolicyPrefix(prompt)
}
func (s synthTask) MaxResponse() int             { return s.t.Settings().MaxResponse }
func (synthTask) EOS() int                       { return synth.EOS }
func (synthTask) Cut(sample []int) ([]int, bool) { return synth.CutResponse(sample) }
func (synthTask) Decode(ids []int) string        { return synth.Decode(ids) }
func (s synthTask) Quality(p Prompt, y []int) (float64, bool) {
	sp, ok := p.(synth.Prompt)
	if !ok {
		return 0, false
	}
	return s.t.Quality(sp, y), true
}
