"""TOTP: set-up with a QR code, the second sign-in step, replay refused, recovery codes, the
per-role policy (enforced: set up right after the password) and resets."""

import datetime as dt

import pyotp
import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from tradecrm.audit.models import AuditEvent
from tradecrm.security import services
from tradecrm.security.models import RecoveryCode, TotpDevice, TwoFactorPolicy

T0 = dt.datetime(2026, 5, 4, 9, 0, 10, tzinfo=dt.UTC)
PW = "pw-alice-12345"


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def code(device, at=T0):
    return pyotp.TOTP(device.secret).at(at)


@pytest.fixture
def enrolled(alice, frozen):
    device = services.totp_start(actor=alice, user=alice)
    codes = services.totp_confirm(actor=alice, user=alice, code=code(device, T0 - dt.timedelta(seconds=30)))
    device.refresh_from_db()
    return device, codes


def test_enrolment_page_shows_qr_and_key_and_confirms(client_for, alice, frozen):
    c = client_for(alice)
    assert c.post("/account/two-factor/", {"action": "start"}).status_code == 302
    page = c.get("/account/two-factor/").content.decode()
    assert "<svg" in page and 'data-testid="totp-key"' in page
    device = TotpDevice.objects.get(user=alice)
    assert device.confirmed_at is None
    assert TotpDevice.objects.filter(pk=device.pk).values_list("secret", flat=True)[0] == device.secret
    r = c.post("/account/two-factor/", {"action": "confirm", "code": "000000"})
    assert r.status_code == 422 and b"not right" in r.content
    r = c.post("/account/two-factor/", {"action": "confirm", "code": code(device)})
    assert r.status_code == 200 and b'data-testid="recovery-codes"' in r.content
    device.refresh_from_db()
    assert device.confirmed_at is not None
    assert RecoveryCode.objects.filter(user=alice).count() == 10
    assert AuditEvent.objects.filter(action="auth.2fa_enabled", object_id=alice.pk).exists()


def test_secret_is_encrypted_at_rest(alice, frozen):
    from django.db import connection

    device = services.totp_start(actor=alice, user=alice)
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM security_totpdevice WHERE id = %s", [device.pk])
        stored = cur.fetchone()[0]
    assert stored.startswith("v1:") and device.secret not in stored


def test_sign_in_asks_for_the_code_before_signing_in(client, alice, enrolled, frozen):
    device, _codes = enrolled
    r = client.post("/login/?next=/tags/", {"username": "alice", "password": PW, "next": "/tags/"})
    assert r.status_code == 302 and r["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session  # not signed in between the two steps
    assert client.get("/customers/").status_code == 302
    r = client.post("/login/code/", {"code": "123456"})
    assert r.status_code == 422 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.2fa_failed", object_id=alice.pk).exists()
    r = client.post("/login/code/", {"code": code(device)})
    assert r.status_code == 302 and r["Location"] == "/tags/"
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_a_code_is_accepted_once(client, alice, enrolled, frozen):
    device, _codes = enrolled
    client.post("/login/", {"username": "alice", "password": PW})
    assert client.post("/login/code/", {"code": code(device)}).status_code == 302
    other = Client()
    other.post("/login/", {"username": "alice", "password": PW})
    r = other.post("/login/code/", {"code": code(device)})  # the same code, replayed
    assert r.status_code == 422 and "_auth_user_id" not in other.session


def test_recovery_code_signs_in_once(client, alice, enrolled, frozen):
    _device, codes = enrolled
    client.post("/login/", {"username": "alice", "password": PW})
    r = client.post("/login/code/", {"code": codes[0].lower().replace("-", " ")})
    assert r.status_code == 302
    other = Client()
    other.post("/login/", {"username": "alice", "password": PW})
    assert other.post("/login/code/", {"code": codes[0]}).status_code == 422
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=True).count() == 9


