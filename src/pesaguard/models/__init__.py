"""Scoring models: training, honest (prequential, delay-aware) evaluation, calibration, thresholds,
reason codes, model cards and the MLflow registry.

The scoring path (:class:`~pesaguard.models.scorer.Scorer`) imports neither MLflow nor torch;
import submodules directly (``from pesaguard.models.scorer import Scorer``) to keep start-up fast.
"""
