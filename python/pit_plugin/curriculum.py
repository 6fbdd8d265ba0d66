"""The base class of curriculum strategies written in Python."""

__all__ = ["Curriculum"]


class Curriculum:
    """A curriculum strategy for the improver's RL stage: each step it
    decides where the references y_ref come from. Subclasses set the class
    attributes and override next (and configure, observe, save_state and
    restore_state as they need).

    Attributes:
        name, version, summary: who the plugin is.
        config: list of pit_plugin.Field.

    Curricula are stateful to the host: save_state() -> bytes and
    restore_state(bytes) carry their state across checkpoints and crashes.
    The defaults keep no state.
    """

    kind = "curriculum"
    name = ""
    version = ""
    summary = ""
    config = []

    def configure(self, cfg, seed):
        """Receives the decoded config and the run's seed. Raise
        pit_plugin.ConfigError to reject values."""

    def next(self, req):
        """Plans one step of a pit_plugin.NextRequest; returns
        pit_plugin.NextResponse."""
        raise NotImplementedError(f"{self.name}: next is not implemented")

    def observe(self, step, stats):
        """Receives metrics of a finished step (e.g. "reward",
        "oracle_gain")."""

    def save_state(self):
        """Returns the plugin's state as bytes."""
        return b""

    def restore_state(self, state):
        """Restores a state save_state returned. The default keeps no state
        and so accepts only an empty one."""
        if state:
            raise ValueError(f"{self.name} keeps no state, got {len(state)} bytes to restore")
