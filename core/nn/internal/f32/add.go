package f32

// Add sets out[i] = a[i] + b[i] for i < len(out) (out may be a or b): the
// same IEEE additions as the plain loop, eight at a time where the CPU has
// AVX2.
func Add(out, a, b []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := addVec(out, a, b); i < len(out); i++ {
		out[i] = a[i] + b[i]
	}
}

// AddTo sets dst[i] += src[i] for i < len(dst).
func AddTo(dst, src []float32) { Add(dst, dst, src) }
