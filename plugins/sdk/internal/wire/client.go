package wire

import (
	"context"

	algorithmv1 "github.com/pit-lab/pit/plugins/proto/pit/algorithm/v1"
	curriculumv1 "github.com/pit-lab/pit/plugins/proto/pit/curriculum/v1"
	pluginv1 "github.com/pit-lab/pit/plugins/proto/pit/plugin/v1"
	rewardv1 "github.com/pit-lab/pit/plugins/proto/pit/reward/v1"
	"github.com/pit-lab/pit/plugins/sdk"
	"google.golang.org/grpc"
)

// The host side of the wire: Go values implementing the plugin interfaces by
// calling a plugin over gRPC. Responses are shape-checked before they are
// returned.

// commonClient is the part of every service's client the three share.
type commonClient interface {
	Describe(ctx context.Context, in *pluginv1.DescribeRequest, opts ...grpc.CallOption) (*pluginv1.Description, error)
	Configure(ctx context.Context, in *pluginv1.ConfigureRequest, opts ...grpc.CallOption) (*pluginv1.ConfigureResponse, error)
	SaveState(ctx context.Context, in *pluginv1.SaveStateRequest, opts ...grpc.CallOption) (*pluginv1.SaveStateResponse, error)
	RestoreState(ctx context.Context, in *pluginv1.RestoreStateRequest, opts ...grpc.CallOption) (*pluginv1.RestoreStateResponse, error)
}

type clientBase struct {
	c commonClient
}

func (b clientBase) Describe(ctx context.Context) (*sdk.Description, error) {
	d, err := b.c.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return nil, remoteError("Describe", err)
	}
	return descFromProto(d), nil
}

func (b clientBase) Configure(ctx context.Context, req *sdk.ConfigureRequest) error {
	cfg, err := configToProto(req.Config)
	if err != nil {
		return err
	}
	resp, err := b.c.Configure(ctx, &pluginv1.ConfigureRequest{Config: cfg, Seed: req.Seed})
	if err != nil {
		return remoteError("Configure", err)
	}
	return configErrorsFromProto(resp)
}

func (b clientBase) SaveState(ctx context.Context) ([]byte, error) {
	resp, err := b.c.SaveState(ctx, &pluginv1.SaveStateRequest{})
	if err != nil {
		return nil, remoteError("SaveState", err)
	}
	return resp.GetState(), nil
}

func (b clientBase) RestoreState(ctx context.Context, state []byte) error {
	if _, err := b.c.RestoreState(ctx, &pluginv1.RestoreStateRequest{State: state}); err != nil {
		return remoteError("RestoreState", err)
	}
	return nil
}

type rewardClient struct {
	clientBase
	c        rewardv1.RewardFormulationClient
	modelsID uint32 // broker id of the host's model service, 0 if none
}

// Comparisons implements sdk.Reward.
func (r *rewardClient) Comparisons(ctx context.Context, req *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	resp, err := r.c.Comparisons(ctx, &rewardv1.ComparisonsRequest{Pairs: pairsToProto(req.Pairs)})
	if err != nil {
		return nil, remoteError("Comparisons", err)
	}
	out := &sdk.ComparisonsResponse{
		Inputs: inputsFromProto(resp.GetInputs()),
		Pair:   int32sToInt(resp.GetPair()),
		Tag:    resp.GetTag(),
	}
	for _, c := range resp.GetComparisons() {
		out.Comparisons = append(out.Comparisons, sdk.Comparison{
			Better: int(c.GetBetter()), Worse: int(c.GetWorse()), Margin: c.GetMargin(), Weight: c.GetWeight(),
		})
	}
	if err := out.Check(len(req.Pairs)); err != nil {
		return nil, err
	}
	return out, nil
}

