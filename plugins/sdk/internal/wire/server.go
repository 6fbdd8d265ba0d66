package wire

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/go-plugin"
	algorithmv1 "github.com/pit-lab/pit/plugins/proto/pit/algorithm/v1"
	curriculumv1 "github.com/pit-lab/pit/plugins/proto/pit/curriculum/v1"
	pluginv1 "github.com/pit-lab/pit/plugins/proto/pit/plugin/v1"
	rewardv1 "github.com/pit-lab/pit/plugins/proto/pit/reward/v1"
	"github.com/pit-lab/pit/plugins/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The plugin side of the wire: gRPC servers that call a plugin's Go methods.
// Calls into one plugin are serialized, so authors need no locks.

// base holds what the three servers share.
type base struct {
	mu   sync.Mutex
	impl sdk.Plugin
}

func (b *base) describe(ctx context.Context) (*pluginv1.Description, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := sdk.Describe(ctx, b.impl)
	if err != nil {
		return nil, err
	}
	return descToProto(d)
}

func (b *base) configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var cfg map[string]any
	if req.GetConfig() != nil {
		cfg = req.GetConfig().AsMap()
	}
	err := b.impl.Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: req.GetSeed()})
	return configErrorsToProto(err), nil
}

func (b *base) saveState(ctx context.Context) (*pluginv1.SaveStateResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.impl.(sdk.Stateful)
	if !ok {
		if _, alg := b.impl.(sdk.Algorithm); alg {
			return &pluginv1.SaveStateResponse{State: []byte{}}, nil
		}
		return nil, status.Errorf(codes.Unimplemented, "%T is not stateful", b.impl)
	}
	state, err := s.SaveState(ctx)
	if err != nil {
		return nil, err
	}
	return &pluginv1.SaveStateResponse{State: state}, nil
}

func (b *base) restoreState(ctx context.Context, req *pluginv1.RestoreStateRequest) (*pluginv1.RestoreStateResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.impl.(sdk.Stateful)
	if !ok {
		if _, alg := b.impl.(sdk.Algorithm); alg {
			if n := len(req.GetState()); n != 0 {
				return nil, fmt.Errorf("this algorithm keeps no state, got %d bytes", n)
			}
			return &pluginv1.RestoreStateResponse{}, nil
		}
		return nil, status.Errorf(codes.Unimplemented, "%T is not stateful", b.impl)
	}
	if err := s.RestoreState(ctx, req.GetState()); err != nil {
		return nil, err
	}
	return &pluginv1.RestoreStateResponse{}, nil
}

type rewardServer struct {
	rewardv1.UnimplementedRewardFormulationServer
	base
	impl   sdk.Reward
	broker *plugin.GRPCBroker

	modelsMu sync.Mutex
	models   map[uint32]*modelServiceClient
}

func (s *rewardServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.Description, error) {
	return s.describe(ctx)
}

func (s *rewardServer) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return s.configure(ctx, req)
}

func (s *rewardServer) SaveState(ctx context.Context, _ *pluginv1.SaveStateRequest) (*pluginv1.SaveStateResponse, error) {
	return s.saveState(ctx)
}

func (s *rewardServer) RestoreState(ctx context.Context, req *pluginv1.RestoreStateRequest) (*pluginv1.RestoreStateResponse, error) {
	return s.restoreState(ctx, req)
}

func (s *rewardServer) Comparisons(ctx context.Context, req *rewardv1.ComparisonsRequest) (*rewardv1.ComparisonsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.impl.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: pairsFromProto(req.GetPairs())})
	if err != nil {
		return nil, err
	}
	out := &rewardv1.ComparisonsResponse{
		Inputs: inputsToProto(resp.Inputs),
		Pair:   intsToInt32(resp.Pair),
		Tag:    resp.Tag,
	}
	for _, c := range resp.Comparisons {
		out.Comparisons = append(out.Comparisons, &rewardv1.Comparison{
			Better: int32(c.Better), Worse: int32(c.Worse), Margin: c.Margin, Weight: c.Weight,
		})
	}
	return out, nil
}

func (s *rewardServer) Score(ctx context.Context, req *rewardv1.ScoreRequest) (*rewardv1.ScoreResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	models, err := s.modelService(req.GetModelService())
	if err != nil {
		return nil, err
	}
	resp, err := s.impl.Score(ctx, &sdk.ScoreRequest{Items: inputsFromProto(req.GetItems()), Models: models})
	if err != nil {
		return nil, err
	}
	out := &rewardv1.ScoreResponse{Rewards: resp.Rewards}
	if len(resp.Components) > 0 {
		out.Components = make(map[string]*rewardv1.Values, len(resp.Components))
		for k, v := range resp.Components {
			out.Components[k] = &rewardv1.Values{Values: v}
		}
	}
	return out, nil
}

