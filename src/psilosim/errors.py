"""Exceptions that psilosim raises on purpose.

Every error a user can cause by a bad input is an :class:`InputError` that names the offending
field and says what was expected. The command line turns these into one line on stderr and a
non-zero exit code, never a traceback.
"""


class PsilosimError(Exception):
    """Base class for all errors that psilosim raises deliberately."""


class InputError(PsilosimError, ValueError):
    """A user-supplied value is invalid.

    Parameters
    ----------
    field
        Dotted name of the offending input (``"regimen.phases.0.dose"``, ``"--weight"``, a file path).
    problem
        What is wrong and what is expected, as a sentence fragment.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def __reduce__(self):
        # Rebuilt from its two arguments (the default would pass the one message string), so the
        # error crosses a process boundary intact, e.g. from a Dask worker.
        return (type(self), (self.field, self.problem))


class DataError(PsilosimError):
    """A dataset (connectome, BOLD, region table) is malformed or inconsistent."""


class CalibrationError(PsilosimError, RuntimeError):
    """A calibration target cannot be reached within the parameter's search range.

    The conflict is reported, never forced: the message names the parameter, the range and the
    misfit at its ends. (A ``RuntimeError`` too, so callers that caught the earlier plain
    ``RuntimeError`` keep working.)
    """


class PsilosimWarning(UserWarning):
    """Base class of the warnings psilosim gives deliberately (the command line shows them in one line)."""


class ExtrapolationWarning(PsilosimWarning):
    """An input lies outside the data the model's parameters come from (e.g. a dose above the
    largest studied one): the run goes ahead, but the model is extrapolating."""


class WorkingPointWarning(PsilosimWarning):
    """A network simulation ran away from the working point its parameters were set for (e.g. the
    DMF's mean firing rate far from the feedback-inhibition target): the run goes ahead, but its
    results describe another regime than the one the model was fitted in."""


class CoarseOutputStepWarning(PsilosimWarning):
    """The output step of an acute simulation (``dt_h`` of :func:`psilosim.binding.simulate_acute`)
    is too coarse for the peaks and durations read from its output: the values at the output times
    are exact, but a maximum or a time above threshold taken from them is a sample that misses the
    peak."""


class DataWarning(PsilosimWarning):
    """A dataset was read, but in a way its author may not have meant (e.g. a receptor table
    without labels, matched to the regions by row position)."""


class RerunChangedWarning(PsilosimWarning):
    """A run re-run from its provenance record uses parameter values (or a psilosim version) other
    than those the record saved: the re-run goes ahead under the current model, but its numbers
    need not be the recorded run's."""
