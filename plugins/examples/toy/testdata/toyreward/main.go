// Command toyreward serves the toy reward formulation as an external
// plugin, for the conformance suite's process check by path.
package main

import (
	"github.com/pit-lab/pit/plugins/examples/toy"
	"github.com/pit-lab/pit/plugins/sdk/serve"
)

func main() { serve.Run(toy.NewDifference()) }
