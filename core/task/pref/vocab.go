package pref

// Vocab is the token ids a dataset's model inputs use: how many there are
// and which play the roles the layouts need. The byte-level vocabulary
// (Bytes) has ids of its own for every role; a pretrained model's
// vocabulary (see core/model's Pretrained) maps BOS and EOS onto the
// model's own tokens and adds SEP and REF as new ids after its last.
type Vocab struct {
	// Tokenizer names where the ids come from: "bytes", or the
	// architecture and folder of a pretrained model.
	Tokenizer string `json:"tokenizer"`
	// Size is the number of ids, added ones included.
	Size int `json:"size"`
	PAD  int `json:"pad"` // padding (masked out)
	BOS  int `json:"bos"` // start of a model input
	SEP  int `json:"sep"` // end of the prompt
	REF  int `json:"ref"` // end of the reference response (gap-model inputs)
	EOS  int `json:"eos"` // end of the response; the reward head reads here
}

// ByteVocab is the byte-level vocabulary of Encode.
func ByteVocab() Vocab {
	return Vocab{Tokenizer: "bytes", Size: VocabSize, PAD: PAD, BOS: BOS, SEP: SEP, REF: REF, EOS: EOS}
}

// Layout lays out a model input: BOS prompt SEP response EOS. The reward
// head reads the EOS.
func (v Vocab) Layout(prompt, response []int) []int {
	seq := make([]int, 0, len(prompt)+len(response)+3)
	seq = append(seq, v.BOS)
	seq = append(seq, prompt...)
	seq = append(seq, v.SEP)
	seq = append(seq, response...)
	return append(seq, v.EOS)
}

// LayoutGap lays out a reference-conditioned input (y judged against
// y_ref): BOS prompt SEP reference REF response EOS.
func (v Vocab) LayoutGap(prompt, reference, response []int) []int {
	seq := make([]int, 0, len(prompt)+len(reference)+len(response)+4)
	seq = append(seq, v.BOS)
	seq = append(seq, prompt...)
	seq = append(seq, v.SEP)
	seq = append(seq, reference...)
	seq = append(seq, v.REF)
	seq = append(seq, response...)
	return append(seq, v.EOS)
}

// Tokenizer turns text into the ids of a Vocab.
type Tokenizer struct {
	Vocab  Vocab
	Encode func(string) []int
}

// Bytes is the byte-level tokenizer: every byte its own id, no vocabulary
// file.
func Bytes() Tokenizer { return Tokenizer{Vocab: ByteVocab(), Encode: Encode} }

// Prefix is what a model continues to write a response: BOS prompt SEP for
// a policy (ref nil), BOS prompt SEP reference REF for an improver. The
// response and EOS follow (Layout, LayoutGap).
func (v Vocab) Prefix(prompt, ref []int) []int {
	seq := make([]int, 0, len(prompt)+len(ref)+3)
	seq = append(seq, v.BOS)
	seq = append(seq, prompt...)
	seq = append(seq, v.SEP)
	if ref == nil {
		return seq
	}
	seq = append(seq, ref...)
	return append(seq, v.REF)
}

// Cut returns the response in sampled tokens: everything before the first
// EOS or PAD; finished is false when there is neither (the length limit).
func (v Vocab) Cut(sample []int) (response []int, finished bool) {
	for i, id := range sample {
		if id == v.EOS || id == v.PAD {
			return sample[:i], true
		}
	}
	return sample, false
}
