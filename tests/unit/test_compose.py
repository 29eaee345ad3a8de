"""The production shape (docker-compose.yml, Dockerfile) agrees with the code it runs.

No Docker engine is needed: the files are parsed, interpolated the way Compose does, and
checked against ``services/settings.py``, ``services/topics.py``, ``services/cli.py`` and
``pyproject.toml``, so that a renamed setting, a moved port or a smaller cluster fails here.
"""

import re
import shlex
import tomllib
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from accountability.services.cli import build_parser
from accountability.services.settings import PREFIX, Settings, setting_names

if TYPE_CHECKING:
    from accountability.services.topics import TopicSpec

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"

APP_SERVICES = ("api", "worker", "topics")
KAFKA_IMAGE = "apache/kafka"
POSTGRES_IMAGE = "postgres"

# The interpolation cases every compose-derived check runs under: the local defaults, and
# a password set by the operator (it must reach both PostgreSQL and the database URL).
ENVIRONMENTS = [
    pytest.param({}, id="local-defaults"),
    pytest.param(
        {"POSTGRES_PASSWORD": "operator-chosen", "KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg"},
        id="operator-environment",
    ),
]


# -- reading the files ------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Compose's ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$$``.

    A variable with neither a value nor a default is an error here (Compose would
    substitute an empty string): the file must run locally with no environment at all.
    """

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value = environ.get(name)
        op, arg = match["op"], match["arg"] or ""
        if op == ":-":
            return value if value else arg
        if op == "-":
            return arg if value is None else value
        if value is None or (op == ":?" and not value):
            raise AssertionError(f"docker-compose.yml needs ${name} set ({arg or 'no default'})")
        return value

    return _VARIABLE.sub(substitute, text)


def _interpolated(node: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ)
    if isinstance(node, list):
        return [_interpolated(item, environ) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, environ) for key, value in node.items()}
    return node


def load_compose(environ: Mapping[str, str]) -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # merges `<<: *anchor`
    assert isinstance(document, dict)
    return dict(_interpolated(document, environ))


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.partition("=") for item in raw)
        return {name: value for name, _, value in pairs}
    return {str(name): "" if value is None else str(value) for name, value in raw.items()}


def accountability_environment(service: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in environment(service).items() if k.startswith(PREFIX)}


def settings_of(compose: Mapping[str, Any]) -> Settings:
    return Settings.from_env(accountability_environment(compose["services"]["api"]))


def image_name(service: Mapping[str, Any]) -> str:
    return str(service.get("image", "")).rsplit(":", 1)[0]


def services_with_image(compose: Mapping[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if image_name(s) == name}


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` as {NAME: (host, port)}."""
    parsed = {}
    for entry in value.split(","):
        name, _, address = entry.strip().partition("://")
        host, _, port = address.rpartition(":")
        parsed[name] = (host, int(port))
    return parsed


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    return host, int(port)


