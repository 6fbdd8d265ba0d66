//go:build cuda

package nn

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
)

// cudaBuilt reports whether this binary was built with -tags cuda.
const cudaBuilt = true

// emulateGPU is the CPU build's hook for the cudaemu tests (device_cpu.go),
// which code shared by both builds reads (sample.go); the CUDA build runs
// the real kernels and never sets it.
var emulateGPU func(op *kernelOp)

// cudaKernelsPTX is the PTX of cuda/kernels.cu. scripts/cuda/build.sh
// compiles it with nvcc and sets it from a generated file; a binary built
// with -tags cuda some other way has none, and device "cuda" says so.
var cudaKernelsPTX string

// cudaModule is the module name the kernels are loaded under: kernel K is
// the engine function "pitnn.K".
const cudaModule = "pitnn"

// cudaName is the name of GPU 0, once setupCUDA ran.
var cudaName string

// DeviceName names the GPU that device "cuda" runs on (GPU 0), or "" when
// no CUDA model has been made in this process.
func DeviceName() string { return cudaName }

var cudaSetup struct {
	once sync.Once
	err  error
}

// checkDevice reports whether cfg's device can run here. For "cuda" it
// checks, once per process, that the binary has its kernels, that there is
// a GPU, and that the driver takes the kernels (JIT-compiling the PTX in a
// throwaway context), and registers the kernels with Gorgonia so that
// every CUDA tape machine loads them.
func checkDevice(cfg Config) error {
	if cfg.Device != "cuda" {
		return nil
	}
	cudaSetup.once.Do(func() { cudaSetup.err = setupCUDA() })
	return cudaSetup.err
}

var ptxEntryRE = regexp.MustCompile(`\.entry\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

func setupCUDA() error {
	if cudaKernelsPTX == "" {
		return errors.New(`nn: device "cuda": this binary has no GPU kernels; build it with scripts/cuda/build.sh, which compiles core/nn/cuda/kernels.cu`)
	}
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf(`nn: device "cuda": counting GPUs: %w`, err)
	}
	if n == 0 {
		return errors.New(`nn: device "cuda": no CUDA device found (use device "cpu" on this machine)`)
	}
	var funcs []string
	for _, m := range ptxEntryRE.FindAllStringSubmatch(cudaKernelsPTX, -1) {
		funcs = append(funcs, m[1])
	}
	if dev, err := cu.GetDevice(0); err == nil {
		if name, err := dev.Name(); err == nil {
			cudaName = name
		}
	}
	if err := tryLoadPTX(funcs); err != nil {
		return fmt.Errorf(`nn: device "cuda": the GPU does not take pit's kernels: %w`, err)
	}
	registerKernels(cudaModule, cudaKernelsPTX, funcs)
	return nil
}

// tryLoadPTX loads the kernels in a throwaway context on GPU 0, so that a
// driver that cannot JIT them gives an error here instead of a panic
// inside Gorgonia when the first graph runs.
func tryLoadPTX(funcs []string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dev, err := cu.GetDevice(0)
	if err != nil {
		return err
	}
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return fmt.Errorf("creating a context: %w", err)
	}
	defer ctx.Destroy()
	mod, err := cu.LoadData(cudaKernelsPTX)
	if err != nil {
		return fmt.Errorf("loading the PTX: %w", err)
	}
	for _, f := range funcs {
		if _, err := mod.Function(f); err != nil {
			return fmt.Errorf("kernel %s: %w", f, err)
		}
	}
	return nil
}

// startMachine compiles a tape machine (start) and makes its CUDA state
// safe to use from any goroutine. Gorgonia's CUDA machine assumes a CUDA
// context stays current on the goroutine that creates it, which Go does
// not promise: between two cgo calls a goroutine can move to another OS
// thread, one where another machine's context is current or where a
// collected machine's destroyed context still is. On a real GPU (an H200,
// 2026-12-04) that made the second and later machines of a process fail:
// loading the kernels gave InvalidContext, kernel launches InvalidHandle,
// and cuBLAS NotInitialized, because each engine's cuBLAS handle is made
// on its worker thread before any context is set there. So:
//   - the compilation (which creates the context and loads the kernels)
//     runs with the goroutine locked to its thread;
//   - each engine's cuBLAS handle is made again on the engine's worker
//     thread, after making the engine's context current there (gemm also
//     sets it before every product);
//   - the thread is left with no current context, so that no later code
//     on it can reach a context that a collected machine destroyed.
func startMachine(start func() machine) machine {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m := start()
	defer cu.SetCurrentContext(cu.CUContext{})
	cm, ok := m.(cudaMachine)
	if !ok {
		return m
	}
	engines := cm.Engines()
	for i := range engines {
		e := &engines[i]
		ctx := e.Context()
		// The function returns its error through err, never to Do: the
		// engine's worker stops for good at the first error a function
		// returns, and every later Do would then wait for ever.
		var err error
		ctx.Do(func() error {
			if err = cu.SetCurrentContext(ctx.CUDAContext()); err != nil {
				err = fmt.Errorf("setting the engine's context: %w", err)
				return nil
			}
			err = remakeBLAS(e)
			return nil
		})
		if err != nil {
			blasInitErr.Store(e.BLASContext(), err)
		}
	}
	return m
}

