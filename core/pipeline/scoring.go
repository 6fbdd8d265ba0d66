package pipeline

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"

	"github.com/pit-lab/pit/core/nn"
)

// rewardChunk is how many sequences one reward forward takes (nn's eval
// batch), so that every chunk but one fills a graph.
const rewardChunk = 64

// batchRewards returns m's reward of each of seqs, the numbers m.Rewards
// gives, with less work: each distinct sequence is scored once, and the
// distinct ones are scored in chunks of similar length, longest first, so
// that a chunk is padded to its own longest sequence rather than to the
// longest of all (m.Rewards pads a whole call to one length). For the
// held-out pairs of the default experiment that is about 29 positions per
// sequence instead of 48.
//
// Neither changes a number: a sequence's reward does not depend on the
// other sequences of its batch, its row in the batch or the padding after
// it (attention is causal and the reward is read at the last token), and
// TestBatchRewardsMatchOneByOne checks that the results are bit-identical.
// memo, when not nil, holds scores of earlier calls with the same,
// unchanged model, keyed by seqKey: they are reused, and the new ones
// added.
func batchRewards(ctx context.Context, m *nn.Model, seqs [][]int, memo map[string]float64) ([]float64, error) {
	out := make([]float64, len(seqs))
	// todo[k] are the indices of seqs holding the k-th distinct sequence
	// without a score yet.
	var todo [][]int
	var uniq [][]int
	first := map[string]int{}
	for i, s := range seqs {
		key := seqKey(s)
		if v, ok := memo[key]; ok {
			out[i] = v
			continue
		}
		if k, ok := first[key]; ok {
			todo[k] = append(todo[k], i)
			continue
		}
		first[key] = len(uniq)
		uniq = append(uniq, s)
		todo = append(todo, []int{i})
	}
	if len(uniq) == 0 {
		return out, nil
	}
	order := make([]int, len(uniq))
	for k := range order {
		order[k] = k
	}
	// Longest first: the one partial chunk holds the shortest sequences.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(uniq[b]), len(uniq[a])) })
	chunk := make([][]int, 0, rewardChunk)
	for lo := 0; lo < len(order); lo += rewardChunk {
		ks := order[lo:min(lo+rewardChunk, len(order))]
		chunk = chunk[:0]
		for _, k := range ks {
			chunk = append(chunk, uniq[k])
		}
		// A short last chunk is filled up with copies of its last (and
		// shortest) sequence, as m.Rewards fills one with padding rows:
		// every chunk is then one of the few graph shapes (rewardChunk ×
		// a length bucket) that the model keeps, where a chunk of a new
		// size would build and cache a graph of its own.
		for len(order) > rewardChunk && len(chunk) < rewardChunk {
			chunk = append(chunk, chunk[len(chunk)-1])
		}
		sc, err := m.Rewards(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for j, k := range ks {
			for _, i := range todo[k] {
				out[i] = sc[j]
			}
			if memo != nil {
				memo[seqKey(uniq[k])] = sc[j]
			}
		}
	}
	return out, nil
}

// seqKey is a map key that identifies a token sequence.
func seqKey(s []int) string {
	b := make([]byte, 0, 2*len(s))
	for _, t := range s {
		b = binary.AppendUvarint(b, uint64(t))
	}
	return string(b)
}
