"""Studies: one params file per study, switched in one documented step.

- :mod:`alphalab.studies.switch`: copy ``studies/<name>/params.yaml`` into place (validated,
  previous params saved) and switch back to the default study.
- :mod:`alphalab.studies.cnoi`: the CNOI file (bank disclosure opacity) read cell for cell,
  its pre-flight checks and the signal file the pipeline reads.
- :mod:`alphalab.studies.prices`: prices and benchmark for a file-signal study (yfinance
  snapshots or the user's exports).
- :mod:`alphalab.studies.prepare`: ``alphalab study use cnoi --cnoi PATH`` end to end.
- :mod:`alphalab.studies.cli`: the ``alphalab study`` command (``main(argv) -> int``).
"""

from __future__ import annotations

from alphalab.studies.switch import (
    StudyError,
    SwitchResult,
    available_studies,
    current_study,
    use_default,
    use_study_file,
)

__all__ = [
    "StudyError",
    "SwitchResult",
    "available_studies",
    "current_study",
    "use_default",
    "use_study_file",
]