def published_container_ports(service: Mapping[str, Any]) -> list[int]:
    ports = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(int(entry["target"]))
        else:
            ports.append(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def healthcheck_command(service: Mapping[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(test[1:]) if test[0] in ("CMD", "CMD-SHELL") else ""
    return str(test or "")


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def dockerfile_entrypoint() -> list[str]:
    entrypoints = [args for keyword, args in final_stage() if keyword == "ENTRYPOINT"]
    assert entrypoints, "the Dockerfile's final stage has no ENTRYPOINT"
    exec_form = yaml.safe_load(entrypoints[-1])
    assert isinstance(exec_form, list), "ENTRYPOINT must use the exec (JSON) form"
    return [str(part) for part in exec_form]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in final_stage():
        if keyword == "ENV":
            for pair in shlex.split(args):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def topic_specs(settings: Settings) -> list["TopicSpec"]:
    # topics.py imports kafka-python, whose import calls the deprecated
    # importlib.resources.read_text; the suite turns that warning into an error.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".* is deprecated. Use files\(\)", DeprecationWarning)
        from accountability.services import topics
    return topics.topic_specs(settings)


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def argv(service: Mapping[str, Any]) -> list[str]:
    entrypoint = service.get("entrypoint")
    if entrypoint is None:
        assert "build" in service, "an app service without an entrypoint must build ./Dockerfile"
        entrypoint = dockerfile_entrypoint()
    elif isinstance(entrypoint, str):
        entrypoint = shlex.split(entrypoint)
    command = service.get("command") or []
    if isinstance(command, str):
        command = shlex.split(command)
    return [str(part) for part in [*entrypoint, *command]]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose({})


@pytest.fixture(scope="module")
def kafka(compose) -> dict[str, dict[str, Any]]:
    brokers = services_with_image(compose, KAFKA_IMAGE)
    assert brokers, f"no {KAFKA_IMAGE} service in docker-compose.yml"
    return brokers


# -- the interpolation helper itself ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        pytest.param("${A:-x}", {}, "x", id="default-when-unset"),
        pytest.param("${A:-x}", {"A": ""}, "x", id="colon-default-when-empty"),
        pytest.param("${A-x}", {"A": ""}, "", id="default-only-when-unset"),
        pytest.param("p:${A:-x}@h", {"A": "s"}, "p:s@h", id="value-wins"),
        pytest.param("$A/$${B}", {"A": "a"}, "a/${B}", id="bare-and-escaped"),
    ],
)
def test_interpolation_follows_compose(text, environ, expected):
    assert interpolate(text, environ) == expected


def test_interpolation_refuses_a_variable_without_default():
    with pytest.raises(AssertionError, match=r"\$MISSING"):
        interpolate("${MISSING}", {})


# -- settings ---------------------------------------------------------------------------


def test_every_accountability_name_is_a_setting():
    known = set(setting_names())
    for path in (COMPOSE, DOCKERFILE):
        used = set(re.findall(rf"\b{PREFIX}[A-Z0-9_]+", path.read_text(encoding="utf-8")))
        assert used, f"{path.name} names no {PREFIX}* setting"
        assert used <= known, f"{path.name}: not settings: {sorted(used - known)}"


def test_settings_are_defined_once():
    """One YAML anchor holds them; services merge it instead of repeating names."""
    text = COMPOSE.read_text(encoding="utf-8")
    for name in setting_names():
        assert len(re.findall(rf"^\s*{name}\s*:", text, re.MULTILINE)) <= 1, name


def test_app_services_share_one_environment(compose):
    environments = {
        name: accountability_environment(compose["services"][name]) for name in APP_SERVICES
    }
    assert environments["api"], "the api sets no ACCOUNTABILITY_* variable"
    for name, env in environments.items():
        assert env == environments["api"], f"{name} differs from api"


@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_settings_accept_the_environment(environ):
    settings = settings_of(load_compose(environ))
    assert not settings.is_sqlite
    assert settings.api_host == "0.0.0.0"  # noqa: S104 - inside the container, by design
    assert settings.topic_replication_factor == 3
    assert settings.topic_min_insync_replicas == 2


def test_data_dir_is_the_one_the_image_makes_writable(compose):
    image_default = dockerfile_env().get(f"{PREFIX}DATA_DIR")
    assert image_default, "the image should set ACCOUNTABILITY_DATA_DIR to a writable place"
    assert str(settings_of(compose).data_dir) == image_default
    made = [args for keyword, args in final_stage() if keyword == "RUN" and image_default in args]
    assert made, f"the Dockerfile never creates {image_default} for its user"


# -- PostgreSQL -------------------------------------------------------------------------


@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_database_url_points_at_postgres(environ):
    compose = load_compose(environ)
    url = urlsplit(settings_of(compose).database_url.reveal())
    assert url.scheme == "postgresql"
    postgres = compose["services"].get(url.hostname or "")
    assert postgres is not None, f"no service named {url.hostname!r}"
    assert image_name(postgres) == POSTGRES_IMAGE
    pg_env = environment(postgres)
    port = int(pg_env.get("PGPORT", "5432"))
    assert url.port == port
    assert str(port) in [str(p).split("/")[0] for p in postgres.get("expose", [str(port)])]
    assert unquote(url.username or "") == pg_env["POSTGRES_USER"]
    assert unquote(url.password or "") == pg_env["POSTGRES_PASSWORD"]
    assert url.path == "/" + pg_env.get("POSTGRES_DB", pg_env["POSTGRES_USER"])


def test_postgres_keeps_its_data_and_reports_health(compose):
    (name, postgres), *others = services_with_image(compose, POSTGRES_IMAGE).items()
    assert not others
    assert "pg_isready" in healthcheck_command(postgres)
    named = set(compose.get("volumes") or {})
    mounts = [str(v).split(":") for v in postgres.get("volumes", [])]
    assert any(m[0] in named and m[1].startswith("/var/lib/postgresql") for m in mounts), name


def test_passwords_come_from_the_environment():
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if "PASSWORD" in key:
                assert "${" in value, f"{name}: {key} is hard-coded"
    assert "local use only" in COMPOSE.read_text(encoding="utf-8")


# -- Kafka ------------------------------------------------------------------------------


def internal_listener(broker: Mapping[str, Any]) -> tuple[str, int]:
    env = environment(broker)
    return listeners(env["KAFKA_ADVERTISED_LISTENERS"])[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]


def test_bootstrap_servers_are_every_brokers_internal_listener(compose, kafka):
    servers = [host_port(a) for a in settings_of(compose).kafka_bootstrap_servers.split(",")]
    by_host = {broker.get("hostname", name): name for name, broker in kafka.items()}
    by_host.update({name: name for name in kafka})
    for host, port in servers:
        assert host in by_host, f"{host} is not a Kafka service"
        assert (host, port) == internal_listener(kafka[by_host[host]]), host
    assert {by_host[host] for host, _ in servers} == set(brokers(kafka)), "a broker is missing"


def test_internal_listener_is_bound(kafka):
    for name, broker in kafka.items():
        env = environment(broker)
        bound = listeners(env["KAFKA_LISTENERS"])
        listener = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
        assert bound[listener][1] == internal_listener(broker)[1], name
        protocols = dict(
            p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        assert set(bound) <= set(protocols), name


def brokers(kafka: Mapping[str, Any]) -> list[str]:
    return [n for n, s in kafka.items() if "broker" in environment(s)["KAFKA_PROCESS_ROLES"]]


def test_cluster_is_big_enough_for_the_topics(compose, kafka):
    settings = settings_of(compose)
    assert len(brokers(kafka)) >= settings.topic_replication_factor
    assert settings.topic_min_insync_replicas < settings.topic_replication_factor
    for spec in topic_specs(settings):
        assert spec.replication_factor <= len(brokers(kafka)), spec.name
        assert int(spec.config["min.insync.replicas"]) < spec.replication_factor, spec.name
    events = next(spec for spec in topic_specs(settings) if spec.name == "accountability.events")
    assert events.config["retention.ms"] == "-1"


def _rf(settings: Settings) -> str:
    return str(settings.topic_replication_factor)


def _min_isr(settings: Settings) -> str:
    return str(settings.topic_min_insync_replicas)


BROKER_PROPERTIES: list[Any] = [
    pytest.param("KAFKA_AUTO_CREATE_TOPICS_ENABLE", lambda _: "false", id="auto.create.topics"),
    pytest.param("KAFKA_DEFAULT_REPLICATION_FACTOR", _rf, id="default.replication.factor"),
    pytest.param("KAFKA_MIN_INSYNC_REPLICAS", _min_isr, id="min.insync.replicas"),
    pytest.param("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", _rf, id="offsets.topic.rf"),
    pytest.param("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", _rf, id="txn.log.rf"),
    pytest.param("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", _min_isr, id="txn.log.min.isr"),
    pytest.param("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE", lambda _: "false", id="unclean.election"),
]


@pytest.mark.parametrize(("variable", "expected"), BROKER_PROPERTIES)
def test_broker_properties(compose, kafka, variable, expected: Callable[[Settings], str]):
    want = expected(settings_of(compose))
    for name, broker in kafka.items():
        assert environment(broker).get(variable, "").lower() == want, f"{name}: {variable}"


def test_kafka_runs_in_kraft_mode(kafka):
    assert "zookeeper" not in COMPOSE.read_text(encoding="utf-8").lower()
    envs = {name: environment(broker) for name, broker in kafka.items()}
    node_ids = {name: env["KAFKA_NODE_ID"] for name, env in envs.items()}
    assert len(set(node_ids.values())) == len(kafka), "node ids must be unique"
    for name, env in envs.items():
        roles = set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) - {""}
        assert roles, f"{name}: KAFKA_PROCESS_ROLES is what selects KRaft mode"
        assert roles <= {"broker", "controller"}, name
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), f"{name}: base64url UUID"
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1, "one cluster"
    voters = {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in envs.values()}
    assert len(voters) == 1, "every node must know the same controller quorum"
    for voter in voters.pop().split(","):
        node_id, _, address = voter.partition("@")
        host, port = host_port(address)
        controller = next(n for n, i in node_ids.items() if i == node_id)
        assert host in (controller, kafka[controller].get("hostname")), voter
        env = envs[controller]
        assert "controller" in env["KAFKA_PROCESS_ROLES"].split(","), voter
        assert listeners(env["KAFKA_LISTENERS"])[env["KAFKA_CONTROLLER_LISTENER_NAMES"]][1] == port


