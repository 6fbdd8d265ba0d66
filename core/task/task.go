// Package task defines what pit's pipeline needs from a task, independent of
// the kind of task: a token vocabulary, a ground-truth oracle, a rubric that
// knows only the stated criteria, and the Bradley–Terry coin that labels new
// preference pairs.
//
// Prompts and responses cross this interface as token ids, the same ids that
// models read and that plugins send over the wire. A prompt is the task's
// prompt tokens without BOS or separators; a response is the response tokens
// without EOS. The synthetic task lives in package synth.
package task

import "math/rand/v2"

// Task is a task with ground truth.
type Task interface {
	// VocabSize is the number of token ids; ids run from 0 to VocabSize()-1
	// and 0 is padding.
	VocabSize() int
	// Decode renders token ids as readable text for logs.
	Decode(ids []int) string
	// Oracle is the ground-truth quality q(x, y) in [0, 1], hidden
	// preferences included. It fails only on a prompt it cannot parse.
	Oracle(prompt, response []int) (float64, error)
	// Rubric scores only the criteria the prompt states, in [0, 1].
	Rubric(prompt, response []int) (float64, error)
	// Prefer flips the task's Bradley–Terry coin for the pair (a, b) and
	// reports whether a is preferred, so that new pairs (for example from
	// policy samples) are labelled the way the task's data were.
	Prefer(rng *rand.Rand, prompt, a, b []int) (bool, error)
}
