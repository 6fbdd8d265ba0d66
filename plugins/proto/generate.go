// Package proto holds the .proto sources of pit's plugin contracts and the Go
// code generated from them (committed). It is a Go module of its own
// (github.com/pit-lab/pit/plugins/proto) because both ends of the wire need
// the generated code: the plugin SDK (module plugins/sdk, which plugin
// authors depend on) and pit's host (the root module). As its own small
// module it adds only gRPC and protobuf to either, and its import paths
// did not change. Regenerate with "go generate ." in this directory after
// editing a .proto. It needs protoc on the PATH
// (Debian: apt-get install protobuf-compiler; the committed code was made
// with libprotoc 3.21.12); the Go generators are pinned below and run with
// "go run module@version".
//
// Packages are versioned (pit.reward.v1, ...): a breaking change gets a new
// package and a new go-plugin protocol version, never an edit in place.
package proto

//go:generate sh gen.sh google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
