"""The values plugins receive and return (token ids are lists of ints;
per-token batches are lists of rows)."""

__all__ = ["Input", "Pair", "Comparison", "Comparisons", "Score",
           "KL_K1", "KL_K3", "Knobs", "AdvantagesRequest", "AdvantagesResponse",
           "SOURCE_DATA_REJECTED", "SOURCE_DATA_CHOSEN", "SOURCE_POLICY", "SOURCE_SELF", "SOURCES",
           "NextRequest", "NextResponse"]


class Input:
    """Response y to prompt x, judged against reference y_ref (empty when
    the formulation is not reference-conditioned)."""

    __slots__ = ("prompt", "reference", "response")

    def __init__(self, prompt=(), reference=(), response=()):
        self.prompt = list(prompt)
        self.reference = list(reference)
        self.response = list(response)

    def __repr__(self):
        return f"Input(prompt={self.prompt}, reference={self.reference}, response={self.response})"


class Pair:
    """A preference pair: chosen ≻ rejected for prompt."""

    __slots__ = ("prompt", "chosen", "rejected")

    def __init__(self, prompt, chosen, rejected):
        self.prompt = list(prompt)
        self.chosen = list(chosen)
        self.rejected = list(rejected)


class Comparison:
    """inputs[better] should score above inputs[worse] (by margin, with
    weight; weight 0 means 1 to the host)."""

    __slots__ = ("better", "worse", "margin", "weight")

    def __init__(self, better, worse, margin=0.0, weight=0.0):
        self.better = int(better)
        self.worse = int(worse)
        self.margin = float(margin)
        self.weight = float(weight)


class Comparisons:
    """What comparisons() returns: the inputs the learned model scores, the
    comparisons between them, and optionally per input the pair it came from
    and a tag."""

    def __init__(self, inputs=(), comparisons=(), pair=(), tag=()):
        self.inputs = list(inputs)
        self.comparisons = list(comparisons)
        self.pair = [int(p) for p in pair]
        self.tag = [str(t) for t in tag]


class Score:
    """What score() returns: one reward per item, and named components (one
    value per item each) for logging."""

    def __init__(self, rewards, components=None):
        self.rewards = [float(r) for r in rewards]
        self.components = {k: [float(x) for x in v] for k, v in (components or {}).items()}


# --- RL algorithms ---------------------------------------------------------

KL_K1 = "k1"  # log π − log π_ref
KL_K3 = "k3"  # exp(log π_ref − log π) − 1 − (log π_ref − log π)


class Knobs:
    """The settings of the host's clipped policy-gradient loss and of
    rollout generation (plugins/sdk.Knobs):

        clip_range: PPO ratio clip ε (0 turns clipping off)
        value_coef, value_clip: value loss weight (0: no critic) and clip
        kl_coef: β; kl_in_loss: β·KL is a loss term (GRPO), else in the reward
        kl_estimator: KL_K1 or KL_K3
        entropy_coef; epochs: optimisation passes over each batch (≥ 1)
        samples_per_prompt: k responses per prompt, one group id each
        greedy_baseline: ask for the greedy decode's reward (ReMax)
    """

    __slots__ = ("clip_range", "value_coef", "value_clip", "kl_coef", "kl_in_loss", "kl_estimator",
                 "entropy_coef", "epochs", "samples_per_prompt", "greedy_baseline")

    def __init__(self, clip_range=0.2, value_coef=0.0, value_clip=0.0, kl_coef=0.0, kl_in_loss=False,
                 kl_estimator=KL_K1, entropy_coef=0.0, epochs=1, samples_per_prompt=1,
                 greedy_baseline=False):
        self.clip_range = float(clip_range)
        self.value_coef = float(value_coef)
        self.value_clip = float(value_clip)
        self.kl_coef = float(kl_coef)
        self.kl_in_loss = bool(kl_in_loss)
        self.kl_estimator = str(kl_estimator)
        self.entropy_coef = float(entropy_coef)
        self.epochs = int(epochs)
        self.samples_per_prompt = int(samples_per_prompt)
        self.greedy_baseline = bool(greedy_baseline)

    def __repr__(self):
        return "Knobs(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


class AdvantagesRequest:
    """A batch of B rollouts, each padded to T tokens. Every per-token field
    is a list of B lists of T floats; mask is 1.0 on response tokens.

        step; logprobs, ref_logprobs, mask; values (None without a critic);
        rewards: per sequence; groups: per sequence, rollouts of one prompt
        share an id; greedy_rewards: per sequence, only with greedy_baseline.
    """

    __slots__ = ("step", "logprobs", "ref_logprobs", "values", "mask", "rewards", "groups",
                 "greedy_rewards")

    def __init__(self, step=0, logprobs=(), ref_logprobs=(), values=None, mask=(), rewards=(),
                 groups=(), greedy_rewards=()):
        self.step = int(step)
        self.logprobs = [list(r) for r in logprobs]
        self.ref_logprobs = [list(r) for r in ref_logprobs]
        self.values = None if values is None else [list(r) for r in values]
        self.mask = [list(r) for r in mask]
        self.rewards = list(rewards)
        self.groups = list(groups)
        self.greedy_rewards = list(greedy_rewards)


class AdvantagesResponse:
    """Per-token advantages and returns (B lists of T floats, zero where the
    mask is zero), the knobs for this batch and statistics the host logs."""

    def __init__(self, advantages, returns, knobs, stats=None):
        self.advantages = [[float(x) for x in r] for r in advantages]
        self.returns = [[float(x) for x in r] for r in returns]
        self.knobs = knobs
        self.stats = {str(k): float(v) for k, v in (stats or {}).items()}


# --- curricula -------------------------------------------------------------

# Where a reference y_ref comes from (plugins/sdk.Source).
SOURCE_DATA_REJECTED = "data_rejected"  # y_l of a data pair
SOURCE_DATA_CHOSEN = "data_chosen"      # y_w of a data pair
SOURCE_POLICY = "policy"                # a sample of the RLHF policy
SOURCE_SELF = "self"                    # the improver's own earlier output
SOURCES = (SOURCE_DATA_REJECTED, SOURCE_DATA_CHOSEN, SOURCE_POLICY, SOURCE_SELF)


class NextRequest:
    """Asks for the plan of one step: step (0-based), total_steps,
    batch_size (references needed) and stats."""

    __slots__ = ("step", "total_steps", "batch_size", "stats")

    def __init__(self, step=0, total_steps=0, batch_size=0, stats=None):
        self.step = int(step)
        self.total_steps = int(total_steps)
        self.batch_size = int(batch_size)
        self.stats = dict(stats or {})


class NextResponse:
    """One step's plan: either counts (exact numbers of references per
    source, summing to batch_size) or probs (per source, summing to 1,
    sampled by the host with its seeded stream); round, a phase label, and
    refresh_reward to have the reward model refreshed before the step."""

    def __init__(self, counts=None, probs=None, round=0, phase="", refresh_reward=False):
        self.counts = {str(k): int(v) for k, v in (counts or {}).items()}
        self.probs = {str(k): float(v) for k, v in (probs or {}).items()}
        self.round = int(round)
        self.phase = str(phase)
        self.refresh_reward = bool(refresh_reward)
