"""Closed-loop experiments: a session an outside responder drives (ask stimuli, tell responses),
a simulated noisy neuron to drive it, and a folder protocol for a presentation program in
another process or language."""
from .file_adapter import FileAdapter
from .journal import JournalError
from .responder import NoisyResponder
from .session import ClosedLoopSession, StimulusBatch, TellReport

__all__ = ["ClosedLoopSession", "FileAdapter", "JournalError", "NoisyResponder", "StimulusBatch", "TellReport"]
