"""`tradecrm keys init|status|rotate|retire KID` — the keys of encryption at rest (decision 0011).

    init            create the key file (0600) with a new data key and a lookup key, if missing
    status          where the keys come from, the current key, and how many values each key holds
    rotate          add a new current key, then re-encrypt every encrypted column and file with it
    rotate --resume re-encrypt what is still under an older key (after an interrupted rotation)
    retire KID      drop an old key once no value uses it any more (checked first)
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from tradecrm.core import crypto, crypto_rotate


class Command(BaseCommand):
    help = "Encryption keys: init, status, rotate, retire KID."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="create the key file if it does not exist")
        st = sub.add_parser("status", help="keys and what uses them")
        st.add_argument("--json", action="store_true")
        rot = sub.add_parser("rotate", help="new current key, then re-encrypt everything")
        rot.add_argument("--resume", action="store_true", help="no new key: finish re-encrypting")
        rot.add_argument("--batch", type=int, default=500)
        ret = sub.add_parser("retire", help="remove an old key no value uses any more")
        ret.add_argument("kid")

    def handle(self, *args, **o):
        try:
            getattr(self, "_" + o["action"])(o)
        except crypto.CryptoError as exc:
            raise CommandError(str(exc)) from None

    # --- actions --------------------------------------------------------------------------------

    def _from_env(self) -> bool:
        from django.conf import settings

        return bool(getattr(settings, "TRADECRM_ENCRYPTION_KEYS", ""))

    def _init(self, o):
        if self._from_env():
            self.stdout.write("Keys come from TRADECRM_ENCRYPTION_KEYS; no key file is needed.")
            return
        path, created = crypto.init_key_file()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created {path} (mode 0600)."))
            self.stdout.write("Back this file up separately from the database: without it the encrypted "
                              "fields and files cannot be read.")  # fmt: skip
        else:
            self.stdout.write(f"{path} exists already; nothing changed.")

    def _status(self, o):
        ring = crypto.keyring()
        usage = crypto_rotate.key_usage()
        data = {
            "source": ring.source, "current": ring.current, "keys": list(ring.keys),
            "lookup_index_key": ring.index_source,
            "usage": {kid: dict(sorted(w.items())) for kid, w in sorted(usage.items())},
            "values_per_key": {kid: sum(w.values()) for kid, w in sorted(usage.items())},
        }  # fmt: skip
        if o["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(f"keys from: {ring.source}")
        self.stdout.write(f"current key: {ring.current}")
        self.stdout.write(f"lookup (blind index) key: {ring.index_source}")
        for kid in ring.keys:
            n = data["values_per_key"].get(kid, 0)
            self.stdout.write(f"  {kid}: {n} value(s)" + (" — current" if kid == ring.current else ""))
        for kid, n in data["values_per_key"].items():
            if kid not in ring.keys:
                self.stdout.write(self.style.ERROR(f"  {kid}: {n} value(s) under a key that is NOT in the keyring"))

    def _rotate(self, o):
        if not o["resume"]:
            if self._from_env():
                kid, key = crypto.new_key_id(), crypto.new_key()
                raise CommandError(
                    "Keys come from TRADECRM_ENCRYPTION_KEYS, which this command cannot change. Put this new "
                    f"entry first in it, restart, then run `tradecrm keys rotate --resume`:\n"
                    f"{crypto.format_keys([(kid, key)], None).splitlines()[-1]}"
                )
            ring = crypto.keyring()
            pairs, index = crypto.parse_keys(crypto.key_file_path().read_text(), str(crypto.key_file_path()))
            kid = crypto.new_key_id()
            while kid in ring.keys:
                kid = crypto.new_key_id()
            crypto.write_key_file(crypto.key_file_path(), [(kid, crypto.new_key()), *pairs], index)
            self.stdout.write(f"New current key {kid} (old keys kept in {crypto.key_file_path()}).")
        ring = crypto.keyring()

        def progress(where, seen, done):
            if o.get("verbosity", 1) >= 2:
                self.stdout.write(f"  {where}: {seen} checked, {done} re-encrypted")

        result = crypto_rotate.rotate(batch=o["batch"], progress=progress)
        from tradecrm.audit.services import audit_record

        audit_record(actor=None, action="keys.rotate", object_type="core.keys",
                     changes={"current": ring.current, "rewritten": result})  # fmt: skip
        total = sum(result.values())
        self.stdout.write(self.style.SUCCESS(f"Everything is under key {ring.current} now ({total} row(s)/file(s) "
                                             "re-encrypted)."))  # fmt: skip
        for where, n in result.items():
            if n:
                self.stdout.write(f"  {where}: {n}")
        old = [k for k in ring.keys if k != ring.current]
        if old:
            self.stdout.write(f"Old key(s) {', '.join(old)} can now be removed with `tradecrm keys retire KID`.")

    def _retire(self, o):
        kid = o["kid"]
        ring = crypto.keyring()
        if kid not in ring.keys:
            raise CommandError(f"Key {kid!r} is not in the keyring ({', '.join(ring.keys)}).")
        if kid == ring.current:
            raise CommandError(f"Key {kid!r} is the current key; rotate first (`tradecrm keys rotate`).")
        usage = crypto_rotate.key_usage().get(kid, {})
        if usage:
            where = ", ".join(f"{w} ({n})" for w, n in sorted(usage.items()))
            raise CommandError(f"Key {kid!r} still encrypts {sum(usage.values())} value(s): {where}. "
                               "Run `tradecrm keys rotate --resume` first.")  # fmt: skip
        if self._from_env():
            rest = [(k, v) for k, v in ring.keys.items() if k != kid]
            raise CommandError(f"No value uses {kid!r}. Keys come from TRADECRM_ENCRYPTION_KEYS: remove its entry "
                               f"there (keep the others: {', '.join(k for k, _ in rest)}).")  # fmt: skip
        path = crypto.key_file_path()
        pairs, index = crypto.parse_keys(path.read_text(), str(path))
        if index is None and ring.index_source == kid:
            # blind indexes derive from this key: keep its bytes as the explicit lookup key, so every
            # stored index still matches, while it stops being a data key
            index = dict(pairs)[kid]
        crypto.write_key_file(path, [(k, v) for k, v in pairs if k != kid], index)
        from tradecrm.audit.services import audit_record

        audit_record(actor=None, action="keys.retire", object_type="core.keys", changes={"retired": kid})
        self.stdout.write(self.style.SUCCESS(f"Key {kid} retired: no value used it."))
