package synth_test

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/core/task/synth"
)

func Example() {
	s := synth.DefaultSettings()
	s.Splits = synth.SplitSettings{SFT: 1, Eval: 1}
	d, err := synth.Build(context.Background(), s, 1)
	if err != nil {
		panic(err)
	}
	p := d.SFT[0]
	ex := synth.ImproverExample(p.Prompt.Tokens(), p.Rejected, p.Chosen)
	fmt.Println(synth.Decode(ex.Tokens))
	fmt.Printf("q(chosen) = %.3f, q(rejected) = %.3f\n", p.QChosen, p.QRejected)
	fmt.Println("eval prompt:", d.Eval[0])
	// Output:
	// <bos> +nvw -uz #9 <ref> zctmtgl <resp> fmuxspvta <eos>
	// q(chosen) = 0.797, q(rejected) = 0.474
	// eval prompt: +fx -dqz #5
}

func ExampleTask_Score() {
	tk, err := synth.New(synth.DefaultSettings())
	if err != nil {
		panic(err)
	}
	x := synth.Prompt{Include: "c", Exclude: "z", Length: 4, Order: synth.Ascending}
	fmt.Println(x)
	fmt.Println(tk.Score(x, synth.MustLetters("bcde")))
	fmt.Println(tk.Score(x, synth.MustLetters("ccmw")))
	// Output:
	// +c -z #4 <asc>
	// q=1.000 rubric=1.000 stated=1.000 hidden=1.000 valid=1.00 include=1.000 exclude=1.000 length=1.000 order=1.000 no_repeat=1.000 close=1.000 vowel_end=1.000
	// q=0.667 rubric=1.000 stated=1.000 hidden=0.333 valid=1.00 include=1.000 exclude=1.000 length=1.000 order=1.000 no_repeat=0.667 close=0.333 vowel_end=0.000
}
