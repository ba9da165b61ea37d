"""The analyst web console: server-rendered Jinja2 pages with htmx (vendored; no JavaScript build).

Mounted by :func:`pesaguard.service.app.create_app` under ``/console``. It holds no business logic:
pages read through :mod:`pesaguard.store.cases` and act through :mod:`pesaguard.decisions.cases`.
"""
