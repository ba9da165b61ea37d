"""The HTTP service: FastAPI app factory (:func:`pesaguard.service.app.create_app`), auth, metrics."""
