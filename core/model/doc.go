// Package model is what the stages share to build and use models: the
// [model] table of experiment files (Settings, the "transformer" kind) and
// its nn configuration, the model service that reward plugins call back
// (Service), the plugin slots' accessors (RewardPlugin, AlgorithmPlugin,
// CurriculumPlugin), sampling (Sample) and the wire's token converters.
// It knows no task: tasks pass their vocabulary, layouts and scorers in.
package model
