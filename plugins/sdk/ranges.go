package sdk

import "github.com/pit-lab/pit/plugins/sdk/table"

// CheckRanges checks the numeric fields of cfg, a config struct (or a
// pointer to one), against their `range` tags and reports every one out of
// range (NaN is out of every range), each as a *table.Error naming its key.
// A tag is a bound or an interval:
//
//	range:">= 0"    // key "kl_coef": expected a number ≥ 0 (got -1)
//	range:"> 0"     // key "clip_range": expected a number > 0 (got 0)
//	range:"[0, 1]"  // key "gamma": expected a number in [0, 1] (got 2)
//	range:"[0, 1)"  // either end may be open: ( or ), or closed: [ or ]
//
// Configurable checks ranges before its Validate; a plugin that decodes
// with DecodeConfig by hand calls CheckRanges itself. A malformed tag is a
// programming error and panics. The experiment loader applies the same
// tags to experiment settings (table.CheckRanges).
func CheckRanges(cfg any) error { return table.CheckRanges(cfg) }