// modelService returns the client of the host's model service on broker id
// (0: the host serves none), dialling it once.
func (s *rewardServer) modelService(id uint32) (sdk.ModelService, error) {
	if id == 0 || s.broker == nil {
		return noModels{}, nil
	}
	s.modelsMu.Lock()
	defer s.modelsMu.Unlock()
	if c, ok := s.models[id]; ok {
		return c, nil
	}
	conn, err := s.broker.DialWithOptions(id, grpc.WithDefaultCallOptions(callOptions()...))
	if err != nil {
		return nil, fmt.Errorf("connect to the host's model service: %w", err)
	}
	c := &modelServiceClient{c: rewardv1.NewModelServiceClient(conn)}
	if s.models == nil {
		s.models = map[uint32]*modelServiceClient{}
	}
	s.models[id] = c
	return c, nil
}

// noModels is the model service of a host that offers none.
type noModels struct{}

func (noModels) Score(_ context.Context, model string, _ []sdk.Input) ([]float64, error) {
	return nil, fmt.Errorf("model service: the host offers no models (asked for %q)", model)
}

// modelServiceClient is the plugin's view of the host's model service.
type modelServiceClient struct {
	c rewardv1.ModelServiceClient
}

func (m *modelServiceClient) Score(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
	resp, err := m.c.Score(ctx, &rewardv1.ModelScoreRequest{Model: model, Items: inputsToProto(items)})
	if err != nil {
		return nil, remoteError("model service Score "+model, err)
	}
	if len(resp.GetScores()) != len(items) {
		return nil, fmt.Errorf("model service Score %s: %d scores for %d items", model, len(resp.GetScores()), len(items))
	}
	return resp.GetScores(), nil
}

// modelServiceServer serves a host's sdk.ModelService to plugins.
type modelServiceServer struct {
	rewardv1.UnimplementedModelServiceServer
	impl sdk.ModelService
}

func (m *modelServiceServer) Score(ctx context.Context, req *rewardv1.ModelScoreRequest) (*rewardv1.ModelScoreResponse, error) {
	scores, err := m.impl.Score(ctx, req.GetModel(), inputsFromProto(req.GetItems()))
	if err != nil {
		return nil, err
	}
	if len(scores) != len(req.GetItems()) {
		return nil, fmt.Errorf("host model %q gave %d scores for %d items", req.GetModel(), len(scores), len(req.GetItems()))
	}
	return &rewardv1.ModelScoreResponse{Scores: scores}, nil
}

type algorithmServer struct {
	algorithmv1.UnimplementedAlgorithmServer
	base
	impl sdk.Algorithm
}

func (s *algorithmServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.Description, error) {
	return s.describe(ctx)
}

func (s *algorithmServer) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return s.configure(ctx, req)
}

func (s *algorithmServer) SaveState(ctx context.Context, _ *pluginv1.SaveStateRequest) (*pluginv1.SaveStateResponse, error) {
	return s.saveState(ctx)
}

func (s *algorithmServer) RestoreState(ctx context.Context, req *pluginv1.RestoreStateRequest) (*pluginv1.RestoreStateResponse, error) {
	return s.restoreState(ctx, req)
}

func (s *algorithmServer) Knobs(ctx context.Context, _ *algorithmv1.KnobsRequest) (*algorithmv1.LossKnobs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.impl.Knobs(ctx)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("sdk.Knobs returned nothing")
	}
	return knobsToProto(k), nil
}