// blasInitErr holds, per cuBLAS handle (*cublas.Standard), the error of
// making it in startMachine; gemm reports it.
var blasInitErr sync.Map

// cudaGraphs holds the graphs of CUDA models, weakly: a graph leaves the
// set when it is collected.
var cudaGraphs sync.Map // weak.Pointer[exprGraph] -> struct{}

// newGraph makes an empty graph for one of the model's graphs; on a CUDA
// model, ops applied in it run on the GPU where they can.
func (m *Model) newGraph() *exprGraph {
	g := newExprGraph()
	if m.cfg.Device == "cuda" {
		k := weak.Make(g)
		cudaGraphs.Store(k, struct{}{})
		runtime.AddCleanup(g, func(k weak.Pointer[exprGraph]) { cudaGraphs.Delete(k) }, k)
	}
	return g
}

func isCUDAGraph(g *exprGraph) bool {
	if g == nil {
		return false
	}
	_, ok := cudaGraphs.Load(weak.Make(g))
	return ok
}

// placeOp returns the op to apply: the GPU form of op when the graph is a
// CUDA model's and op has a float32 GPU kernel, else op itself.
func placeOp(op *kernelOp, in []*node) runOp {
	if op.dev.kind == devNone || op.dtype != dtFloat32 || len(in) == 0 || !isCUDAGraph(in[0].Graph()) {
		return op
	}
	return cudaOp{kernelOp: op, st: &cudaState{}}
}

// cudaOp is a kernelOp that runs on the GPU: Gorgonia's tape machine sees
// it is a CUDADoer, keeps its output in device memory and copies its
// inputs to the device.
type cudaOp struct {
	*kernelOp
	st *cudaState
}

// cudaState is an op's host copy of its token ids.
type cudaState struct {
	ids32 []int32
}

var (
	_ cudaDoer  = cudaOp{}
	_ devRunner = (*launcher)(nil)
)

// CallsExtern reports that the op calls into the GPU.
func (op cudaOp) CallsExtern() bool { return true }

// ReturnsPtr reports that the op writes into memory the machine gives it:
// with CallsExtern, that makes Gorgonia's compiler allocate the output on
// the device (prealloc in CUDADo).
func (op cudaOp) ReturnsPtr() bool { return true }

// CUDADo runs the op's kernels on device dev, writing into prealloc.
func (op cudaOp) CUDADo(extern cudaExtern, dev cudaDevice, prealloc value, inputs ...value) (value, error) {
	if len(inputs) != len(op.inDims) {
		return nil, fmt.Errorf("nn: op %s wants %d inputs, got %d", op.name, len(op.inDims), len(inputs))
	}
	if prealloc == nil {
		return nil, fmt.Errorf("nn: op %s: no device memory for the output", op.name)
	}
	machine, ok := extern.(cudaMachine)
	if !ok {
		return nil, fmt.Errorf("nn: op %s: %T is not a CUDA machine", op.name, extern)
	}
	l := &launcher{extern: extern, dev: dev, e: &machine.Engines()[int(dev)], ctx: machine.Contexts()[int(dev)], st: op.st}
	defer l.release()
	if err := runDev(l, op.dev, prealloc, inputs); err != nil {
		return nil, fmt.Errorf("nn: op %s on the GPU: %w", op.name, err)
	}
	return prealloc, nil
}

// launcher launches one op's kernels.
type launcher struct {
	extern cudaExtern
	dev    cudaDevice
	e      *cudaEngine
	ctx    *cu.BatchedContext
	st     *cudaState
	held   []scratchMem // scratch taken from the machine's arena
}

type scratchMem struct {
	mem  cu.DevicePtr
	size int64
}

// devPtr is the device address of a value the tape machine keeps on the
// GPU.
func devPtr(v value) cu.DevicePtr { return cu.DevicePtr(v.Uintptr()) }

// threadsPerBlock is the block size of every launch (1-D grids).
const threadsPerBlock = 256

