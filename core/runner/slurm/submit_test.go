package slurm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/runnertest"
)

// fakeSlurm puts an sbatch and an scontrol on PATH that keep their jobs
// in a file: sbatch logs its flags and script and queues an array whose
// tasks stay PENDING; scontrol lists them and logs releases.
func fakeSlurm(t *testing.T) (logDir string) {
	t.Helper()
	bin, logDir := t.TempDir(), t.TempDir()
	sbatch := `#!/bin/sh
d=` + logDir + `
n=$(( $(cat $d/next 2>/dev/null || echo 100) + 1 )); echo $n >$d/next
echo "$*" >$d/sbatch-$n.args
cat >$d/sbatch-$n.sh
tasks=$(echo "$*" | sed -n 's/.*--array=\([^ ]*\).*/\1/p')
echo "JobId=$n ArrayJobId=$n ArrayTaskId=$tasks JobState=PENDING Reason=JobHeldUser ExitCode=0:0" >>$d/jobs
echo "$n;cluster"
`
	scontrol := `#!/bin/sh
d=` + logDir + `
case "$*" in
"show job -o") [ -s $d/jobs ] && cat $d/jobs || echo "No jobs in the system" ;;
release*) echo "$2" >>$d/released ;;
*) exit 9 ;;
esac
`
	for name, src := range map[string]string{"sbatch": sbatch, "scontrol": scontrol} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logDir
}

// testPlan is 2 seeds x 2 learning rates x 2 temperatures of the
// runnertest stages: 2 test-gen, 4 test-train and 8 test-eval instances.
func testPlan() runner.Plan {
	p := runner.Plan{Experiment: "toy"}
	for _, lr := range []float64{0.3, 0.1} {
		for _, tp := range []float64{0.4, 1} {
			for _, seed := range []int64{1, 2} {
				p.Runs = append(p.Runs, runner.RunSpec{
					ID: fmt.Sprintf("lr=%v,temp=%v/seed=%d", lr, tp, seed), Seed: seed, Config: []byte("x = 1\n"),
					Stages: []runner.StageSpec{
						{Name: "test-gen", Settings: &runnertest.GenSettings{Points: 16, Slope: 3}, Config: "gen"},
						{Name: "test-train", Settings: &runnertest.TrainSettings{Steps: 3, LR: lr}, Config: fmt.Sprint("lr=", lr)},
						{Name: "test-eval", Settings: &runnertest.EvalSettings{Temperature: tp}, Config: fmt.Sprint("t=", tp)},
					},
				})
			}
		}
	}
	return p
}

func TestSubmitMapsTheDAG(t *testing.T) {
	logs := fakeSlurm(t)
	ctx := context.Background()
	plan := testPlan()
	dir := t.TempDir()
	opts := runner.Options{Dir: dir, CodeVersion: "test"}
	// One test-gen in the cache already: its trainings do not wait.
	insts, err := runner.Instances(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.ComputeInstance(ctx, plan, opts, insts[0].Stage, insts[0].Key); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Settings: &Settings{Kind: Slurm, Partition: "cpu", MaxConcurrent: 3}, Exe: "/opt/pit bin/pit", JobArgs: []string{"--file", "/x/grid.toml"}}
	sub, err := Submit(ctx, plan, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Instances != 14 || sub.Cached != 1 || sub.Submitted != 13 || sub.Queued != 0 {
		t.Errorf("submission %+v", sub)
	}
	// Arrays, level by level: test-train of seed 1 (its test-gen is
	// cached: no dependency), test-gen of seed 2, then seed 2's trainings
	// after it and one test-eval array (both temperatures) per training.
	args := map[string]string{}
	for _, id := range sub.Jobs {
		b, err := os.ReadFile(filepath.Join(logs, "sbatch-"+id+".args"))
		if err != nil {
			t.Fatal(err)
		}
		args[id] = strings.TrimSpace(string(b))
	}
	var got []string
	for _, id := range sub.Jobs {
		a := args[id]
		name := regexp.MustCompile(`--job-name=pit-toy-(\S+)`).FindStringSubmatch(a)[1]
		arr := regexp.MustCompile(`--array=(\S+)`).FindStringSubmatch(a)[1]
		dep := ""
		if m := regexp.MustCompile(`--dependency=afterok:(\S+) --kill-on-invalid-dep=yes`).FindStringSubmatch(a); m != nil {
			dep = " after " + m[1]
		}
		got = append(got, name+" "+arr+dep)
		for _, want := range []string{"--partition=cpu", "--hold", "--parsable", "--output=" + filepath.Join(dir, ".executor", "slurm", "logs", "%A_%a.out")} {
			if !strings.Contains(a, want) {
				t.Errorf("job %s: %q lacks %s", id, a, want)
			}
		}
		script, _ := os.ReadFile(filepath.Join(logs, "sbatch-"+id+".sh"))
		if !regexp.MustCompile(`(?m)^exec '/opt/pit bin/pit' slurm-job --file /x/grid.toml --tasks /\S+\.tasks$`).Match(script) {
			t.Errorf("job %s script:\n%s", id, script)
		}
	}
	want := "test-train 0-1%3|test-gen 0-0%3|test-eval 0-1%3 after 101_0|test-train 0-1%3 after 102_0|test-eval 0-1%3 after 101_1|test-eval 0-1%3 after 104_0|test-eval 0-1%3 after 104_1"
	if strings.Join(got, "|") != want {
		t.Errorf("arrays:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	released, _ := os.ReadFile(filepath.Join(logs, "released"))
	if strings.Fields(string(released)) == nil || len(strings.Fields(string(released))) != len(sub.Jobs) {
		t.Errorf("released %q, submitted %v", released, sub.Jobs)
	}

	// Every task has a record and a log link in each run that uses it;
	// the manifests are pending, naming their jobs.
	recs, err := Records(dir)
	if err != nil || len(recs) != 13 {
		t.Fatalf("%d records: %v", len(recs), err)
	}
	for _, r := range plan.Runs {
		var m results.Manifest
		if err := results.ReadJSON(filepath.Join(dir, r.ID, results.ManifestFile), &m); err != nil {
			t.Fatal(err)
		}
		if m.Status != results.StatusPending && m.Status != results.StatusRunning || m.Extra["slurm.job.test-eval"] == "" || m.Extra["pid"] != "" {
			t.Errorf("run %s: %s %v", r.ID, m.Status, m.Extra)
		}
		links, _ := filepath.Glob(filepath.Join(dir, r.ID, LogsDir, "*.out"))
		if len(links) < 2 {
			t.Errorf("run %s: log links %v", r.ID, links)
		}
	}

	// Submitting again while the jobs are pending submits nothing.
	sub, err = Submit(ctx, plan, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Submitted != 0 || sub.Queued != 13 {
		t.Errorf("second submission %+v", sub)
	}
	// The fake jobs are still held (as if the first pit had been killed
	// before releasing them): the second submission released them again.
	released, _ = os.ReadFile(filepath.Join(logs, "released"))
	if n := len(strings.Fields(string(released))); n != 14 { // 7 arrays, released twice
		t.Errorf("released after the second submission: %q", released)
	}
}
