package table

import (
	"fmt"
	"testing"
)

func TestLevenshteinBytes(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"sft", "sft", 0},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"rlhf", "rhlf", 2},
		{"seeds", "seed", 1},
		{"lr", "rl", 2},
	} {
		if got := Levenshtein([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Levenshtein([]byte(tc.b), []byte(tc.a)); got != tc.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestLevenshteinInts(t *testing.T) {
	for _, tc := range []struct {
		a, b []int
		want int
	}{
		{nil, nil, 0},
		{[]int{1, 2, 3}, []int{1, 2, 3}, 0},
		{[]int{1, 2, 3}, []int{1, 3}, 1},
		{[]int{1, 2, 3}, []int{3, 2, 1}, 2},
		{[]int{7}, []int{8, 9}, 2},
	} {
		if got := Levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("Levenshtein(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func ExampleLevenshtein() {
	fmt.Println(Levenshtein([]byte("seeds"), []byte("seed")))
	fmt.Println(Levenshtein([]int{1, 2, 3}, []int{3, 2, 1}))
	// Output:
	// 1
	// 2
}