// launch runs kernel name over threads threads. Arguments are device
// pointers, ints and float32s; gorgonia.org/cu copies 8 bytes per
// argument, so each is passed as a 64-bit word holding the value in its
// low bytes.
func (l *launcher) launch(name string, threads int, args ...any) error {
	fn, ok := l.e.Functions()[cudaModule+"."+name]
	if !ok {
		return fmt.Errorf("kernel %s is not loaded", name)
	}
	words := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case cu.DevicePtr: // scratch
			words[i] = uint64(v)
		case value:
			words[i] = uint64(devPtr(v))
		case int:
			if v < 0 || v > math.MaxInt32 {
				return fmt.Errorf("kernel %s: argument %d = %d does not fit an int", name, i, v)
			}
			words[i] = uint64(v)
		case float32:
			words[i] = uint64(math.Float32bits(v))
		default:
			return fmt.Errorf("kernel %s: argument %d has type %T", name, i, a)
		}
		params[i] = unsafe.Pointer(&words[i])
	}
	blocks := (threads + threadsPerBlock - 1) / threadsPerBlock
	if blocks == 0 {
		return nil
	}
	l.ctx.LaunchAndSync(fn, blocks, 1, 1, threadsPerBlock, 1, 1, 0, cu.NoStream, params)
	return nil
}

// gemm runs one cuBLAS Sgemm: c = op(a)·op(b) in cuBLAS's column-major
// terms (see gemmFor).
func (l *launcher) gemm(g gemm, a, b, c value) error {
	A, err := f32s(a)
	if err != nil {
		return err
	}
	B, err := f32s(b)
	if err != nil {
		return err
	}
	C, err := f32s(c)
	if err != nil {
		return err
	}
	tr := func(t bool) blas.Transpose {
		if t {
			return blas.Trans
		}
		return blas.NoTrans
	}
	bl := l.e.BLASContext()
	if err, ok := blasInitErr.Load(bl); ok {
		return fmt.Errorf("cuBLAS could not start: %w", err.(error))
	}
	l.ctx.DoWork()
	var ctxErr error
	if err := l.ctx.Do(func() error { // errors through ctxErr: see startMachine
		if ctxErr = cu.SetCurrentContext(l.ctx.CUDAContext()); ctxErr != nil {
			return nil
		}
		bl.Sgemm(tr(g.transA), tr(g.transB), g.M, g.N, g.K, 1, A, g.lda, B, g.ldb, 0, C, g.ldc)
		return nil
	}); err != nil {
		return fmt.Errorf("cuBLAS Sgemm: %w", err)
	}
	if ctxErr != nil {
		return fmt.Errorf("cuBLAS Sgemm: setting the engine's context: %w", ctxErr)
	}
	if err := bl.Err(); err != nil {
		return fmt.Errorf("cuBLAS Sgemm: %w", err)
	}
	return nil
}

// f32s is a float32 slice header over a value's device memory, for cuBLAS
// (which only takes its address).
func f32s(v value) ([]float32, error) {
	d, ok := v.(*dense)
	if !ok || d.Dtype() != dtFloat32 {
		return nil, fmt.Errorf("want a float32 tensor on the device, got %T", v)
	}
	return d.Float32s(), nil
}

// scratch returns size bytes of device memory from the machine's arena,
// held until the op's CUDADo returns. The arena is reset after every run
// of the graph, so nothing may outlive the call; handing memory back
// before queued kernels have run is safe because every launch and copy of
// a context runs in queue order on one stream.
func (l *launcher) scratch(size int64) (any, error) {
	mem, err := l.extern.Get(l.dev, size)
	if err != nil {
		return nil, fmt.Errorf("allocating %d bytes of scratch: %w", size, err)
	}
	p := cu.DevicePtr(mem.Uintptr())
	l.held = append(l.held, scratchMem{p, size})
	return p, nil
}

// release hands the scratch back to the arena.
func (l *launcher) release() {
	for _, m := range l.held {
		l.extern.Put(l.dev, m.mem, m.size)
	}
	l.held = nil
}

// ids copies the token ids to the device, into scratch.
func (l *launcher) ids(ids []int) (any, error) {
	st := l.st
	if len(st.ids32) != len(ids) {
		st.ids32 = make([]int32, len(ids))
	}
	for i, id := range ids {
		st.ids32[i] = int32(id)
	}
	n := int64(4 * len(st.ids32))
	buf, err := l.scratch(n)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		l.ctx.MemcpyHtoD(buf.(cu.DevicePtr), unsafe.Pointer(&st.ids32[0]), n)
	}
	return buf, nil
}
