"""The values a reward plugin receives and returns (token ids are lists of
ints)."""

__all__ = ["Input", "Pair", "Comparison", "Comparisons", "Score"]


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
