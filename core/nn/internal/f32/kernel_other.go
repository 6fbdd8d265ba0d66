//go:build !amd64 || purego

package f32

import "math"

const haveKernel = false

// kernelSets lists the kernel sets this build can run.
func kernelSets() []*kernelSet { return []*kernelSet{goKernels} }

func defaultKernels() *kernelSet { return goKernels }

func geluSigVec(u, s []float32) int { return 0 }

func expShiftVec(x []float32, shift float32) int { return 0 }

func scaleMaxVec(x []float32, scale float32) (int, float32) { return 0, float32(math.Inf(-1)) }

func addVec(out, a, b []float32) int { return 0 }

func adamVec(w, g, m, v []float32, c *AdamConsts) int { return 0 }

func mulVec(out, a, b []float32) int { return 0 }

func geluBackVec(dx, x, b, s, dy []float32) int { return 0 }

func packRowsVec(panel, src []float32, ldb, kb, nr int) bool { return false }

func normBackXAccVec(dx, x, g, dy, acc []float32, mean, rstd, sumG, sumGX float32) int { return 0 }

func normGradAccVec(dg, x, dy []float32, mean, rstd float32) int { return 0 }

func normFwdVec(y, x, g, b []float32, mean, rstd float32) int { return 0 }

func normBackXVec(dx, x, g, dy []float32, mean, rstd, sumG, sumGX float32) int { return 0 }

func dotRowsVec(out, q, keys []float32, stride int) bool { return false }

func weightedRowsVec(o, v, w []float32, stride int) int { return 0 }
