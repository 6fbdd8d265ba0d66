// Package f32 holds core/nn's float32 kernels: row-major matrix products
// (a packed, cache-blocked GEMM with AVX-512 or AVX2/FMA micro-kernels in
// assembly on amd64 and a pure-Go micro-kernel elsewhere and under the
// purego build tag; PackedB for a B packed once and multiplied many
// times, as a decode step's weights are), the GELU gate, elementwise
// kernels (elem.go: adds, bias + GELU backward, layer-norm rows; adam.go:
// AdamW; attn.go: decode attention's query·key and weighted-value loops)
// that vectorise their Go loops without changing a bit, and the worker
// pool every parallel kernel of core/nn runs on (pool.go).
//
// Every element of a product is computed the same way whatever the kernel,
// blocking, packing or thread count: c = c₀ + a₀b₀ + a₁b₁ + … accumulated
// in k order with one fused multiply-add per term (c₀ = 0 unless the call
// accumulates). The assembly kernels therefore agree bit for bit with each
// other; the pure-Go kernel rounds each product separately where the
// compiler does not fuse it, and so may differ in the last bits.
package f32

import "sync"

//go:generate go run gemm_gen.go

// Accelerated reports whether an assembly kernel is in use.
func Accelerated() bool { return active != goKernels }

// KernelName names the micro-kernel set in use: "avx512", "avx2" or "go".
func KernelName() string { return active.name }

// tileKernel computes one mr×w tile of C (w = the set's nr for wide, nr/2
// for narrow): C(i, j) = (load ? C(i, j) : 0) + Σ_p A(i, p)·B(p, j) for
// p = 0…k−1 in order, with A(i, p) = a[i·ai + p·ap], B(p, j) = b[p·ldb + j]
// and C(i, j) = c[i·ldc + j]. k may be 0. All mr rows and w columns of a,
// b and c must be addressable.
type tileKernel func(k int, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int, load bool)

// kernelSet is a family of micro-kernels with mr rows.
type kernelSet struct {
	name         string
	mr, nr       int
	wide, narrow tileKernel // nr and nr/2 columns
}

// active is the kernel set MulNN, MulTN and MulNT use.
var active = defaultKernels()

// Blocking. kcBlock bounds the k extent of a packed panel, so that a B
// micro-panel (kc×nr, 32 KiB for nr = 32) stays in L1 while the kernel
// walks down a block of A; mcBlock rows of packed A (128 KiB) stay in L2;
// ncBlock columns of packed B (4 MiB at kc) bound the B buffer. The k
// blocks reload C, so the blocking does not change any result.
const (
	kcBlock = 256
	// packedKC is PackedB's k block: its products have few rows (a
	// decode step's), so C is reloaded little; fewer, longer k blocks
	// measured faster at 32 rows (≈ 10 %) than kcBlock.
	packedKC = 512
	mcBlock  = 128
	ncBlock  = 4096
	// parallelFlops is the smallest m·n·k that is split between workers.
	parallelFlops = 1 << 18
	// packBMin is the smallest panel of B (kc×n elements) worth packing.
	packBMin = 1 << 15
	// allKMax is the most floats of packed B (k × the column block) for
	// which a product packs all its k blocks at once.
	allKMax = 1 << 20
	// packBTiles is the fewest row tiles (on one worker) that pack a
	// row-major B.
	packBTiles = 16
)

// operand is a matrix whose element (r, c) is s[r·rs + c·cs].
type operand struct {
	s      []float32
	rs, cs int
}

func (o operand) at(r, c int) float32 { return o.s[r*o.rs+c*o.cs] }

// MulNN computes C = A·B (or C += A·B when acc), with A [m×k], B [k×n] and
// C [m×n], all row-major with leading dimensions lda, ldb, ldc.
func MulNN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	gemm(active, m, n, k, operand{a, lda, 1}, operand{b, ldb, 1}, c, ldc, acc)
}

// MulTN computes C = Aᵀ·B (or C += Aᵀ·B when acc), with A [k×m], B [k×n]
// and C [m×n].
func MulTN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	gemm(active, m, n, k, operand{a, 1, lda}, operand{b, ldb, 1}, c, ldc, acc)
}

