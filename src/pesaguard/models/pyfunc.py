"""The MLflow pyfunc form of a pesaguard model, so ``mlflow models serve`` can serve it.

Contract: ``predict`` takes a DataFrame of *feature* columns (the model's ``feature_names``; missing
columns are NaN) and returns a DataFrame with ``score`` (calibrated probability). Features need
account history, which a stateless server does not have; pesaguard's own service uses
:class:`~pesaguard.models.scorer.Scorer` with a live feature engine instead. Imported only by the
registry, never on the scoring path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from pesaguard.models.bundle import ModelBundle, load_bundle, predict_matrix


class PesaguardModel(PythonModel):
    """Loads the bundle artifact; scores feature rows."""

    bundle: ModelBundle | None = None

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts["bundle"]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if self.bundle is None:
            self.load_context(context)
        assert self.bundle is not None
        x = model_input.reindex(columns=self.bundle.feature_names).to_numpy(dtype=np.float64)
        return pd.DataFrame({"score": predict_matrix(self.bundle, x)}, index=model_input.index)


# "Models from code": MLflow loads this file to get the model object, so nothing is pickled.
set_model(PesaguardModel())
