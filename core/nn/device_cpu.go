//go:build !cuda

package nn

// cudaBuilt reports whether this binary was built with -tags cuda.
const cudaBuilt = false

// newGraph makes an empty graph for one of the model's graphs.
func (m *Model) newGraph() *exprGraph { return newExprGraph() }

// startMachine compiles a tape machine; a CPU build needs nothing around it.
func startMachine(start func() machine) machine { return start() }

// placeOp returns the op to apply: in a CPU-only build, always op itself.
func placeOp(op *kernelOp, _ []*node) runOp {
	if emulateGPU != nil && op.dev.kind != devNone && op.dtype == dtFloat32 {
		emulateGPU(op)
	}
	return op
}

// emulateGPU, when set (only by the cudaemu tests, cudaemu.go), makes
// every float32 op that has a GPU kernel compute through the C emulation
// of that kernel instead of its Go kernel.
var emulateGPU func(op *kernelOp)

// checkDevice reports whether cfg's device can run here.
func checkDevice(cfg Config) error {
	if cfg.Device == "cuda" {
		return errNoCUDABuild
	}
	return nil
}

// DeviceName names the GPU that device "cuda" runs on; in a CPU-only build,
// always "".
func DeviceName() string { return "" }
