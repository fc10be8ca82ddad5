"""Continual learning after launch (`tuneforge retrain`): each round turns the served model's feedback into a
challenger trained from the champion without forgetting, gates it against the champion on the same rows, and
registers it as the model's next version, promoted only when the gate passes.

Modules: round.py (the steps and their resume), plan.py (the round's data), rows.py (new rows, split, replay),
state.py (what a version keeps for the next round), feedback.py (the serve store or a file), training.py and
strategies.py (replay, EWC, LwF, a grown head), scoring.py and gate.py (the decision).
"""

from tuneforge.continual.round import RoundOutcome, retrain

__all__ = ["RoundOutcome", "retrain"]
