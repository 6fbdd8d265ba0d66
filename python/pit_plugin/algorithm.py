"""The base class of RL algorithms written in Python."""

from .types import Knobs

__all__ = ["Algorithm"]


class Algorithm:
    """An RL algorithm: it turns rollouts into per-token advantages and
    returns and sets the knobs of the one clipped policy-gradient loss the
    host computes. Subclasses set the class attributes and override knobs
    and advantages (and configure, observe, save_state and restore_state as
    they need).

    Attributes:
        name, version, summary: who the plugin is.
        config: list of pit_plugin.Field.

    Algorithms are stateful to the host (an adaptive KL controller, say):
    save_state() -> bytes and restore_state(bytes) carry that state across
    checkpoints and crashes. The defaults keep no state.
    """

    kind = "algorithm"
    name = ""
    version = ""
    summary = ""
    config = []

    def configure(self, cfg, seed):
        """Receives the decoded config and the run's seed. Raise
        pit_plugin.ConfigError to reject values."""

    def knobs(self):
        """Returns the current pit_plugin.Knobs. The host asks before it
        generates and after observe."""
        return Knobs()

    def advantages(self, req):
        """Computes advantages and returns for a pit_plugin.AdvantagesRequest;
        returns pit_plugin.AdvantagesResponse."""
        raise NotImplementedError(f"{self.name}: advantages is not implemented")

    def observe(self, step, stats):
        """Receives statistics of a finished training step (e.g. "kl")."""

    def save_state(self):
        """Returns the plugin's state as bytes."""
        return b""

    def restore_state(self, state):
        """Restores a state save_state returned. The default keeps no state
        and so accepts only an empty one."""
        if state:
            raise ValueError(f"{self.name} keeps no state, got {len(state)} bytes to restore")