// MulNT computes C = A·Bᵀ (or C += A·Bᵀ when acc), with A [m×k], B [n×k]
// and C [m×n].
func MulNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	gemm(active, m, n, k, operand{a, lda, 1}, operand{b, 1, ldb}, c, ldc, acc)
}

// PackedB is a k×n matrix B packed once into the column panels the
// micro-kernels read (PackB), for products that reuse the same B many
// times with few rows of A each: the weights of a decode step. A product
// with a PackedB gives the same bits as MulNN with the unpacked B.
//
// Layout: k is cut into blocks of packedKC rows; block pc (its first row)
// starts at pc·roundUp(n, nr) and holds roundUp(n, nr)/nr panels of kb×nr
// floats (kb the block's rows), panel j/nr at pc·roundUp(n, nr) + j·kb,
// row by row, columns beyond n zero.
type PackedB struct {
	ks       *kernelSet
	k, n, kc int
	s        []float32
}

// K and N return the packed matrix's dimensions.
func (p *PackedB) K() int { return p.k }

// N returns the packed matrix's number of columns.
func (p *PackedB) N() int { return p.n }

// PackB packs the row-major B [k×n] (leading dimension ldb) for the kernel
// set in use, into p's buffer when it is large enough.
func PackB(p *PackedB, k, n int, b []float32, ldb int) {
	packBFor(active, p, k, n, b, ldb)
}

func packBFor(ks *kernelSet, p *PackedB, k, n int, b []float32, ldb int) {
	np := roundUp(n, ks.nr)
	size := k * np
	if cap(p.s) < size {
		p.s = make([]float32, size)
	}
	p.ks, p.k, p.n, p.kc, p.s = ks, k, n, packedKC, p.s[:size]
	if n == 0 {
		return
	}
	src := operand{b, ldb, 1}
	// The blocks are independent: pack them on the worker pool.
	blocks := ceilDiv(k, packedKC)
	pack := func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			pc := blk * packedKC
			kb := min(packedKC, k-pc)
			packB(src, pc, kb, 0, n, ks.nr, p.s[pc*np:])
		}
	}
	if k*n < parallelFlops/16 {
		pack(0, blocks)
		return
	}
	ParallelFor(blocks, 1, pack)
}

// MulPacked computes C = A·B (or C += A·B when acc) for a row-major A
// [m×k] (leading dimension lda), B packed by PackB and C [m×n], on the
// worker pool when large enough, or on the caller's goroutine only when
// serial (a caller that already keeps every core busy).
func MulPacked(m int, a []float32, lda int, b *PackedB, c []float32, ldc int, acc, serial bool) {
	gemmPacked(b.ks, m, b.n, b.k, operand{a, lda, 1}, b, c, ldc, acc, serial)
}

// gemmPacked is gemm with a B packed for ks.
func gemmPacked(ks *kernelSet, m, n, k int, a operand, pb *PackedB, c []float32, ldc int, acc, serial bool) {
	if pb.ks != ks {
		panic("f32: B packed for kernel set " + pb.ks.name + ", used with " + ks.name)
	}
	gemmWith(ks, m, n, k, a, operand{}, pb, c, ldc, acc, serial)
}

// gemm computes C (+)= A·B for A [m×k], B [k×n] with kernel set ks.
func gemm(ks *kernelSet, m, n, k int, a, b operand, c []float32, ldc int, acc bool) {
	gemmWith(ks, m, n, k, a, b, nil, c, ldc, acc, false)
}

