"""`loupe serve-model RUN_ID [--format original|onnx|onnx-int8] [--port 8000] [--max-batch N]` or
`loupe serve-model --bundle DIR`: a local REST API for one model (see ``core.deploy.server``)."""

from __future__ import annotations

import argparse
from typing import Any

FORMAT_CHOICES = ("original", "onnx", "onnx-int8")


def add_parsers(sub: Any) -> None:
    s = sub.add_parser(
        "serve-model", help="serve one model over HTTP (/predict, /explain, /health, /metadata)",
        description="Start a local REST API for a run's model (or a deploy bundle folder). OpenAPI "
                    "docs at /docs. Returned texts are masked as in the dashboard.")
    s.add_argument("run_id", nargs="?", help="the run to serve (an id prefix is enough)")
    s.add_argument("--bundle", help="serve a deploy bundle folder instead (`loupe export --format onnx`); "
                                    "no Loupe history needed")
    s.add_argument("--explain-cache", help="with --bundle: folder for cached explanations (default: "
                                           "bundle-explanations/ in Loupe's cache folder)")
    s.add_argument("--format", default="original", choices=FORMAT_CHOICES,
                   help="model format for a run (default: the original model)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--max-batch", type=int, default=1,
                   help="group concurrent requests into one model call of up to this many inputs "
                        "(default 1: one at a time). Pays for table models and some GPUs; on a CPU, "
                        "text batches of mixed lengths can cost more per text (docs/benchmarks.md)")
    s.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default: this machine only; the API has no login, "
                        "so put a proxy with authentication in front before widening it)")
    s.set_defaults(func=cmd_serve_model)


def cmd_serve_model(args: argparse.Namespace) -> int:
    from core.deploy.server import serve
    from core.deploy.service import MAX_BATCH, service_for_bundle, service_for_run
    from core.errors import LoupeError

    if bool(args.run_id) == bool(args.bundle):
        raise LoupeError("Give a run id or --bundle DIR (one of them).",
                         "e.g. `loupe serve-model 3f2a` or `loupe serve-model --bundle ./model`.")
    if args.explain_cache and not args.bundle:
        raise LoupeError("--explain-cache goes with --bundle.",
                         "a run's explanations are cached in its Loupe history; drop --explain-cache.")
    if not 0 < args.port < 65536:
        raise LoupeError(f"--port {args.port} is not a TCP port.", "use a number from 1 to 65535.")
    if not 1 <= args.max_batch <= MAX_BATCH:
        raise LoupeError(f"--max-batch {args.max_batch} is out of range.",
                         f"use a number from 1 to {MAX_BATCH}.")
    service = (service_for_bundle(args.bundle, args.explain_cache, args.max_batch) if args.bundle
               else service_for_run(args.run_id, args.format, max_batch=args.max_batch))
    print(f"serving {service.kind} model ({service.fmt}) on http://{args.address}:{args.port} "
          f"(docs: /docs); Ctrl+C stops", flush=True)
    serve(service, args.address, args.port)
    return 0
