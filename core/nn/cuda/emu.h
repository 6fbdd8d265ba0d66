// emu.h stands in for the CUDA built-ins so that kernels.cu compiles as C
// and runs on the CPU, one simulated thread after another. Only the cudaemu
// tests of core/nn use it (cudaemu.go); the kernels use no shared memory,
// barriers or atomics, so running threads in sequence is exact.
#include <math.h>

typedef struct {
	unsigned int x, y, z;
} pit_dim3;

static pit_dim3 blockIdx, threadIdx, blockDim, gridDim;

#define KERNEL static void
#define DEVFN static inline

// EMU_LAUNCH3 runs call once per thread of a grid of (gx, gy, gz) blocks
// of (bx, by, bz) threads.
#define EMU_LAUNCH3(gx, gy, gz, bx, by, bz, call)                                          \
	do {                                                                                   \
		gridDim.x = (gx), gridDim.y = (gy), gridDim.z = (gz);                              \
		blockDim.x = (bx), blockDim.y = (by), blockDim.z = (bz);                           \
		for (blockIdx.z = 0; blockIdx.z < gridDim.z; blockIdx.z++)                         \
			for (blockIdx.y = 0; blockIdx.y < gridDim.y; blockIdx.y++)                     \
				for (blockIdx.x = 0; blockIdx.x < gridDim.x; blockIdx.x++)                 \
					for (threadIdx.z = 0; threadIdx.z < blockDim.z; threadIdx.z++)         \
						for (threadIdx.y = 0; threadIdx.y < blockDim.y; threadIdx.y++)     \
							for (threadIdx.x = 0; threadIdx.x < blockDim.x; threadIdx.x++) \
								call;                                                      \
	} while (0)

// EMU_BLOCK is the block size of pit's 1-D launches (threadsPerBlock in
// device_cuda.go).
#define EMU_BLOCK 256

// EMU_LAUNCH runs call over a 1-D grid that covers threads threads, as
// device_cuda.go launches every pit kernel.
#define EMU_LAUNCH(threads, call) \
	EMU_LAUNCH3(((unsigned int)(threads) + EMU_BLOCK - 1) / EMU_BLOCK, 1, 1, EMU_BLOCK, 1, 1, call)