// gemmWith is gemm with B given either as an operand or packed (pb), on
// one goroutine when serial.
func gemmWith(ks *kernelSet, m, n, k int, a, b operand, pb *PackedB, c []float32, ldc int, acc, serial bool) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	g := gemmJob{ks: ks, m: m, n: n, k: k, a: a, b: b, pre: pb, c: c, ldc: ldc, acc: acc}
	rowTiles, colTiles := ceilDiv(m, ks.mr), ceilDiv(n, ks.nr)
	// The kernels read a row-major A (NN, NT) and a small row-major B in
	// place. Pack A when it is transposed (TN) and several column tiles
	// reuse it; pack B when it is transposed (NT), or large (its rows far
	// apart, where the panel would thrash L1) and reused by enough row
	// tiles to pay for the copy.
	g.packA = a.cs != 1 && colTiles >= 3
	g.packB = pb == nil && (b.cs != 1 || (rowTiles >= packBTiles && min(k, kcBlock)*n >= packBMin))
	w := 1
	if m*n*k >= parallelFlops && !serial {
		w = Workers()
	}
	// Split the larger tile dimension between the workers, in static
	// ranges of whole tiles.
	byRows := rowTiles >= w && (rowTiles >= colTiles || colTiles < w)
	tiles := colTiles
	if byRows {
		tiles = rowTiles
	}
	if w = min(w, tiles); w <= 1 {
		g.run(0, m, 0, n) // no closure: g stays on the stack
		return
	}
	g.parallel(w, tiles, byRows)
}

// parallel runs g on w workers, each on a static range of tiles (of
// rows when byRows, else of columns).
func (g gemmJob) parallel(w, tiles int, byRows bool) {
	mr, nr := g.ks.mr, g.ks.nr
	Run(w, func(i int) {
		lo, hi := i*tiles/w, (i+1)*tiles/w
		if byRows {
			g.run(lo*mr, min(hi*mr, g.m), 0, g.n)
		} else {
			g.run(0, g.m, lo*nr, min(hi*nr, g.n))
		}
	})
}

type gemmJob struct {
	ks           *kernelSet
	m, n, k      int
	a, b         operand
	pre          *PackedB // B packed beforehand (b unused), or nil
	c            []float32
	ldc          int
	acc          bool
	packA, packB bool
}

// run computes C[r0:r1, c0:c1]; r0 and c0 are tile-aligned.
func (g *gemmJob) run(r0, r1, c0, c1 int) {
	if g.packB && g.b.cs == 1 && ceilDiv(r1-r0, g.ks.mr) < packBTiles {
		// This worker's rows reuse B too little to pay for packing it.
		h := *g
		h.packB = false
		g = &h
	}
	ks := g.ks
	mr, nr := ks.mr, ks.nr
	kc := min(kcBlock, g.k)
	if g.pre != nil {
		kc = min(g.pre.kc, g.k)
	}
	mc := max(mcBlock/mr, 1) * mr
	nc := min(ncBlock, roundUp(c1-c0, nr))
	// With several k blocks and several row blocks, pack all of B's k
	// blocks at once (when small enough) and walk the row blocks outside
	// the k blocks: a row block's C then stays in cache between its k
	// blocks instead of coming back from memory for each.
	allK := g.packB && g.k > kc && r1-r0 > mc && g.k*nc <= allKMax
	// One scratch buffer: packed A (mc×kc), packed B (kc×nc, or k×nc), a
	// packed tail of A (mr×kc), a packed tail of B (kc×nr) and a tile of
	// C.
	na, nb := 0, 0
	if g.packA {
		na = min(mc, roundUp(r1-r0, mr)) * kc
	}
	if g.packB {
		nb = kc * nc
		if allK {
			nb = g.k * nc
		}
	}
	bp := getScratch(na + nb + mr*kc + kc*nr + mr*nr)
	buf := *bp
	sc := gemmScratch{}
	sc.abuf, buf = buf[:na], buf[na:]
	bbuf, buf := buf[:nb], buf[nb:]
	sc.atail, buf = buf[:mr*kc], buf[mr*kc:]
	sc.btail, sc.ctile = buf[:kc*nr], buf[kc*nr:]

	for jc := c0; jc < c1; jc += nc {
		nb := min(nc, c1-jc)
		if allK {
			np := roundUp(nb, nr)
			for pc := 0; pc < g.k; pc += kc {
				packB(g.b, pc, min(kc, g.k-pc), jc, nb, nr, bbuf[pc*np:])
			}
			for ic := r0; ic < r1; ic += mc {
				for pc := 0; pc < g.k; pc += kc {
					g.block(ic, min(mc, r1-ic), pc, min(kc, g.k-pc), jc, nb, bbuf[pc*np:], &sc)
				}
			}
			continue
		}
		for pc := 0; pc < g.k; pc += kc {
			kb := min(kc, g.k-pc)
			var bblk []float32
			if g.packB {
				packB(g.b, pc, kb, jc, nb, nr, bbuf)
				bblk = bbuf
			}
			for ic := r0; ic < r1; ic += mc {
				g.block(ic, min(mc, r1-ic), pc, kb, jc, nb, bblk, &sc)
			}
		}
	}
	putScratch(bp)
}

