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
// decoded with [DecodeConfig]: unknown keys and wrong types are errors).
// Stateful plugins implement [Stateful] so their state travels with the
// host's checkpoints.
//
// A plugin's main function is one call:
//
//	func main() { serve.Run(&myReward{}) }
//
// Built-in plugins register a factory with [RegisterBuiltin] from an init
// function and are served by the pit binary itself ("pit plugin serve KIND
// NAME"), still each in its own process.
//
// Package plugintest holds an in-process harness and the conformance suite
// every plugin must pass.
package sdk
