"""A project-managed local Elasticsearch for development, the demo and the tests.

Maven Central carries Elasticsearch's minimal integ-test distribution; it is
fetched once with Maven, cached outside the repository, and started on
127.0.0.1 as a single node. Elasticsearch refuses to run as root, so when we
are root it runs as a dedicated system user.

Security is off by default (`wirenews es up`). With ``security=True`` the node
authenticates every request: users live in the file realm, written with the
distribution's own ``bin/elasticsearch-users`` (``admin`` is created as a
superuser and used for health checks), and roles in the file ``roles.yml``.
The security API's native realm cannot be used on this core-only
distribution: its ``.security`` index needs analysis-common. With ``tls=True`` it also serves HTTPS
with a certificate signed by a CA of its own, both made once with
``bin/elasticsearch-certutil``; clients trust ``ca_cert``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.elasticsearch.system import alive, chown_tree, ensure_user, unzip_keeping_modes, user_exists
from pipeline.home import download_cache
from pipeline.home import home as wirenews_home
from pipeline.java import JavaNotFound, find_java_home

log = logging.getLogger(__name__)

ES_VERSION = "9.5.4"  # the newest 9.x integ-test-zip that resolves on Maven Central
ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
ES_USER = "wirenews-es"


class LocalEsError(RuntimeError):
    """A problem the user can fix; the message says how."""


@dataclass
class LocalEs:
    port: int = 9200
    home: Path = Path()
    data_dir: Path | None = None
    version: str = ES_VERSION
    heap: str = "512m"
    security: bool = False
    tls: bool = False  # HTTPS on the HTTP port (implies security)
    admin: tuple[str, str] | None = None  # file-realm superuser (name, password) made by `up` when secured

    @classmethod
    def from_env(cls, port: int | None = None, data_dir: str | None = None) -> LocalEs:
        home = wirenews_home()
        return cls(
            port=port or int(os.environ.get("WIRENEWS_ES_PORT", "9200")),
            home=home,
            data_dir=Path(data_dir or os.environ["WIRENEWS_ES_DATA"]) if (
                data_dir or os.environ.get("WIRENEWS_ES_DATA")) else None,
            version=os.environ.get("WIRENEWS_ES_VERSION", ES_VERSION),
            heap=os.environ.get("WIRENEWS_ES_HEAP", "512m"),
        )

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def secured(self) -> bool:
        return self.security or self.tls

    @property
    def certs_dir(self) -> Path:
        return self.node_dir / "config" / "certs"

    @property
    def ca_cert(self) -> Path:
        """The CA that signed the node's HTTPS certificate (``tls=True``)."""
        return self.certs_dir / "ca" / "ca.crt"

    @property
    def node_dir(self) -> Path:
        return self.home / f"es-{self.version}-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.node_dir / "es.pid"

    @property
    def dist_dir(self) -> Path:
        return self.home / "dist" / f"elasticsearch-{self.version}"

    # -- queries -----------------------------------------------------------------

    def health(self, timeout: float = 2.0) -> dict | None:
        """The cluster health, or None when nothing answers on the port.

        A secured node asked without (good) credentials answers 401: that is a node, so its status is
        reported as "auth required" rather than None.
        """
        req = urllib.request.Request(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s")
        if self.admin:
            token = b64encode(f"{self.admin[0]}:{self.admin[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        context = None
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.ca_cert)) if self.ca_cert.exists() else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            if e.code in (401, 403):
                return {"status": "auth required", "http_status": e.code}
            return None
        except (urllib.error.URLError, OSError, ValueError):
            return None

    # -- lifecycle ---------------------------------------------------------------

    def up(self, wait: float = 180.0) -> str:
        if (health := self.health()) is not None:
            log.info("Elasticsearch already answers at %s (status %s)", self.url, health.get("status"))
            return self.url
        java_home = self.lay_out()
        if self.secured and self.admin:
            self.add_user(self.admin[0], self.admin[1], ["superuser"], java_home=java_home)
            if os.geteuid() == 0:
                chown_tree(self.node_dir / "config", ES_USER)
        self._start(java_home)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            health = self.health()
            if health is not None and (health.get("status") != "auth required" or not self.admin):
                log.info("Elasticsearch %s is up at %s", self.version, self.url)
                return self.url
            if not self._pid_alive():
                raise LocalEsError(
                    f"Elasticsearch exited during start; see {self.node_dir / 'logs'} "
                    f"and {self.node_dir / 'start.log'}")
            time.sleep(0.5)
        raise LocalEsError(f"Elasticsearch did not become healthy within {wait:.0f}s at {self.url}")

    def lay_out(self) -> str:
        """Distribution, certificates and the node's config in place (idempotent); the JDK it runs on.

        Users and roles go into the config this lays out, so a caller adding them before the first start
        calls this first.
        """
        java_home = _java_home()
        self._ensure_distribution()
        if self.tls:
            self._ensure_certs(java_home)
        self._write_node_config()
        return java_home

    def down(self, wait: float = 60.0) -> bool:
        """Stop the node started by `up`; True when something was stopped."""
        pid = self._pid()
        if pid is None or not alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def add_user(self, name: str, password: str, roles: list[str], *, java_home: str | None = None) -> None:
        """A file-realm user (replaced if it exists), with ``bin/elasticsearch-users``; a running node
        picks the change up by itself within seconds."""
        tool = self._tool("elasticsearch-users")
        java = java_home or _java_home()
        conf = self.node_dir / "config"
        users = conf / "users"
        if not (users.exists() and any(ln.split(":", 1)[0] == name for ln in users.read_text().splitlines())):
            self._run_tool([*tool, "useradd", name, "-p", password, "-r", ",".join(roles)], java, secret=password)
            return
        self._run_tool([*tool, "passwd", name, "-p", password], java, secret=password)
        current = _file_roles(conf / "users_roles", name)
        if sorted(current) != sorted(roles):
            cmd = [*tool, "roles", name, "-a", ",".join(roles)]
            if stale := [r for r in current if r not in roles]:
                cmd += ["-r", ",".join(stale)]
            self._run_tool(cmd, java)

    def add_role(self, name: str, cluster: list[str], indices: list[dict]) -> None:
        """A file-realm role in ``roles.yml`` (replaced if it exists); a running node reloads the file."""
        conf = self.node_dir / "config"
        conf.mkdir(parents=True, exist_ok=True)
        path = conf / "roles.yml"
        roles = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        roles[name] = {"cluster": list(cluster), "indices": [dict(i) for i in indices]}
        path.write_text(yaml.safe_dump(roles, sort_keys=True))
        if os.geteuid() == 0 and user_exists(ES_USER):
            chown_tree(path, ES_USER)

    # -- internals ---------------------------------------------------------------

    def _tool(self, name: str) -> list[str]:
        """A distribution command line, run as the node's user when we are root."""
        cmd = [str(self.dist_dir / "bin" / name)]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", ES_USER, "--whitelist-environment=ES_JAVA_HOME,ES_PATH_CONF", "--", *cmd]
        return cmd

    def _run_tool(self, cmd: list[str], java_home: str, *, check: bool = True, secret: str | None = None) -> None:
        env = {**os.environ, "ES_JAVA_HOME": java_home, "ES_PATH_CONF": str(self.node_dir / "config")}
        env.pop("JAVA_HOME", None)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=self.node_dir, timeout=300)
        if check and proc.returncode != 0:
            shown = " ".join(cmd).replace(secret, "********") if secret else " ".join(cmd)
            raise LocalEsError(f"{shown} failed (exit {proc.returncode}):\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")

    def _ensure_certs(self, java_home: str) -> None:
        """A CA and a node certificate for 127.0.0.1 and localhost, made once with elasticsearch-certutil."""
        node_cert = self.certs_dir / "node" / "node.crt"
        if self.ca_cert.exists() and node_cert.exists():
            return
        self.certs_dir.mkdir(parents=True, exist_ok=True)
        root = os.geteuid() == 0
        if root:
            ensure_user(ES_USER)
            chown_tree(self.node_dir, ES_USER)
        tool = self._tool("elasticsearch-certutil")
        ca_zip, node_zip = self.certs_dir / "ca.zip", self.certs_dir / "node.zip"
        for z in (ca_zip, node_zip):
            z.unlink(missing_ok=True)
        self._run_tool([*tool, "ca", "--pem", "--silent", "--days", "3650", "--out", str(ca_zip)], java_home)
        unzip_keeping_modes(ca_zip, self.certs_dir)
        if root:
            chown_tree(self.certs_dir, ES_USER)
        self._run_tool([*tool, "cert", "--pem", "--silent", "--days", "3650", "--name", "node",
                        "--ca-cert", str(self.ca_cert), "--ca-key", str(self.certs_dir / "ca" / "ca.key"),
                        "--ip", "127.0.0.1", "--dns", "localhost", "--out", str(node_zip)], java_home)
        unzip_keeping_modes(node_zip, self.certs_dir)
        if root:
            chown_tree(self.certs_dir, ES_USER)


    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _pid_alive(self) -> bool:
        pid = self._pid()
        # The pid file appears only once the daemon has forked; until then, assume alive.
        return pid is None or alive(pid)

    def _ensure_distribution(self) -> None:
        if (self.dist_dir / "bin" / "elasticsearch").exists():
            return
        zip_path = self._fetch_zip()
        log.info("Unpacking %s", zip_path)
        target = self.dist_dir.parent
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f".unpack-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        if shutil.which("unzip"):
            subprocess.run(["unzip", "-q", "-o", str(zip_path), "-d", str(tmp)], check=True)
        else:
            unzip_keeping_modes(zip_path, tmp)
        (tmp / f"elasticsearch-{self.version}").rename(self.dist_dir)
        shutil.rmtree(tmp, ignore_errors=True)

    def _fetch_zip(self) -> Path:
        downloads = download_cache(self.home)
        zip_path = downloads / f"elasticsearch-{self.version}.zip"
        if zip_path.exists():
            return zip_path
        mvn = shutil.which("mvn")
        if mvn is None:
            raise LocalEsError(
                "Maven (mvn) is needed once to fetch Elasticsearch from Maven Central: "
                "install it (Debian: apt-get install maven) and run again.")
        downloads.mkdir(parents=True, exist_ok=True)
        artifact = ES_ARTIFACT.format(version=self.version)
        log.info("Fetching %s with Maven (once; cached in %s)", artifact, downloads)
        proc = subprocess.run(
            [mvn, "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
             f"-Dartifact={artifact}", f"-DoutputDirectory={downloads}", "-Dmdep.stripVersion=false"],
            capture_output=True, text=True)
        if proc.returncode != 0 or not zip_path.exists():
            raise LocalEsError(f"Maven could not fetch {artifact}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return zip_path

    def _write_node_config(self) -> None:
        conf = self.node_dir / "config"
        data = self.data_dir or self.node_dir / "data"
        logs = self.node_dir / "logs"
        for d in (conf, data, logs):
            d.mkdir(parents=True, exist_ok=True)
        for item in (self.dist_dir / "config").iterdir():
            dest = conf / item.name
            if item.name == "elasticsearch.yml" or dest.exists():
                continue
            if item.is_dir():
                shutil.copytree(item, dest)
            else:
                shutil.copy2(item, dest)
        settings = {
            "cluster.name": "wirenews-local",
            "node.name": "wirenews-local",
            "network.host": "127.0.0.1",
            "http.port": self.port,
            "transport.port": self.port + 100,
            "discovery.type": "single-node",
            "xpack.security.enabled": "true" if self.secured else "false",
            "path.data": str(data),
            "path.logs": str(logs),
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
        }
        if self.secured:
            # A single node talks to no other: transport TLS is not required, and nothing listens beyond loopback.
            settings["xpack.security.transport.ssl.enabled"] = "false"
            settings["xpack.security.http.ssl.enabled"] = "true" if self.tls else "false"
        if self.tls:
            settings.update({
                "xpack.security.http.ssl.key": "certs/node/node.key",
                "xpack.security.http.ssl.certificate": "certs/node/node.crt",
                "xpack.security.http.ssl.certificate_authorities": "certs/ca/ca.crt",
            })
        (conf / "elasticsearch.yml").write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
        if os.geteuid() == 0:
            ensure_user(ES_USER)
            for path in (self.home, self.home / "dist"):
                path.chmod(0o755)
            chown_tree(self.node_dir, ES_USER)
            if self.data_dir:
                chown_tree(data, ES_USER)
            chown_tree(self.dist_dir, ES_USER)

    def _start(self, java_home: str) -> None:
        self.pid_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env.update({
            "ES_JAVA_HOME": java_home,
            "ES_PATH_CONF": str(self.node_dir / "config"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
        })
        env.pop("JAVA_HOME", None)
        cmd = [str(self.dist_dir / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file)]
        if os.geteuid() == 0:
            keep = ",".join(["ES_JAVA_HOME", "ES_PATH_CONF", "ES_JAVA_OPTS"])
            cmd = ["runuser", "-u", ES_USER, f"--whitelist-environment={keep}", "--", *cmd]
        log.info("Starting Elasticsearch %s on %s", self.version, self.url)
        with open(self.node_dir / "start.log", "wb") as out:
            proc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.node_dir)
        if proc.returncode != 0:
            tail = (self.node_dir / "start.log").read_text(errors="replace")[-3000:]
            raise LocalEsError(f"Elasticsearch failed to start (exit {proc.returncode}):\n{tail}")


def _java_home() -> str:
    try:
        return find_java_home()
    except JavaNotFound as e:
        raise LocalEsError(str(e)) from e


def _file_roles(users_roles: Path, user: str) -> list[str]:
    """The roles ``users_roles`` (lines ``role:user1,user2``) gives ``user``."""
    if not users_roles.exists():
        return []
    out = []
    for line in users_roles.read_text().splitlines():
        role, _, members = line.partition(":")
        if user in (m.strip() for m in members.split(",")):
            out.append(role.strip())
    return out
