"""The HTTP API of a served model (FastAPI; OpenAPI docs at ``/docs``, schema at ``/openapi.json``).

- ``GET /health``: up, and which model/format;
- ``GET /metadata``: model card fields (run, kind, format, masked name and metrics, the card);
- ``POST /predict``: ``{"input": x}`` or ``{"inputs": [x, ...]}`` (at most ``MAX_BATCH``);
- ``POST /explain``: ``{"input": x, "method": optional}``, cached in the run's history as the
  dashboard's explanations are; a bundle explains with its own model folder, cached in Loupe's
  cache folder (``core.explain.explain_folder``).

The body is read and checked here, not by a generated model, so every bad request gets a 4xx
whose ``detail`` names the field and the fix: a body over ``max_body`` bytes (413, checked while
it streams in), not UTF-8 or not JSON (400), missing or wrongly typed fields (422). Predictions
go through one worker thread that owns the model and can group concurrent requests into one call
(``core.deploy.batching``, ``--max-batch``); each request's rows are masked on their own, in the
request's own thread.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.deploy.service import MAX_BATCH, ModelService, answer_rows
from core.errors import LoupeError

MAX_BODY = 2_000_000  # bytes; an image request is base64 (4/3 of the file)

_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object",
    "properties": {"input": {"description": "one input: a text, an object of column -> value, or "
                                            "a base64 image, by the model's kind"},
                   "inputs": {"type": "array", "maxItems": MAX_BATCH, "description": "a batch of inputs"},
                   "method": {"type": "string", "description": "/explain only: the explanation method"}},
}}}}}


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse a body over ``limit`` bytes with 413, by header or while reading."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await _send_413(send, self.limit)
        seen = 0
        started = False

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def watch(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except _TooLarge:
            if not started:
                await _send_413(send, self.limit)


async def _send_413(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"The request body is over {limit:,} bytes.",
                       "fix": "send fewer or smaller inputs per request."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _problem(status: int, exc: LoupeError | str, fix: str = "") -> JSONResponse:
    from core.output import mask_message

    detail, fix = (exc.problem, exc.fix or "") if isinstance(exc, LoupeError) else (exc, fix)
    return JSONResponse({"detail": mask_message(detail), "fix": mask_message(fix)}, status_code=status)


async def _json_body(request: Any) -> Any:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadBody(f"The request body is not UTF-8 (byte {exc.start}).",
                       "send JSON encoded as UTF-8.") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _BadBody(f"The request body is not JSON ({exc}).",
                       'send e.g. {"input": ...} with Content-Type: application/json.') from exc


class _BadBody(LoupeError):
    pass


def create_app(service: ModelService, max_body: int = MAX_BODY) -> FastAPI:
    app = FastAPI(title=f"Loupe model — {service.kind} ({service.fmt})",
                  description="Predictions and explanations of one Loupe model. Returned texts are "
                              "masked as in the Loupe dashboard.", version="1")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "task": service.kind, "format": service.fmt,
                "run_id": service.metadata.get("run_id")}

    @app.get("/metadata")
    def metadata() -> dict[str, Any]:
        return service.metadata

    @app.post("/predict", openapi_extra=_BODY_DOC)
    async def predict(request: Request) -> Any:
        try:
            inputs, batch = service.parse_inputs(await _json_body(request))
        except _BadBody as exc:
            return _problem(400, exc)
        except LoupeError as exc:
            return _problem(422, exc)
        try:
            frame = await asyncio.wrap_future(service.batcher.submit(inputs))
            rows = await run_in_threadpool(answer_rows, frame)  # masking overlaps the next call
        except LoupeError as exc:  # e.g. a table without a column the model needs
            return _problem(422, exc)
        return {"predictions": rows} if batch else {"prediction": rows[0]}

    @app.post("/explain", openapi_extra=_BODY_DOC)
    async def explain(request: Request) -> Any:
        try:
            body = await _json_body(request)
        except _BadBody as exc:
            return _problem(400, exc)
        if not isinstance(body, dict) or "input" not in body:
            return _problem(422, "The request needs the field 'input'.", 'send {"input": ...}.')
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            return _problem(422, "The field 'method' must be a text.", 'e.g. "shap".')
        try:
            return await run_in_threadpool(service.explain, body["input"], method)
        except LoupeError as exc:
            return _problem(422 if service.can_explain else 501, exc)

    app.add_middleware(BodyLimit, limit=max_body)
    return app


def serve(service: ModelService, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")
