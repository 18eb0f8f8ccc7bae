"""Closed-loop experiments: a session an outside responder drives (ask stimuli, tell responses),
a simulated noisy neuron to drive it, and a folder protocol for a presentation program in
another process or language."""
from mango_widgets.studies.closed_loop.file_adapter import FileAdapter
from mango_widgets.studies.closed_loop.journal import JournalError
from mango_widgets.studies.closed_loop.responder import NoisyResponder
from mango_widgets.studies.closed_loop.session import ClosedLoopSession, StimulusBatch, TellReport

__all__ = ["ClosedLoopSession", "FileAdapter", "JournalError", "NoisyResponder", "StimulusBatch", "TellReport"]
