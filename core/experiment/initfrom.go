package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// initKey is the stage-table key that says where a training stage's model
// starts (StageKind.InitFrom).
const initKey = "init_from"

// checkInit resolves and checks every stage's init_from: a stage of the
// same run (not the stage itself, and not one that would make a cycle is
// left to the runner's cycle check), "scratch", or an existing checkpoint
// file whose shape the stage kind's CheckInit accepts. A relative file is
// taken from the experiment file's directory.
// Stages that failed to decode are still known by name (from tree), so
// that naming one is not reported as a second mistake.
func (l *loader) checkInit(cfg *Config, stages []Stage, tree map[string]any) []problem {
	var probs []problem
	all, _ := tree["stages"].(map[string]any)
	names := l.fileOrder("stages", all)
	byName := map[string]bool{}
	for _, name := range names {
		byName[name] = true
	}
	for i := range stages {
		st := &stages[i]
		sk := l.reg.stages[st.Kind]
		if sk.InitFrom == "" {
			continue
		}
		key := joinKey(joinKey("stages", st.Name), initKey)
		src := st.InitFrom
		switch {
		case src == InitScratch || src == "":
			continue
		case src == st.Name:
			probs = append(probs, problem{key: key, msg: fmt.Sprintf("a stage cannot start from its own model (got %q); name another stage, %q or a checkpoint file", src, InitScratch)})
			continue
		case byName[src]:
			if k := kindOf(stages, src); k != "" && !l.reg.stages[k].Model {
				probs = append(probs, problem{key: key, msg: fmt.Sprintf("stage %q (kind %s) saves no model to start from; name a stage that trains one, %q or a checkpoint file", src, k, InitScratch)})
			}
			continue
		}
		path := src
		if !filepath.IsAbs(path) {
			path = filepath.Join(l.dir, path)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.IsDir() {
			what := fmt.Sprintf("no stage named %q in this experiment (stages: %s) and no checkpoint file %q (relative paths from the experiment file's directory)", src, strings.Join(names, ", "), src)
			if err == nil {
				what = fmt.Sprintf("%q is a directory, not a checkpoint file", src)
			}
			if sk.InitFrom == src {
				what += fmt.Sprintf(" (init_from defaults to %q for a %s stage: add [stages.%s] or set init_from = %q)", src, st.Kind, src, InitScratch)
			} else if c := table.Closest(src, names); c != "" {
				what += fmt.Sprintf("; did you mean %q?", c)
			}
			probs = append(probs, problem{key: key, msg: what})
			continue
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			probs = append(probs, problem{key: key, msg: err.Error()})
			continue
		}
		if sk.CheckInit != nil && cfg.Task.Settings != nil {
			var model any
			if cfg.Model != nil {
				model = cfg.Model.Settings
			}
			if err := sk.CheckInit(abs, cfg.Task.Settings, model); err != nil {
				probs = append(probs, problem{key: key, msg: fmt.Sprintf("checkpoint %q cannot initialise this stage's model: %v", src, err)})
				continue
			}
		}
		st.InitPath = abs
	}
	return probs
}

func kindOf(stages []Stage, name string) string {
	for _, st := range stages {
		if st.Name == name {
			return st.Kind
		}
	}
	return ""
}