// gemmScratch is run's scratch: packed A, tails of A and B, a tile of C.
type gemmScratch struct {
	abuf, atail, btail, ctile []float32
}

// block computes C[ic:ic+mb, jc:jc+nb] (+)= A[ic:ic+mb, pc:pc+kb]·
// B[pc:pc+kb, jc:jc+nb] (reloading C when accumulating or pc > 0), with
// B's panels packed in bblk (jc's panels of this k block), in g.pre, or
// read in place.
func (g *gemmJob) block(ic, mb, pc, kb, jc, nb int, bblk []float32, sc *gemmScratch) {
	ks := g.ks
	mr, nr := ks.mr, ks.nr
	load := g.acc || pc > 0
	if g.packA {
		packA(g.a, ic, mb, pc, kb, mr, sc.abuf)
	} else if mb%mr != 0 {
		// The last row tile reads mr rows of A: pack it padded.
		packA(g.a, ic+mb/mr*mr, mb%mr, pc, kb, mr, sc.atail)
	}
	for jr := 0; jr < nb; jr += nr {
		j := jc + jr
		cols := min(nr, nb-jr)
		kern, kw := ks.wide, nr
		if cols <= nr/2 {
			kern, kw = ks.narrow, nr/2
		}
		var bs []float32
		ldb := nr
		switch {
		case g.pre != nil:
			bs = g.pre.s[pc*roundUp(g.n, nr)+j*kb:]
		case bblk != nil:
			bs = bblk[jr*kb:]
		case cols < kw:
			// B's last columns, padded to the kernel's width.
			packB(g.b, pc, kb, j, cols, nr, sc.btail)
			bs = sc.btail
		default:
			bs, ldb = g.b.s[pc*g.b.rs+j:], g.b.rs
		}
		for ir := 0; ir < mb; ir += mr {
			i := ic + ir
			rows := min(mr, mb-ir)
			var as []float32
			ai, ap := 1, mr
			switch {
			case g.packA:
				as = sc.abuf[ir*kb:]
			case rows < mr:
				as = sc.atail
			default:
				as, ai, ap = g.a.s[i*g.a.rs+pc*g.a.cs:], g.a.rs, g.a.cs
			}
			if rows == mr && cols == kw {
				kern(kb, as, ai, ap, bs, ldb, g.c[i*g.ldc+j:], g.ldc, load)
				continue
			}
			// A partial tile: compute it in ctile.
			ctile := sc.ctile
			if load {
				for r := 0; r < rows; r++ {
					copy(ctile[r*kw:r*kw+cols], g.c[(i+r)*g.ldc+j:])
				}
			}
			kern(kb, as, ai, ap, bs, ldb, ctile, kw, load)
			for r := 0; r < rows; r++ {
				copy(g.c[(i+r)*g.ldc+j:(i+r)*g.ldc+j+cols], ctile[r*kw:])
			}
		}
	}
}

