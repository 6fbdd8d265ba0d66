package nn

import (
	"github.com/pit-lab/pit/core/nn/internal/f32"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var dblas gonum.Implementation

// mulNN computes c = a·b (+= when acc) for row-major a [m×k], b [k×n].
func mulNN[T float](m, n, k int, a, b, c []T, acc bool) {
	switch a := any(a).(type) {
	case []float32:
		f32.MulNN(m, n, k, a, k, any(b).([]float32), n, any(c).([]float32), n, acc)
	case []float64:
		dblas.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, max(k, 1), any(b).([]float64), max(n, 1), beta64(acc), any(c).([]float64), max(n, 1))
	}
}

// mulNT computes c = a·bᵀ for a [m×k], b [n×k].
func mulNT[T float](m, n, k int, a, b, c []T) {
	switch a := any(a).(type) {
	case []float32:
		f32.MulNT(m, n, k, a, k, any(b).([]float32), k, any(c).([]float32), n, false)
	case []float64:
		dblas.Dgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, max(k, 1), any(b).([]float64), max(k, 1), 0, any(c).([]float64), max(n, 1))
	}
}

// mulTN computes c = aᵀ·b for a [k×m], b [k×n].
func mulTN[T float](m, n, k int, a, b, c []T) {
	switch a := any(a).(type) {
	case []float32:
		f32.MulTN(m, n, k, a, m, any(b).([]float32), n, any(c).([]float32), n, false)
	case []float64:
		dblas.Dgemm(blas.Trans, blas.NoTrans, m, n, k, 1, a, max(m, 1), any(b).([]float64), max(n, 1), 0, any(c).([]float64), max(n, 1))
	}
}

func beta64(acc bool) float64 {
	if acc {
		return 1
	}
	return 0
}

// linearKernel computes y = x·w (+ b on every row when b is non-nil).
func linearKernel[T float](x, w, b, y []T, m, n, k int) {
	if b != nil {
		for i := 0; i < m; i++ {
			copy(y[i*n:(i+1)*n], b)
		}
	}
	mulNN(m, n, k, x, w, y, b != nil)
}

// matmul computes x·w + b (b may be nil) for x [m×k], w [k×n], b [n]: one
// op, with gradients dx = dy·wᵀ, dw = xᵀ·dy and db = Σ_rows dy.
func matmul(x, w, b *node) (*node, error) {
	dt := x.Dtype()
	m, k, n := x.Shape()[0], x.Shape()[1], w.Shape()[1]
	inDims := []int{2, 2}
	in := []*node{x, w}
	if b != nil {
		inDims = append(inDims, 1)
		in = append(in, b)
	}
	op := newKernelOp("Linear", dt, shape{m, n}, inDims...)
	op.dev = devSpec{kind: devLinear, m: m, n: n, k: k, bias: b != nil}
	op.forward = func(out array, v []value) (float64, error) {
		if dt == dtFloat64 {
			var bb []float64
			if len(v) == 3 {
				bb = data[float64](v[2])
			}
			linearKernel(data[float64](v[0]), data[float64](v[1]), bb, data[float64](out), m, n, k)
		} else {
			var bb []float32
			if len(v) == 3 {
				bb = data[float32](v[2])
			}
			linearKernel(data[float32](v[0]), data[float32](v[1]), bb, data[float32](out), m, n, k)
		}
		return 0, nil
	}
	op.grad = func(inputs nodes, _, grad *node) (nodes, error) {
		gx := newKernelOp("LinearGradX", dt, x.Shape(), 2, 2)
		gx.dev = devSpec{kind: devLinearGX, m: m, n: n, k: k}
		gx.forward = func(out array, v []value) (float64, error) {
			if dt == dtFloat64 {
				mulNT(m, k, n, data[float64](v[0]), data[float64](v[1]), data[float64](out))
			} else {
				mulNT(m, k, n, data[float32](v[0]), data[float32](v[1]), data[float32](out))
			}
			return 0, nil
		}
		gw := newKernelOp("LinearGradW", dt, w.Shape(), 2, 2)
		gw.dev = devSpec{kind: devLinearGW, m: m, n: n, k: k}
		gw.forward = func(out array, v []value) (float64, error) {
			if dt == dtFloat64 {
				mulTN(k, n, m, data[float64](v[0]), data[float64](v[1]), data[float64](out))
			} else {
				mulTN(k, n, m, data[float32](v[0]), data[float32](v[1]), data[float32](out))
			}
			return 0, nil
		}
		dx, err := apply(gx, grad, inputs[1])
		if err != nil {
			return nil, err
		}
		dw, err := apply(gw, inputs[0], grad)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nodes{dx, dw}, nil
		}
		db, err := colSumNode(grad, b.Shape())
		if err != nil {
			return nil, err
		}
		return nodes{dx, dw, db}, nil
	}
	return apply(op, in...)
}

// residual computes a + b (same shapes); both gradients are the incoming
// one.
func residual(a, b *node) (*node, error) {
	dt := a.Dtype()
	op := newKernelOp("Residual", dt, a.Shape(), 2, 2)
	op.dev = devSpec{kind: devResidual, n: a.Shape()[0], k: a.Shape()[1]}
	op.forward = addForward(dt)
	op.grad = func(_ nodes, _, grad *node) (nodes, error) {
		return nodes{grad, grad}, nil
	}
	return apply(op, a, b)
}

// addForward is the forward pass of ops that add their two inputs.
func addForward(dt dtype) func(out array, v []value) (float64, error) {
	return func(out array, v []value) (float64, error) {
		if dt == dtFloat64 {
			addInto(data[float64](v[0]), data[float64](v[1]), data[float64](out))
		} else {
			addInto(data[float32](v[0]), data[float32](v[1]), data[float32](out))
		}
		return 0, nil
	}
}

func addInto[T float](a, b, out []T) {
	if o32, ok := any(out).([]float32); ok {
		f32.Add(o32, any(a).([]float32), any(b).([]float32))
		return
	}
	for i := range out {
		out[i] = a[i] + b[i]
	}
}
