"""Fraud help assistant: knowledge base, hybrid retrieval, grounded answers with citations, triage.

Entry points: :func:`answer` (a question -> :class:`Answer` with citations, or an abstention with
a human hand-off) and :func:`triage` (a customer message -> urgency and sentiment, opening a case
for urgent ones). ``pesaguard ask``, ``pesaguard kb``, ``pesaguard triage`` and
``POST /v1/assistant/ask`` / ``POST /v1/messages/triage`` are thin fronts over these.
"""

from pesaguard.assistant.answering import Answer, Assistant, Citation, answer, get_assistant
from pesaguard.assistant.triage_model import TriageResult, triage

__all__ = ["Answer", "Assistant", "Citation", "TriageResult", "answer", "get_assistant", "triage"]
