"""Writes for users, teams and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record

from .models import ApiToken, Role, Team, User


@transaction.atomic
def team_get_or_create(*, actor, name: str, parent: Team | None = None) -> Team:
    team, created = Team.objects.get_or_create(name=name, defaults={"parent": parent})
    if created:
        audit_record(actor=actor, action="team.create", obj=team, changes={"name": name})
    return team


@transaction.atomic
def user_create(*, actor, username: str, password: str, role: str, team_name: str = "", email: str = "",
                language: str = "en", validate: bool = True) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = [_("Enter a user name of 1 to 150 characters.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("The user name “%(name)s” is taken.") % {"name": username}]
    if role not in Role.values:
        errors["role"] = [_("Unknown role “%(role)s”; use one of: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}]
    if validate:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    team = team_get_or_create(actor=actor, name=team_name) if team_name else None
    user = User(username=username, role=role, team=team, email=email, language=language,
                is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action="user.create", obj=user, changes={"username": username, "role": role})
    return user


@transaction.atomic
def token_create(*, actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    token, raw = ApiToken.issue(user, name)
    audit_record(actor=actor, action="token.create", obj=token, changes={"user": user.pk, "prefix": token.prefix})
    return token, raw


def generate_password() -> str:
    return secrets.token_urlsafe(12)
