// Package sdk is what a pit plugin author imports.
//
// A pit plugin is a separate process that the pit host launches and talks to
// over gRPC (github.com/hashicorp/go-plugin). Plugins hold logic; the host
// holds tensors: over the wire go token ids and scalars in batches, never
// model weights. There are three kinds of plugin, each a Go interface here:
//
//   - [Reward], a reward formulation. It says whether it needs a learned
//     model and whether it is reference-conditioned, turns preference pairs
//     into the scored inputs and weighted comparisons that train its model
//     ([Reward.Comparisons]: Bradley–Terry gives two inputs and one
//     comparison per pair, the PIT gap four inputs and five comparisons), and
//     scores batches of (x, y_ref, y) ([Reward.Score]). To score, it calls
//     back into the host's [ModelService] ("reward" is the learned model for
//     this formulation; "oracle" and "rubric" are the task's scorers), so a
//     formulation needs no tensors of its own.
//   - [Algorithm], an RL algorithm. It turns a batch of rollouts (per-token
//     log-probabilities of policy and reference, values, per-sequence
//     rewards, masks, group ids) into per-token advantages and returns, and
//     sets the knobs of the one clipped policy-gradient loss the host
//     computes ([Knobs]: clip range, value and KL coefficients, where KL
//     goes, samples per prompt, ...). Its adaptive KL controller learns from
//     [Algorithm.Observe] and is saved with checkpoints.
//   - [Curriculum], a curriculum strategy. Each step it decides where the
//     improver's references come from (data y_l, data y_w, policy samples,
//     the improver's own outputs), labels the round or phase, and says when
//     to refresh the reward model. It is stateful.
//
// Every kind also has Describe (name, version, kind, capabilities, config
// schema with defaults) and Configure (the experiment file's config table,
// decoded with [DecodeConfig]). A config is a struct with `toml:"key"`
// tags, decoded by package table, the decoder of the experiment file's own
// tables: the same rules (exact keys, embedded structs flattened, whole
// numbers for integers, durations as strings, unknown keys and wrong types
// are errors) and the same messages, each naming its key (`key "k":
// expected an integer (got float 1.5)`), so that pit reports it at the
// key's line of the experiment file. `range` tags bound numbers (see
// [CheckRanges]); table.Errorf points a check of your own at its key. [Configurable] is both
// for a plugin whose config is a struct: embed it and write only the kind's
// own methods. A curriculum, and an algorithm with state between batches,
// implement [Stateful] so the state travels with the host's checkpoints.
// Calls into a plugin are serialised: plugins need no locks.
//
// A plugin's main function is one call to package serve:
//
//	func main() { serve.Run(&myReward{}) }
//
// # The SDK module
//
// This directory is a Go module of its own,
// github.com/pit-lab/pit/plugins/sdk, so that a plugin depends on what a
// plugin needs and nothing of pit's engine (Gorgonia, gonum/plot, the core
// packages); TestImportRules fails if any package here imports them. Its
// packages:
//
//   - sdk (this package): the author's API, and nothing else.
//   - sdk/serve: serve.Run, the whole of a plugin's main.
//   - sdk/plugintest: the conformance suite every plugin must pass, an
//     in-process harness over real gRPC (Connect) and a deterministic fake
//     of the host's models (HashModels).
//   - sdk/pg and sdk/hostscore: the toolkits pit's built-ins are written
//     with (policy-gradient arithmetic and pg.Base; calls to the host's
//     models), public so that outside plugins have what the built-ins have.
//   - sdk/hostconn: the host's end of the connection (handshake, the plugin
//     set whose values are gRPC clients, dial options) for pit's host and
//     for plugintest; authors never import it.
//   - sdk/internal/wire: the wire itself, both ends: conversions between
//     these types and the generated ones, the gRPC servers that call a
//     plugin (serialising calls, answering SaveState for stateless
//     algorithms) and the clients that shape-check every response. Client
//     and server are one piece of code because the conformance suite, on
//     the author's side of the module boundary, needs the client too.
//
// The generated protobuf code stays in
// github.com/pit-lab/pit/plugins/proto, a third, small module (gRPC and
// protobuf only) that both ends require: this module for the plugin side
// and pit's root module for the host side (plugins/host). Keeping it out
// of this module's tree keeps it out of the author's API without making it
// internal, which the host could not import; keeping it out of pit's root
// module keeps the engine out of every plugin. Its import paths are those
// it always had, and the Python SDK generates from the same .proto files.
//
// pit's side lives in pit's module: plugins/host launches, supervises and
// validates plugins and records their identities, plugins/host/registry
// holds the built-ins the pit binary serves (pit plugin serve KIND NAME),
// and plugins/host/hosttest runs a plugin under test in its own process
// for plugintest's process check.
package sdk
