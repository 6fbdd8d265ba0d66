package host

import (
	"context"

	"github.com/pit-lab/pit/plugins/sdk"
)

// Handles wrap the SDK's gRPC clients so that every error names the plugin
// and says whether its process died.

type common struct {
	p    *Plugin
	impl sdk.Plugin
}

func (c common) Describe(ctx context.Context) (*sdk.Description, error) {
	d, err := c.impl.Describe(ctx)
	return d, c.p.wrap("Describe", err)
}

func (c common) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	err := c.impl.Configure(ctx, req)
	if err != nil && !c.p.Exited() {
		// Config problems are the user's, already worded per key; keep
		// them joined (sdk.SplitErrors lists them).
		return err
	}
	return c.p.wrap("Configure", err)
}

func (c common) SaveState(ctx context.Context) ([]byte, error) {
	b, err := c.impl.(sdk.Stateful).SaveState(ctx)
	return b, c.p.wrap("SaveState", err)
}

func (c common) RestoreState(ctx context.Context, state []byte) error {
	return c.p.wrap("RestoreState", c.impl.(sdk.Stateful).RestoreState(ctx, state))
}

type rewardHandle struct {
	p *Plugin
	r sdk.Reward
}

func (h *rewardHandle) c() common { return common{h.p, h.r} }

func (h *rewardHandle) Describe(ctx context.Context) (*sdk.Description, error) {
	return h.c().Describe(ctx)
}

func (h *rewardHandle) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	return h.c().Configure(ctx, req)
}

func (h *rewardHandle) SaveState(ctx context.Context) ([]byte, error) { return h.c().SaveState(ctx) }

func (h *rewardHandle) RestoreState(ctx context.Context, state []byte) error {
	return h.c().RestoreState(ctx, state)
}

func (h *rewardHandle) Comparisons(ctx context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	resp, err := h.r.Comparisons(ctx, req)
	return resp, h.p.wrap("Comparisons", err)
}

func (h *rewardHandle) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	resp, err := h.r.Score(ctx, req)
	return resp, h.p.wrap("Score", err)
}

type algorithmHandle struct {
	p *Plugin
	a sdk.Algorithm
}

func (h *algorithmHandle) c() common { return common{h.p, h.a} }

func (h *algorithmHandle) Describe(ctx context.Context) (*sdk.Description, error) {
	return h.c().Describe(ctx)
}

func (h *algorithmHandle) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	return h.c().Configure(ctx, req)
}

func (h *algorithmHandle) SaveState(ctx context.Context) ([]byte, error) { return h.c().SaveState(ctx) }

func (h *algorithmHandle) RestoreState(ctx context.Context, state []byte) error {
	return h.c().RestoreState(ctx, state)
}

func (h *algorithmHandle) Knobs(ctx context.Context) (*sdk.Knobs, error) {
	k, err := h.a.Knobs(ctx)
	return k, h.p.wrap("Knobs", err)
}

func (h *algorithmHandle) Advantages(ctx context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	resp, err := h.a.Advantages(ctx, req)
	return resp, h.p.wrap("Advantages", err)
}

func (h *algorithmHandle) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	return h.p.wrap("Observe", h.a.Observe(ctx, req))
}

type curriculumHandle struct {
	p *Plugin
	c sdk.Curriculum
}

func (h *curriculumHandle) cm() common { return common{h.p, h.c} }

func (h *curriculumHandle) Describe(ctx context.Context) (*sdk.Description, error) {
	return h.cm().Describe(ctx)
}

func (h *curriculumHandle) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	return h.cm().Configure(ctx, req)
}

func (h *curriculumHandle) SaveState(ctx context.Context) ([]byte, error) {
	return h.cm().SaveState(ctx)
}

func (h *curriculumHandle) RestoreState(ctx context.Context, state []byte) error {
	return h.cm().RestoreState(ctx, state)
}

func (h *curriculumHandle) Next(ctx context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	resp, err := h.c.Next(ctx, req)
	return resp, h.p.wrap("Next", err)
}

func (h *curriculumHandle) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	return h.p.wrap("Observe", h.c.Observe(ctx, req))
}
