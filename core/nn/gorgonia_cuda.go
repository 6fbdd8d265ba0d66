//go:build cuda

package nn

// The CUDA build's part of the boundary to Gorgonia (gorgonia.go): the
// names of Gorgonia's CUDA machine that device_cuda.go plugs pit's GPU
// kernels into. device_cuda.go itself talks to the GPU through
// gorgonia.org/cu, a plain binding of the CUDA driver API.

import (
	cublas "gorgonia.org/cu/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/gorgonia/cuda"
)

type (
	// cudaMachine is the tape machine of a CUDA build, seen from an op:
	// its engines and CUDA contexts, one per device.
	cudaMachine = G.CUDAMachine
	// cudaExtern is what the machine passes an op that calls out of Go.
	cudaExtern = G.External
	// cudaDevice is the GPU an op runs on.
	cudaDevice = G.Device
	// cudaEngine is a device's engine: its memory arena and kernels.
	cudaEngine = cuda.Engine
	// cudaDoer is an op with a GPU form, which the machine runs on the
	// device with its output in device memory (cudaOp).
	cudaDoer = G.CUDADoer
)

// registerKernels makes every CUDA machine made from now on load the
// kernels funcs of ptx, as functions module.name.
func registerKernels(module, ptx string, funcs []string) {
	G.AddToStdLib(module, ptx, funcs)
}

// remakeBLAS replaces e's cuBLAS handle by one made now, bound to e's
// context. It must run on e's worker thread with that context current
// (startMachine does so): the handle Gorgonia makes when the engine starts
// is made before any context is set on that thread.
func remakeBLAS(e *cudaEngine) error {
	bl := e.BLASContext()
	bl.Close() // the first handle, if it was made at all
	return bl.Init(cublas.WithContext(e.Context()))
}
