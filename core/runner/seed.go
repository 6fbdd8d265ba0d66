package runner

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// SeedFor derives an independent seed from a root seed and a path of names,
// for example SeedFor(root, "stage", "rlhf", "sampling"). It hashes the root
// and the length-prefixed names with SHA-256, so streams for different paths
// are independent and a stage's streams do not change when other stages are
// added or removed.
func SeedFor(root int64, path ...string) int64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(root))
	h.Write(b[:])
	for _, p := range path {
		binary.LittleEndian.PutUint64(b[:], uint64(len(p)))
		h.Write(b[:])
		h.Write([]byte(p))
	}
	return int64(binary.LittleEndian.Uint64(h.Sum(nil)[:8]))
}

// NewRand returns a PCG generator seeded from seed.
func NewRand(seed int64) *rand.Rand {
	return rand.New(NewPCG(seed))
}

// NewPCG returns the source of NewRand(seed). Keeping the source lets a
// stage save and restore a generator's state (PCG's MarshalBinary).
func NewPCG(seed int64) *rand.PCG {
	return rand.NewPCG(uint64(seed), uint64(SeedFor(seed, "pcg-stream")))
}

// PluginSeed is the seed a plugin in slot of stage gets.
func PluginSeed(root int64, stage, slot string) int64 {
	return SeedFor(root, "plugin", stage, slot)
}
