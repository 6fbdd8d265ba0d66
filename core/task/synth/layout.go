package synth

import (
	"fmt"
	"slices"
)

// Example is one model input with its loss mask. Mask[i] is true where
// Tokens[i] is a target the loss counts: the response tokens and the final
// EOS, never the prompt or the reference. For next-token training feed
// Tokens[:n-1] and predict Tokens[1:] where Mask[1:] is true.
type Example struct {
	Tokens []int
	Mask   []bool
}

// PolicyPrefix is what a policy samples from: [BOS] prompt [SEP_RESP].
// prompt is a prompt's tokens (Prompt.Tokens).
func PolicyPrefix(prompt []int) []int {
	ids := make([]int, 0, len(prompt)+2)
	ids = append(ids, BOS)
	ids = append(ids, prompt...)
	return append(ids, SepResp)
}

// ImproverPrefix is what an improver samples from:
// [BOS] prompt [SEP_REF] reference [SEP_RESP].
func ImproverPrefix(prompt, ref []int) []int {
	ids := make([]int, 0, len(prompt)+len(ref)+3)
	ids = append(ids, BOS)
	ids = append(ids, prompt...)
	ids = append(ids, SepRef)
	ids = append(ids, ref...)
	return append(ids, SepResp)
}

func withResponse(prefix, response []int) Example {
	ids := slices.Grow(prefix, len(response)+1)
	ids = append(ids, response...)
	ids = append(ids, EOS)
	mask := make([]bool, len(ids))
	for i := len(prefix); i < len(ids); i++ {
		mask[i] = true
	}
	return Example{Tokens: ids, Mask: mask}
}

// PolicyExample lays out [BOS] prompt [SEP_RESP] response [EOS] with the
// loss on response and EOS.
func PolicyExample(prompt, response []int) Example {
	return withResponse(PolicyPrefix(prompt), response)
}

// ImproverExample lays out [BOS] prompt [SEP_REF] ref [SEP_RESP] response
// [EOS] with the loss on response and EOS.
func ImproverExample(prompt, ref, response []int) Example {
	return withResponse(ImproverPrefix(prompt, ref), response)
}

// CutResponse returns the response in sampled tokens: everything before the
// first EOS (or PAD). finished is false when the sample has neither, i.e. it
// hit the length limit.
func CutResponse(sample []int) (response []int, finished bool) {
	for i, id := range sample {
		if id == EOS || id == PAD {
			return sample[:i], true
		}
	}
	return sample, false
}

// SplitInput splits a laid-out input back into its parts: the prompt tokens,
// the reference (nil for a policy input) and the response (EOS and anything
// after it cut off). It fails when the input does not start with BOS or has
// no SEP_RESP.
func SplitInput(ids []int) (prompt, ref, response []int, err error) {
	if len(ids) == 0 || ids[0] != BOS {
		return nil, nil, nil, fmt.Errorf("synth: split input %q: does not start with %s", Decode(ids), TokenString(BOS))
	}
	resp := slices.Index(ids, SepResp)
	if resp < 0 {
		return nil, nil, nil, fmt.Errorf("synth: split input %q: no %s", Decode(ids), TokenString(SepResp))
	}
	head := ids[1:resp]
	if r := slices.Index(head, SepRef); r >= 0 {
		prompt, ref = head[:r], head[r+1:]
	} else {
		prompt = head
	}
	response, _ = CutResponse(ids[resp+1:])
	return prompt, ref, response, nil
}

// PadTo returns ids padded with PAD to length n (ids itself if already that
// long).
func PadTo(ids []int, n int) []int {
	for len(ids) < n {
		ids = append(ids, PAD)
	}
	return ids
}
