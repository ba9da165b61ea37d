"""API key management (admin only). The key itself is returned once, at creation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.errors import NotFoundError
from pesaguard.service.auth import Principal, Role, create_key
from pesaguard.service.deps import get_store, require_role
from pesaguard.service.types import Clean
from pesaguard.store import Store
from pesaguard.store import access as repo

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: Annotated[str | None, Field(default=None, max_length=200), Clean]


class KeyCreated(BaseModel):
    key: str = Field(description="The API key; it is not stored and cannot be shown again.")
    role: Role


class KeyInfo(BaseModel):
    key_id: str
    role: Role
    name: str | None
    created_ms: int
    revoked_ms: int | None


@router.post("", response_model=KeyCreated, status_code=201, summary="Create an API key")
def create(body: KeyCreate, store: Store = Depends(get_store),
           _: Principal = Depends(require_role("admin"))) -> dict[str, Any]:
    return {"key": create_key(store, body.role, body.name), "role": body.role}


@router.get("", response_model=list[KeyInfo], summary="List API keys (never the keys themselves)")
def list_keys(store: Store = Depends(get_store), _: Principal = Depends(require_role("admin"))) -> Any:
    return repo.list_api_keys(store)


@router.delete("/{key_id}", status_code=204,
               summary="Revoke an API key (at once in this process, and its console sessions end; other "
                       "service processes stop accepting it within 30 s)")
def revoke(key_id: str, request: Request, store: Store = Depends(get_store),
           _: Principal = Depends(require_role("admin"))) -> None:
    if repo.revoke_api_key(store, key_id) == 0:
        raise NotFoundError(f"no live API key with id {key_id!r}", field="key_id",
                            hint="list keys with GET /v1/keys")
    request.app.state.key_verifier.forget(key_id)