// Score implements sdk.Reward. The host's model service was fixed when the
// client was made; req.Models is ignored on this side.
func (r *rewardClient) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	resp, err := r.c.Score(ctx, &rewardv1.ScoreRequest{Items: inputsToProto(req.Items), ModelService: r.modelsID})
	if err != nil {
		return nil, remoteError("Score", err)
	}
	out := &sdk.ScoreResponse{Rewards: resp.GetRewards()}
	if len(resp.GetComponents()) > 0 {
		out.Components = make(map[string][]float64, len(resp.GetComponents()))
		for k, v := range resp.GetComponents() {
			out.Components[k] = v.GetValues()
		}
	}
	if out.Rewards == nil {
		out.Rewards = []float64{}
	}
	if err := out.Check(len(req.Items)); err != nil {
		return nil, err
	}
	return out, nil
}

type algorithmClient struct {
	clientBase
	c algorithmv1.AlgorithmClient
}

// sdk.Knobs implements sdk.Algorithm.
func (a *algorithmClient) Knobs(ctx context.Context) (*sdk.Knobs, error) {
	resp, err := a.c.Knobs(ctx, &algorithmv1.KnobsRequest{})
	if err != nil {
		return nil, remoteError("sdk.Knobs", err)
	}
	k := knobsFromProto(resp)
	if err := k.Check(); err != nil {
		return nil, err
	}
	return &k, nil
}

// Advantages implements sdk.Algorithm.
func (a *algorithmClient) Advantages(ctx context.Context, req *sdk.AdvantagesRequest) (*sdk.AdvantagesResponse, error) {
	if _, _, err := req.Shape(); err != nil {
		return nil, err
	}
	pr := &algorithmv1.AdvantagesRequest{
		Step:          int64(req.Step),
		Logprobs:      matrixToProto(req.LogProbs),
		RefLogprobs:   matrixToProto(req.RefLogProbs),
		Values:        matrixToProto(req.Values),
		Mask:          matrixToProto(req.Mask),
		Rewards:       req.Rewards,
		GreedyRewards: req.GreedyRewards,
	}
	for _, g := range req.Groups {
		pr.Groups = append(pr.Groups, int64(g))
	}
	resp, err := a.c.Advantages(ctx, pr)
	if err != nil {
		return nil, remoteError("Advantages", err)
	}
	out := &sdk.AdvantagesResponse{Knobs: knobsFromProto(resp.GetKnobs()), Stats: resp.GetStats()}
	if out.Advantages, err = matrixFromProto("advantages", resp.GetAdvantages()); err != nil {
		return nil, err
	}
	if out.Returns, err = matrixFromProto("returns", resp.GetReturns()); err != nil {
		return nil, err
	}
	if err := out.Check(req); err != nil {
		return nil, err
	}
	return out, nil
}

// Observe implements sdk.Algorithm.
func (a *algorithmClient) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	if _, err := a.c.Observe(ctx, &pluginv1.ObserveRequest{Step: int64(req.Step), Stats: req.Stats}); err != nil {
		return remoteError("Observe", err)
	}
	return nil
}

type curriculumClient struct {
	clientBase
	c curriculumv1.CurriculumClient
}

// Next implements sdk.Curriculum.
func (c *curriculumClient) Next(ctx context.Context, req *sdk.NextRequest) (*sdk.NextResponse, error) {
	resp, err := c.c.Next(ctx, &curriculumv1.NextRequest{
		Step:       int64(req.Step),
		TotalSteps: int64(req.TotalSteps),
		BatchSize:  int64(req.BatchSize),
		Stats:      req.Stats,
	})
	if err != nil {
		return nil, remoteError("Next", err)
	}
	out := nextFromProto(resp)
	if err := out.Check(req.BatchSize); err != nil {
		return nil, err
	}
	return out, nil
}

// Observe implements sdk.Curriculum.
func (c *curriculumClient) Observe(ctx context.Context, req *sdk.ObserveRequest) error {
	if _, err := c.c.Observe(ctx, &pluginv1.ObserveRequest{Step: int64(req.Step), Stats: req.Stats}); err != nil {
		return remoteError("Observe", err)
	}
	return nil
}
