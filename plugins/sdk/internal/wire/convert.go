package wire

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	pluginv1 "github.com/pit-lab/pit/plugins/proto/pit/plugin/v1"
	rewardv1 "github.com/pit-lab/pit/plugins/proto/pit/reward/v1"
	"github.com/pit-lab/pit/plugins/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Conversions between the SDK's Go types and the generated wire types.

func descToProto(d *sdk.Description) (*pluginv1.Description, error) {
	out := &pluginv1.Description{
		Name:                 d.Name,
		Version:              d.Version,
		Kind:                 string(d.Kind),
		Summary:              d.Summary,
		Capabilities:         d.Capabilities,
		NeedsLearnedModel:    d.NeedsLearnedModel,
		ReferenceConditioned: d.ReferenceConditioned,
	}
	for _, f := range d.Config {
		pf := &pluginv1.ConfigField{Name: f.Name, Type: f.Type, Doc: f.Doc}
		if f.Default != nil {
			v, err := structpb.NewValue(plainAny(f.Default))
			if err != nil {
				return nil, fmt.Errorf("default of config key %q: %w", f.Name, err)
			}
			pf.Default = v
		}
		out.Config = append(out.Config, pf)
	}
	return out, nil
}

func descFromProto(p *pluginv1.Description) *sdk.Description {
	d := &sdk.Description{
		Name:                 p.GetName(),
		Version:              p.GetVersion(),
		Kind:                 sdk.Kind(p.GetKind()),
		Summary:              p.GetSummary(),
		Capabilities:         p.GetCapabilities(),
		NeedsLearnedModel:    p.GetNeedsLearnedModel(),
		ReferenceConditioned: p.GetReferenceConditioned(),
	}
	for _, f := range p.GetConfig() {
		cf := sdk.ConfigField{Name: f.GetName(), Type: f.GetType(), Doc: f.GetDoc()}
		if f.Default != nil {
			cf.Default = f.Default.AsInterface()
		}
		d.Config = append(d.Config, cf)
	}
	return d
}

// configToProto encodes a config table. Numbers travel as doubles.
func configToProto(cfg map[string]any) (*structpb.Struct, error) {
	if cfg == nil {
		return nil, nil
	}
	m, _ := plainAny(cfg).(map[string]any)
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return s, nil
}

// plainAny converts what a TOML decoder produces (typed slices, slices of
// tables, times) into the plain values structpb accepts.
func plainAny(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int64, int, float32, int32, uint32, uint64:
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainAny(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainAny(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = plainAny(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = plainAny(iter.Value().Interface())
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16:
		return int64(rv.Uint())
	}
	return fmt.Sprint(v)
}

func configErrorsToProto(err error) *pluginv1.ConfigureResponse {
	resp := &pluginv1.ConfigureResponse{}
	for _, e := range sdk.SplitErrors(err) {
		resp.Errors = append(resp.Errors, e.Error())
	}
	return resp
}

func configErrorsFromProto(resp *pluginv1.ConfigureResponse) error {
	var errs []error
	for _, m := range resp.GetErrors() {
		errs = append(errs, errors.New(m))
	}
	return errors.Join(errs...)
}

// remoteError turns a gRPC error from the other side into a plain error
// carrying the remote message; transport failures keep their code.
func remoteError(method string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", method, err)
	}
	switch st.Code() {
	case codes.Unknown:
		return fmt.Errorf("%s: %s", method, st.Message())
	case codes.Unimplemented:
		return fmt.Errorf("%s: not implemented by the plugin: %s", method, st.Message())
	}
	return fmt.Errorf("%s: %w", method, err)
}

func inputsToProto(in []sdk.Input) []*rewardv1.Input {
	out := make([]*rewardv1.Input, len(in))
	for i, x := range in {
		out[i] = &rewardv1.Input{Prompt: x.Prompt, Reference: x.Reference, Response: x.Response}
	}
	return out
}

func inputsFromProto(in []*rewardv1.Input) []sdk.Input {
	out := make([]sdk.Input, len(in))
	for i, x := range in {
		out[i] = sdk.Input{Prompt: x.GetPrompt(), Reference: x.GetReference(), Response: x.GetResponse()}
	}
	return out
}

func pairsToProto(in []sdk.Pair) []*rewardv1.Pair {
	out := make([]*rewardv1.Pair, len(in))
	for i, x := range in {
		out[i] = &rewardv1.Pair{Prompt: x.Prompt, Chosen: x.Chosen, Rejected: x.Rejected}
	}
	return out
}

func pairsFromProto(in []*rewardv1.Pair) []sdk.Pair {
	out := make([]sdk.Pair, len(in))
	for i, x := range in {
		out[i] = sdk.Pair{Prompt: x.GetPrompt(), Chosen: x.GetChosen(), Rejected: x.GetRejected()}
	}
	return out
}

func intsToInt32(in []int) []int32 {
	if in == nil {
		return nil
	}
	out := make([]int32, len(in))
	for i, v := range in {
		out[i] = int32(v)
	}
	return out
}

func int32sToInt(in []int32) []int {
	if len(in) == 0 {
		return nil
	}
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = int(v)
	}
	return out
}