// packA copies A[i0:i0+rows, p0:p0+kb] into dst as consecutive panels of mr
// rows, each stored p-major (dst[t·mr·kb + p·mr + i]); rows of the last
// panel beyond the matrix are zero.
func packA(a operand, i0, rows, p0, kb, mr int, dst []float32) {
	for t := 0; t < rows; t += mr {
		panel := dst[t*kb : t*kb+mr*kb]
		h := min(mr, rows-t)
		if a.cs == 1 {
			for i := 0; i < h; i++ {
				src := a.s[(i0+t+i)*a.rs+p0:]
				src = src[:kb]
				for p, v := range src {
					panel[p*mr+i] = v
				}
			}
		} else if a.rs == 1 && h == mr {
			// Transposed A (TN): each p is mr consecutive values, copied
			// element by element (a memmove call per 8 floats cost more
			// than the copy).
			src := a.s[(i0+t)+p0*a.cs:]
			switch mr {
			case 8:
				for p := 0; p < kb; p++ {
					d, s := panel[p*8:p*8+8:p*8+8], src[p*a.cs:p*a.cs+8:p*a.cs+8]
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
				}
			case 6:
				for p := 0; p < kb; p++ {
					d, s := panel[p*6:p*6+6:p*6+6], src[p*a.cs:p*a.cs+6:p*a.cs+6]
					d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
				}
			default:
				for p := 0; p < kb; p++ {
					copy(panel[p*mr:p*mr+mr], src[p*a.cs:])
				}
			}
		} else {
			for p := 0; p < kb; p++ {
				src := a.s[(i0+t)*a.rs+(p0+p)*a.cs:]
				row := panel[p*mr : p*mr+h]
				for i := range row {
					row[i] = src[i*a.rs]
				}
			}
		}
		if h < mr {
			for p := 0; p < kb; p++ {
				clear(panel[p*mr+h : p*mr+mr])
			}
		}
	}
}

// packB copies B[p0:p0+kb, j0:j0+cols] into dst as consecutive panels of nr
// columns, each stored row by row (dst[t·kb·nr + p·nr + j]); columns of the
// last panel beyond cols are zero.
func packB(b operand, p0, kb, j0, cols, nr int, dst []float32) {
	for t := 0; t < cols; t += nr {
		panel := dst[t*kb : t*kb+kb*nr]
		w := min(nr, cols-t)
		if b.cs == 1 {
			if w == nr && packRowsVec(panel, b.s[p0*b.rs+j0+t:], b.rs, kb, nr) {
				continue
			}
			for p := 0; p < kb; p++ {
				row := panel[p*nr : p*nr+nr]
				copy(row[:w], b.s[(p0+p)*b.rs+j0+t:])
				clear(row[w:])
			}
			continue
		}
		j := 0
		if b.rs == 1 {
			// Transposed B (NT) whose columns are contiguous: eight
			// columns at a time, so that each p stores eight adjacent
			// floats instead of one per panel row.
			for ; j+8 <= w; j += 8 {
				packCols8(panel[j:], nr, b.s[(j0+t+j)*b.cs+p0:], b.cs, kb)
			}
		}
		for ; j < w; j++ {
			src := b.s[(j0+t+j)*b.cs+p0*b.rs:]
			for p := 0; p < kb; p++ {
				panel[p*nr+j] = src[p*b.rs]
			}
		}
		if w < nr {
			for p := 0; p < kb; p++ {
				clear(panel[p*nr+w : p*nr+nr])
			}
		}
	}
}

// packCols8 sets dst[p·nr+c] = src[c·ld+p] for c < 8, p < kb: eight
// contiguous source columns of a transposed B into eight adjacent floats of
// each of kb panel rows.
func packCols8(dst []float32, nr int, src []float32, ld, kb int) {
	if kb == 0 {
		return
	}
	s0, s1, s2, s3 := src[:kb], src[ld:ld+kb], src[2*ld:2*ld+kb], src[3*ld:3*ld+kb]
	s4, s5, s6, s7 := src[4*ld:4*ld+kb], src[5*ld:5*ld+kb], src[6*ld:6*ld+kb], src[7*ld:7*ld+kb]
	_ = dst[(kb-1)*nr+7]
	for p := range s0 {
		d := dst[p*nr : p*nr+8 : p*nr+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

var scratch sync.Pool

// getScratch returns a buffer of n floats (contents undefined) from the
// pool of scratch buffers; putScratch returns it.
func getScratch(n int) *[]float32 {
	if p, ok := scratch.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

func putScratch(p *[]float32) { scratch.Put(p) }