func (s *algorithmServer) Advantages(ctx context.Context, req *algorithmv1.AdvantagesRequest) (*algorithmv1.AdvantagesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &sdk.AdvantagesRequest{
		Step:          int(req.GetStep()),
		Rewards:       req.GetRewards(),
		GreedyRewards: req.GetGreedyRewards(),
	}
	var err error
	if r.LogProbs, err = matrixFromProto("logprobs", req.GetLogprobs()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if r.RefLogProbs, err = matrixFromProto("ref_logprobs", req.GetRefLogprobs()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if r.Values, err = matrixFromProto("values", req.GetValues()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if r.Mask, err = matrixFromProto("mask", req.GetMask()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	for _, g := range req.GetGroups() {
		r.Groups = append(r.Groups, int(g))
	}
	resp, err := s.impl.Advantages(ctx, r)
	if err != nil {
		return nil, err
	}
	return &algorithmv1.AdvantagesResponse{
		Advantages: matrixToProto(resp.Advantages),
		Returns:    matrixToProto(resp.Returns),
		Knobs:      knobsToProto(&resp.Knobs),
		Stats:      resp.Stats,
	}, nil
}

func (s *algorithmServer) Observe(ctx context.Context, req *pluginv1.ObserveRequest) (*pluginv1.ObserveResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.impl.Observe(ctx, &sdk.ObserveRequest{Step: int(req.GetStep()), Stats: req.GetStats()}); err != nil {
		return nil, err
	}
	return &pluginv1.ObserveResponse{}, nil
}

type curriculumServer struct {
	curriculumv1.UnimplementedCurriculumServer
	base
	impl sdk.Curriculum
}

func (s *curriculumServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.Description, error) {
	return s.describe(ctx)
}

func (s *curriculumServer) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return s.configure(ctx, req)
}

func (s *curriculumServer) SaveState(ctx context.Context, _ *pluginv1.SaveStateRequest) (*pluginv1.SaveStateResponse, error) {
	return s.saveState(ctx)
}

func (s *curriculumServer) RestoreState(ctx context.Context, req *pluginv1.RestoreStateRequest) (*pluginv1.RestoreStateResponse, error) {
	return s.restoreState(ctx, req)
}

func (s *curriculumServer) Next(ctx context.Context, req *curriculumv1.NextRequest) (*curriculumv1.NextResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.impl.Next(ctx, &sdk.NextRequest{
		Step:       int(req.GetStep()),
		TotalSteps: int(req.GetTotalSteps()),
		BatchSize:  int(req.GetBatchSize()),
		Stats:      req.GetStats(),
	})
	if err != nil {
		return nil, err
	}
	return nextToProto(resp), nil
}

func (s *curriculumServer) Observe(ctx context.Context, req *pluginv1.ObserveRequest) (*pluginv1.ObserveResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.impl.Observe(ctx, &sdk.ObserveRequest{Step: int(req.GetStep()), Stats: req.GetStats()}); err != nil {
		return nil, err
	}
	return &pluginv1.ObserveResponse{}, nil
}

func nextToProto(r *sdk.NextResponse) *curriculumv1.NextResponse {
	out := &curriculumv1.NextResponse{
		Round:         int64(r.Round),
		Phase:         r.Phase,
		RefreshReward: r.RefreshReward,
	}
	if len(r.Counts) > 0 {
		out.Counts = make(map[string]int64, len(r.Counts))
		for k, v := range r.Counts {
			out.Counts[string(k)] = int64(v)
		}
	}
	if len(r.Probs) > 0 {
		out.Probs = make(map[string]float64, len(r.Probs))
		for k, v := range r.Probs {
			out.Probs[string(k)] = v
		}
	}
	return out
}

func nextFromProto(p *curriculumv1.NextResponse) *sdk.NextResponse {
	out := &sdk.NextResponse{
		Round:         int(p.GetRound()),
		Phase:         p.GetPhase(),
		RefreshReward: p.GetRefreshReward(),
	}
	if len(p.GetCounts()) > 0 {
		out.Counts = make(map[sdk.Source]int, len(p.GetCounts()))
		for k, v := range p.GetCounts() {
			out.Counts[sdk.Source(k)] = int(v)
		}
	}
	if len(p.GetProbs()) > 0 {
		out.Probs = make(map[sdk.Source]float64, len(p.GetProbs()))
		for k, v := range p.GetProbs() {
			out.Probs[sdk.Source(k)] = v
		}
	}
	return out
}

func knobsToProto(k *sdk.Knobs) *algorithmv1.LossKnobs {
	return &algorithmv1.LossKnobs{
		ClipRange:        k.ClipRange,
		ValueCoef:        k.ValueCoef,
		ValueClip:        k.ValueClip,
		KlCoef:           k.KLCoef,
		KlInLoss:         k.KLInLoss,
		KlEstimator:      k.KLEstimator,
		EntropyCoef:      k.EntropyCoef,
		Epochs:           int32(k.Epochs),
		SamplesPerPrompt: int32(k.SamplesPerPrompt),
		GreedyBaseline:   k.GreedyBaseline,
	}
}

func knobsFromProto(p *algorithmv1.LossKnobs) sdk.Knobs {
	return sdk.Knobs{
		ClipRange:        p.GetClipRange(),
		ValueCoef:        p.GetValueCoef(),
		ValueClip:        p.GetValueClip(),
		KLCoef:           p.GetKlCoef(),
		KLInLoss:         p.GetKlInLoss(),
		KLEstimator:      p.GetKlEstimator(),
		EntropyCoef:      p.GetEntropyCoef(),
		Epochs:           int(p.GetEpochs()),
		SamplesPerPrompt: int(p.GetSamplesPerPrompt()),
		GreedyBaseline:   p.GetGreedyBaseline(),
	}
}

// matrixToProto flattens a rectangular [][]float64; nil stays absent.
func matrixToProto(m [][]float64) *algorithmv1.Matrix {
	if m == nil {
		return nil
	}
	cols := 0
	if len(m) > 0 {
		cols = len(m[0])
	}
	out := &algorithmv1.Matrix{Rows: int32(len(m)), Cols: int32(cols), Data: make([]float64, 0, len(m)*cols)}
	for _, row := range m {
		out.Data = append(out.Data, row...)
	}
	if len(out.Data) != len(m)*cols {
		// Ragged: send the shape that cannot be satisfied so the other side
		// reports it instead of reading garbage.
		out.Cols = -1
	}
	return out
}

func matrixFromProto(name string, p *algorithmv1.Matrix) ([][]float64, error) {
	if p == nil {
		return nil, nil
	}
	rows, cols := int(p.GetRows()), int(p.GetCols())
	if rows < 0 || cols < 0 || rows*cols != len(p.GetData()) {
		return nil, fmt.Errorf("%s: ragged or malformed matrix (%d rows × %d cols, %d values)", name, rows, cols, len(p.GetData()))
	}
	data := p.GetData()
	out := make([][]float64, rows)
	for i := range out {
		out[i] = data[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return out, nil
}
