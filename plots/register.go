package plots

import "github.com/pit-lab/pit/core/experiment"

// SectionName is the experiment-file key of declared figures: an array of
// [[plot]] tables, each decoded into a Spec.
const SectionName = "plot"

// NewSection returns the settings of the [[plot]] section for the
// experiment parser: a pointer to an empty list of specs.
func NewSection() any { return &[]Spec{} }

// Register the [[plot]] section with the experiment parser, so experiment
// files may declare figures and have them validated with every other
// setting before any run starts.
func init() {
	experiment.RegisterSection(SectionName, NewSection)
}

// DeclaredSpecs returns the specs of an experiment's [[plot]] tables, or nil
// when it declares none.
func DeclaredSpecs(cfg *experiment.Config) []Spec {
	if cfg == nil {
		return nil
	}
	if p, ok := cfg.Sections[SectionName].(*[]Spec); ok && p != nil {
		return *p
	}
	return nil
}
