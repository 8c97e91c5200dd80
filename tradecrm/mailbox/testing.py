"""Throw-away mail servers for the tests and the benchmark: a real Dovecot (IMAP) on 127.0.0.1
with its own config, maildir and state in a temporary directory, and an aiosmtpd SMTP server that
keeps what it receives. Nothing here is used by the running application."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
TEST_USER = "rep@example.test"
TEST_PASSWORD = "secret-imap-pw"


def dovecot_available() -> bool:
    return DOVECOT is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mail_owner() -> tuple[str, int, int]:
    """The system user the mail files belong to: the current user, or (when the tests run as
    root, which Dovecot refuses for mail access) Dovecot's own unprivileged "dovecot" user."""
    uid = os.getuid()
    if uid != 0:
        pw = pwd.getpwuid(uid)
        return pw.pw_name, pw.pw_uid, pw.pw_gid
    for name in ("dovecot", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_name, pw.pw_uid, pw.pw_gid
    raise RuntimeError("no unprivileged user to own the test mail files")


@dataclass
class Dovecot:
    """`root` must be reachable by Dovecot's unprivileged users: `Dovecot.create()` makes one
    under the system temp dir (pytest's tmp_path is mode 0700 and is not)."""

    root: Path
    port: int = 0
    user: str = TEST_USER
    password: str = TEST_PASSWORD
    proc: subprocess.Popen | None = None
    mail_uid: int = 0
    mail_gid: int = 0
    extra_users: dict = field(default_factory=dict)

    @classmethod
    def create(cls, **kwargs) -> Dovecot:
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="tradecrm-dovecot-"))
        os.chmod(root, 0o755)
        return cls(root, **kwargs)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def maildir(self) -> Path:
        return self.root / "home" / self.user / "Maildir"

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        owner, self.mail_uid, self.mail_gid = _mail_owner()
        me = pwd.getpwuid(os.getuid()).pw_name
        internal = me if os.getuid() != 0 else "dovecot"
        login = me if os.getuid() != 0 else "dovenull"
        for d in ("run", "state", "home"):
            (self.root / d).mkdir(exist_ok=True)
        users = {self.user: self.password, **self.extra_users}
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items())
        )
        (self.root / "nodelay").write_text("127.0.0.1:::::::noauthenticate nodelay=yes\n")
        for u in users:
            home = self.root / "home" / u
            home.mkdir(parents=True, exist_ok=True)
        r = self.root
        self.conf.write_text(
            f"""# written by tradecrm.mailbox.testing: a throw-away IMAP server for the tests
protocols = imap
listen = 127.0.0.1
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_uid = {self.mail_uid}
mail_gid = {self.mail_gid}
# no fsync: a test server whose data is thrown away
mail_fsync = never
imap_max_line_length = 2M
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
# Clients on 127.0.0.1 get `nodelay`: a failed login is answered at once and does not add to
# the per-IP auth penalty (which would hold every later login 2-15 s). `auth_failure_delay = 0`
# alone does neither (failures still wait for a 0.5 s timer). This passdb authenticates nobody:
# `noauthenticate` only adds the field, and the passwd-file below still checks every password.
passdb {{
  driver = passwd-file
  args = username_format=%{{rip}} {r}/nodelay
  result_success = continue
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={r}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox "Sent Messages" {{
    special_use =
  }}
}}
"""
        )
        # the mail user writes under home/; the login and internal users only need the run dir
        for path in [self.root / "home", *(self.root / "home").rglob("*")]:
            os.chown(path, self.mail_uid, self.mail_gid)
        os.chmod(self.root, 0o755)

    def start(self) -> None:
        if not DOVECOT:
            raise RuntimeError("dovecot is not installed (run: make mail-deps)")
        self.port = self.port or free_port()
        self.write_config()
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode(errors='replace')} "
                                   f"{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not start listening: " + self.log())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        p = self.root / "dovecot.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""

    # --- putting mail in ---------------------------------------------------------------------

    def connect(self, user: str | None = None, password: str | None = None) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(user or self.user, password or self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", *, user: str | None = None) -> None:
        conn = self.connect(user)
        try:
            typ, data = conn.append(_quote(folder), None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
        finally:
            conn.logout()

    def reset(self, user: str | None = None) -> None:
        """Empty every folder of the user and start new UIDVALIDITYs (a fresh mailbox per test)."""
        conn = self.connect(user)
        try:
            for folder in ("INBOX", "Sent"):
                typ, data = conn.select(_quote(folder))
                if typ == "OK" and int(data[0] or 0) > 0:
                    conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    conn.expunge()
                conn.close()
        finally:
            conn.logout()

    def write_maildir(self, messages, folder: str = "INBOX") -> int:
        """Write messages straight into the maildir (much faster than APPEND for the benchmark);
        Dovecot gives them UIDs when the folder is next opened."""
        base = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        new = base / "new"
        n = 0
        host = socket.gethostname()
        stamp = int(time.time())
        for raw in messages:
            (new / f"{stamp}.M{n}P{os.getpid()}.{host}").write_bytes(raw)
            n += 1
        for path in [self.maildir, *self.maildir.rglob("*")]:
            try:
                os.chown(path, self.mail_uid, self.mail_gid)
            except FileNotFoundError:
                pass
        return n


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives (envelope + bytes);
    with `password` set it asks for AUTH (plain text allowed on loopback)."""

    def __init__(self, *, user: str = "", password: str = ""):
        self.user, self.password = user, password
        self.received: list[dict] = []
        self.controller = None
        self.port = 0

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.received.append(
                    {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.original_content
                     or envelope.content}
                )
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == sink.user
                and auth_data.password.decode() == sink.password
            )
            return AuthResult(success=ok, handled=False)

        self.port = free_port()
        kwargs = {}
        if self.password:
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None