@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_kafka_cluster_id_is_one_value(environ):
    kafka = services_with_image(load_compose(environ), KAFKA_IMAGE)
    assert len({environment(broker)["CLUSTER_ID"] for broker in kafka.values()}) == 1


def test_kafka_keeps_its_log_on_a_named_volume(compose, kafka):
    named = set(compose.get("volumes") or {})
    volumes = []
    for name, broker in kafka.items():
        log_dir = environment(broker)["KAFKA_LOG_DIRS"]
        mounts = dict(str(v).split(":")[:2][::-1] for v in broker.get("volumes", []))
        assert mounts.get(log_dir) in named, f"{name}: {log_dir} is not on a named volume"
        volumes.append(mounts[log_dir])
        assert healthcheck_command(broker), f"{name} has no healthcheck"
    assert len(set(volumes)) == len(kafka), "brokers must not share a log volume"


# -- api, worker, topics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "subcommand"),
    [
        pytest.param("api", "api", id="api"),
        pytest.param("worker", "worker", id="worker"),
        pytest.param("topics", "topics", id="topics"),
    ],
)
def test_app_service_runs_its_subcommand(compose, service, subcommand):
    command = argv(compose["services"][service])
    assert command == ["accountability", subcommand]
    build_parser().parse_args(command[1:])  # the subcommand exists
    assert "accountability" in pyproject()["project"]["scripts"]


