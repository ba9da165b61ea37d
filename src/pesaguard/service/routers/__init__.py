"""One ``APIRouter`` named ``router`` per area; :func:`pesaguard.service.app.create_app` includes them."""
