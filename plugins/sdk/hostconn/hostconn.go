// Package hostconn is the host's end of the plugin connection: the
// go-plugin handshake, the plugin set whose dispensed values are the
// host-side gRPC clients of each kind, and the gRPC options. pit's host
// (github.com/pit-lab/pit/plugins/host) and the conformance suite's
// in-process harness use it; plugin authors never import it.
//
// It lives in the SDK module, not in pit's, because the client and the
// server of the wire are one piece of code (internal/wire: conversions both
// ways, shape checks on every response) that the conformance suite needs on
// the plugin author's side too; keeping it here lets both ends share it
// without publishing the conversions or the generated code in the author's
// API.
package hostconn

import (
	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/internal/wire"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of pit's plugin protocol (the .proto
// packages pit.*.v1). A host and a plugin must speak the same one.
const ProtocolVersion = wire.ProtocolVersion

// MaxMessageSize bounds one gRPC message either way, on both sides (gRPC's
// default of 4 MiB is too small for large batches).
const MaxMessageSize = wire.MaxMessageSize

// Handshake returns the go-plugin handshake of pit plugins: a magic cookie
// (so a plugin run by hand explains itself instead of hanging) and the
// protocol version.
func Handshake() plugin.HandshakeConfig { return wire.Handshake() }

// Plugins returns the go-plugin plugin set of a host. Dispensing a kind
// ("reward", "algorithm", "curriculum") gives a value implementing that
// kind's interface and sdk.Stateful. Reward plugins get models as their
// model service, served through the go-plugin broker; models may be nil.
func Plugins(models sdk.ModelService) plugin.PluginSet { return wire.HostPlugins(models) }

// DialOptions are the gRPC options a host dials plugins with (raised
// message size limits).
func DialOptions() []grpc.DialOption { return wire.DialOptions() }

// Loopback returns a plugin set holding both sides of impl's kind, for
// harnesses that connect a host and a plugin inside one process
// (plugin.TestPluginGRPCConn).
func Loopback(impl sdk.Plugin, models sdk.ModelService) (plugin.PluginSet, error) {
	return wire.LoopbackPlugins(impl, models)
}
