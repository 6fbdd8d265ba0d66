"""The base class of reward formulations written in Python."""

from .config import ConfigError

__all__ = ["Reward"]


class Reward:
    """A reward formulation. Subclasses set the class attributes and
    override comparisons and score (and configure to read their config).

    Attributes:
        name, version, summary: who the plugin is (name: no spaces or slashes).
        needs_learned_model: the host trains a model on comparisons() and
            offers it as models.score("reward", ...).
        reference_conditioned: score() judges y against a reference y_ref.
        config: list of pit_plugin.Field, the keys of the plugin's table in
            the experiment file.

    A stateful plugin also defines save_state() -> bytes and
    restore_state(bytes); the host saves the state with checkpoints and
    restores it after a crash.
    """

    kind = "reward"
    name = ""
    version = ""
    summary = ""
    needs_learned_model = False
    reference_conditioned = False
    config = []

    def configure(self, cfg, seed):
        """Receives the decoded config (every key, defaults filled in) and
        the run's seed. Raise pit_plugin.ConfigError to reject values."""

    def comparisons(self, pairs):
        """Turns preference pairs into the comparisons that train the
        learned model; returns pit_plugin.Comparisons."""
        if self.needs_learned_model:
            raise NotImplementedError(f"{self.name}: comparisons is not implemented")
        from .types import Comparisons
        return Comparisons()

    def score(self, items, models):
        """Scores a batch of pit_plugin.Input; models is the host's
        ModelService. Returns pit_plugin.Score."""
        raise NotImplementedError(f"{self.name}: score is not implemented")


# Re-exported for plugin code that raises it from configure.
Reward.ConfigError = ConfigError
