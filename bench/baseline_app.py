"""The usual FastAPI + SQLModel endpoint, as the tutorial and the full-stack template write it.

A sync `def` route, a `Session` dependency, `select(...).where(...).limit(...)` and a
`response_model`: the reference our service is measured against, on the same database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query
from sqlmodel import Session, SQLModel, col, select

from app.config import get_settings
from app.db import make_engine
from app.models import AIModel

engine = make_engine(get_settings())
app = FastAPI(title="baseline")


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


class ModelRead(SQLModel):
    id: str
    name: str
    aliases: list[str]
    developer_id: str | None
    parameters: int | None
    active_parameters: int | None
    open_weights: bool | None
    reasoning: bool | None
    release_date: dt.date | None
    release_date_precision: str | None
    license: str | None
    description: str | None
    disputed: bool


@app.get("/v1/models", response_model=list[ModelRead])
def list_models(
    session: SessionDep,
    developer_id: str | None = None,
    open_weights: bool | None = None,
    limit: Annotated[int, Query(le=500)] = 50,
) -> list[AIModel]:
    statement = select(AIModel)
    if developer_id is not None:
        statement = statement.where(AIModel.developer_id == developer_id)
    if open_weights is not None:
        statement = statement.where(AIModel.open_weights == open_weights)
    return list(session.exec(statement.order_by(col(AIModel.name), col(AIModel.id)).limit(limit)))


@app.get("/v1/models/{model_id}", response_model=ModelRead)
def get_model(session: SessionDep, model_id: str) -> AIModel:
    model = session.get(AIModel, model_id)
    if model is None:
        raise HTTPException(status_code=404, detail="Model not found")
    return model


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