def test_api_publishes_its_port_and_checks_readiness(compose):
    api = compose["services"]["api"]
    port = settings_of(compose).api_port
    assert published_container_ports(api) == [port]
    urls = re.findall(r"https?://[^\s'\"]+", healthcheck_command(api))
    assert urls, "the api healthcheck calls no URL"
    for url in map(urlsplit, urls):
        assert url.port == port
        assert url.path == "/readyz"


def test_worker_can_be_scaled(compose):
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_starts_after_topics_and_database(compose, kafka, service):
    depends = dependencies(compose["services"][service])
    assert depends.get("topics") == "service_completed_successfully"
    (postgres,) = services_with_image(compose, POSTGRES_IMAGE)
    assert depends.get(postgres) == "service_healthy"


def test_topics_job_waits_for_every_broker_and_runs_once(compose, kafka):
    topics = compose["services"]["topics"]
    assert str(topics.get("restart", "no")) == "no"
    depends = dependencies(topics)
    assert {name: depends.get(name) for name in kafka} == dict.fromkeys(kafka, "service_healthy")


def test_healthy_dependencies_have_healthchecks(compose):
    services = compose["services"]
    for name, service in services.items():
        for target, condition in dependencies(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                assert healthcheck_command(services[target]), f"{target} has no healthcheck"


def test_images_are_pinned(compose):
    project = pyproject()["project"]
    for name, service in compose["services"].items():
        image = str(service.get("image", ""))
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: image {image!r} has no tag"
        assert "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: {image}"
        if "build" in service:
            assert image == f"{project['name']}:{project['version']}", name
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            base = args.split()[0]
            assert ":" in base, base
            assert not base.endswith(":latest"), base


# -- the image --------------------------------------------------------------------------


def test_image_is_python_311_slim_and_runs_as_a_user():
    bases = [args.split()[0] for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert bases
    assert all(base == "python:3.11-slim" for base in bases), bases
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert dockerfile_entrypoint() == ["accountability"]


def test_image_installs_the_product_without_dev_dependencies():
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install (?:\S+ )*-c constraints\.txt \.(?:\s|$)", runs), runs
    assert "[dev]" not in runs
    assert " -e " not in runs


def test_image_copies_every_mapped_folder():
    folders = {
        path.split("/")[0] for path in pyproject()["tool"]["setuptools"]["package-dir"].values()
    }
    copied = {
        args.split()[0].rstrip("/")
        for keyword, args in dockerfile_instructions()
        if keyword == "COPY" and not args.startswith("--from")
    }
    assert folders <= copied, f"not copied: {sorted(folders - copied)}"
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not (folders | {"pyproject.toml", "constraints.txt"}) & ignored
    assert {".git", ".venv", "var", ".env"} <= ignored


def test_image_bakes_in_no_secrets():
    for keyword, args in dockerfile_instructions():
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"PASSWORD|SECRET|TOKEN|DATABASE_URL", args, re.I), args
        if keyword in ("COPY", "ADD"):
            assert ".env" not in args.split(), args
