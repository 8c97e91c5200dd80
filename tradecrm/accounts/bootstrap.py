"""The first admin account: created on the first start with a generated password."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .models import Role, User
from .services import generate_password, user_create

PASSWORD_FILE = "initial-admin-password"


def ensure_first_admin() -> tuple[str, str | None]:
    """Return (username, password-or-None). The password is generated once, kept in the data dir
    (mode 0600) so a restart can print it again, and forgotten once the admin changes it."""
    path = Path(settings.DATA_DIR) / PASSWORD_FILE
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        password = generate_password()
        admin = user_create(actor=None, username="admin", password=password, role=Role.ADMIN, validate=False)
        path.write_text(password)
        path.chmod(0o600)
        return admin.username, password
    if path.exists():
        password = path.read_text().strip()
        if admin.check_password(password):
            return admin.username, password
        path.unlink()
    return admin.username, None
