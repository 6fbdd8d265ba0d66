// Package editdist measures how far apart two sequences are: the
// Levenshtein distance, used for pit's "did you mean" hints (on the bytes
// of a name) and for the synthetic task's pair statistics (on token ids).
package editdist

// Levenshtein is the least number of single-element insertions, deletions
// and substitutions that turn a into b.
func Levenshtein[E comparable](a, b []E) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
