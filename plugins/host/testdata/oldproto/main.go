// Command oldproto is a test plugin that passes pit's handshake cookie but
// speaks another plugin protocol version (2), to test the host's error.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"github.com/pit-lab/pit/plugins/sdk/hostconn"
	"google.golang.org/grpc"
)

type nothing struct{ plugin.NetRPCUnsupportedPlugin }

func (nothing) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (nothing) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	hs := hostconn.Handshake()
	hs.ProtocolVersion = hostconn.ProtocolVersion + 1
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{"reward": nothing{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