def test_wrong_codes_count_towards_the_lockout(client, alice, enrolled, frozen, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client.post("/login/", {"username": "alice", "password": PW})
    client.post("/login/code/", {"code": "111111"})
    client.post("/login/code/", {"code": "222222"})
    r = client.post("/login/code/", {"code": "333333"})
    assert r.status_code == 429 and b'data-testid="lockout"' in r.content


def test_pending_sign_in_expires(client, alice, enrolled, frozen):
    device, _codes = enrolled
    client.post("/login/", {"username": "alice", "password": PW})
    frozen.shift(dt.timedelta(minutes=11))
    r = client.post("/login/code/", {"code": code(device, T0 + dt.timedelta(minutes=11))})
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_code_page_without_a_password_step(client, db):
    assert client.get("/login/code/")["Location"] == "/login/"


def test_enforced_role_must_enrol_right_after_the_password(client, alice, frozen):
    services.policy_set(actor=None, role="sales", mode="enforced")
    r = client.post("/login/", {"username": "alice", "password": PW})
    assert r["Location"] == "/login/two-factor-setup/"
    page = client.get("/login/two-factor-setup/")
    assert page.status_code == 200 and b"<svg" in page.content and "_auth_user_id" not in client.session
    device = TotpDevice.objects.get(user=alice)
    r = client.post("/login/two-factor-setup/", {"code": code(device)})
    assert r.status_code == 302 and r["Location"] == "/account/two-factor/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert b'data-testid="recovery-codes"' in client.get("/account/two-factor/").content
    # enforced: the user cannot turn it off
    r = client.post("/account/two-factor/", {"action": "disable", "code": "x"})
    assert r.status_code == 422 and TotpDevice.objects.filter(user=alice).exists()


def test_optional_role_signs_in_without_a_device(client, alice):
    assert client.post("/login/", {"username": "alice", "password": PW})["Location"] == "/customers/"


def test_off_role_is_not_offered(client_for, alice):
    services.policy_set(actor=None, role="sales", mode="off")
    r = client_for(alice).post("/account/two-factor/", {"action": "start"})
    assert r.status_code == 422 and not TotpDevice.objects.filter(user=alice).exists()


def test_user_disables_with_a_code(client_for, alice, enrolled, frozen):
    device, _codes = enrolled
    c = client_for(alice)
    r = c.post("/account/two-factor/", {"action": "disable", "code": "999999"})
    assert r.status_code == 422 and TotpDevice.objects.filter(user=alice).exists()
    frozen.shift(dt.timedelta(seconds=30))
    r = c.post(
        "/account/two-factor/", {"action": "disable", "code": code(device, T0 + dt.timedelta(seconds=30))}
    )
    assert r.status_code == 302
    assert (
        not TotpDevice.objects.filter(user=alice).exists()
        and not RecoveryCode.objects.filter(user=alice).exists()
    )
    assert AuditEvent.objects.filter(action="auth.2fa_disabled", object_id=alice.pk).exists()


def test_admin_resets_and_dave_gets_404(client_for, alice, admin, dave, enrolled):
    assert client_for(dave).post(f"/settings/security/users/{alice.pk}/reset-two-factor/").status_code == 404
    assert TotpDevice.objects.filter(user=alice).exists()
    assert client_for(admin).post("/settings/security/users/999999/reset-two-factor/").status_code == 404
    r = client_for(admin).post(f"/settings/security/users/{alice.pk}/reset-two-factor/")
    assert r.status_code == 302 and not TotpDevice.objects.filter(user=alice).exists()


def test_admin_sets_the_policy_per_role(client_for, admin, alice):
    r = client_for(admin).post("/settings/security/", {"mode_sales": "enforced", "mode_manager": "optional",
                                                       "mode_admin": "optional"})  # fmt: skip
    assert r.status_code == 302
    assert TwoFactorPolicy.objects.get(role="sales").mode == "enforced"
    r = client_for(admin).post("/settings/security/", {"mode_sales": "always"})
    assert r.status_code == 422 and b"Unknown setting" in r.content


def test_renew_recovery_codes(client_for, alice, enrolled, frozen):
    device, old = enrolled
    r = client_for(alice).post("/account/two-factor/", {"action": "renew", "code": code(device)})
    assert r.status_code == 200 and b'data-testid="recovery-codes"' in r.content
    assert not RecoveryCode.objects.filter(user=alice, code_hash=RecoveryCode.hash(old[0])).exists()


def test_cli_reset_and_policy(alice, enrolled, capsys):
    call_command("security", "reset-2fa", "alice")
    assert not TotpDevice.objects.filter(user=alice).exists()
    call_command("security", "policy", "manager", "enforced")
    assert TwoFactorPolicy.objects.get(role="manager").mode == "enforced"
