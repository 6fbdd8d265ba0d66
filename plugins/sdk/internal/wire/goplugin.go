package wire

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	algorithmv1 "github.com/pit-lab/pit/plugins/proto/pit/algorithm/v1"
	curriculumv1 "github.com/pit-lab/pit/plugins/proto/pit/curriculum/v1"
	rewardv1 "github.com/pit-lab/pit/plugins/proto/pit/reward/v1"
	"github.com/pit-lab/pit/plugins/sdk"
	"google.golang.org/grpc"
)

// The go-plugin glue of both sides: the handshake, the plugin sets of a
// host, of a plugin and of an in-process loopback, and gRPC options.

// ProtocolVersion is the version of pit's plugin protocol (the .proto
// packages pit.*.v1). A host and a plugin must speak the same one.
const ProtocolVersion = 1

// MaxMessageSize bounds one gRPC message either way, on both sides (gRPC's
// default of 4 MiB is too small for large batches).
const MaxMessageSize = 64 << 20

// Handshake returns the go-plugin handshake of pit plugins: a magic cookie
// (so a plugin run by hand explains itself instead of hanging) and the
// protocol version.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "PIT_PLUGIN_MAGIC_COOKIE",
		MagicCookieValue: "a1c7d0c4-pit-self-improvement-plugins",
	}
}

// HostPlugins returns the go-plugin plugin set of a host. Dispensing a kind
// ("reward", "algorithm", "curriculum") gives a value implementing that
// kind's interface and sdk.Stateful. sdk.Reward plugins get models as their model
// service, served through the go-plugin broker; models may be nil.
func HostPlugins(models sdk.ModelService) plugin.PluginSet {
	return plugin.PluginSet{
		string(sdk.KindReward):     &grpcPlugin{kind: sdk.KindReward, models: models},
		string(sdk.KindAlgorithm):  &grpcPlugin{kind: sdk.KindAlgorithm},
		string(sdk.KindCurriculum): &grpcPlugin{kind: sdk.KindCurriculum},
	}
}

// DialOptions are the gRPC options a host dials plugins with (raised message
// size limits).
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(callOptions()...)}
}

func callOptions() []grpc.CallOption {
	return []grpc.CallOption{grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)}
}

func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// LoopbackPlugins returns a plugin set holding both sides of impl's kind,
// for harnesses that connect a host and a plugin inside one process
// (plugin.TestPluginGRPCConn); see package plugintest.
func LoopbackPlugins(impl sdk.Plugin, models sdk.ModelService) (plugin.PluginSet, error) {
	kind, err := sdk.KindOf(impl)
	if err != nil {
		return nil, err
	}
	return plugin.PluginSet{string(kind): &grpcPlugin{kind: kind, impl: impl, models: models}}, nil
}

// PluginSet is the plugin side's go-plugin plugin set: impl served as kind.
func PluginSet(kind sdk.Kind, impl sdk.Plugin) plugin.PluginSet {
	return plugin.PluginSet{string(kind): &grpcPlugin{kind: kind, impl: impl}}
}

// NewGRPCServer makes a gRPC server with pit's message size limits.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, serverOptions()...)...)
}

// grpcPlugin is the go-plugin glue of one kind: on the plugin side it holds
// the implementation, on the host side the model service.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	kind   sdk.Kind
	impl   sdk.Plugin       // plugin side
	models sdk.ModelService // host side, reward only
}

func (p *grpcPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	switch p.kind {
	case sdk.KindReward:
		impl := p.impl.(sdk.Reward)
		rewardv1.RegisterRewardFormulationServer(s, &rewardServer{base: base{impl: impl}, impl: impl, broker: broker})
	case sdk.KindAlgorithm:
		impl := p.impl.(sdk.Algorithm)
		algorithmv1.RegisterAlgorithmServer(s, &algorithmServer{base: base{impl: impl}, impl: impl})
	case sdk.KindCurriculum:
		impl := p.impl.(sdk.Curriculum)
		curriculumv1.RegisterCurriculumServer(s, &curriculumServer{base: base{impl: impl}, impl: impl})
	default:
		return fmt.Errorf("unknown plugin kind %q", p.kind)
	}
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	switch p.kind {
	case sdk.KindReward:
		c := rewardv1.NewRewardFormulationClient(conn)
		rc := &rewardClient{clientBase: clientBase{c: c}, c: c}
		if p.models != nil {
			rc.modelsID = broker.NextId()
			srv := &modelServiceServer{impl: p.models}
			go broker.AcceptAndServe(rc.modelsID, func(opts []grpc.ServerOption) *grpc.Server {
				s := NewGRPCServer(opts)
				rewardv1.RegisterModelServiceServer(s, srv)
				return s
			})
		}
		return rc, nil
	case sdk.KindAlgorithm:
		c := algorithmv1.NewAlgorithmClient(conn)
		return &algorithmClient{clientBase: clientBase{c: c}, c: c}, nil
	case sdk.KindCurriculum:
		c := curriculumv1.NewCurriculumClient(conn)
		return &curriculumClient{clientBase: clientBase{c: c}, c: c}, nil
	}
	return nil, fmt.Errorf("unknown plugin kind %q", p.kind)
}
