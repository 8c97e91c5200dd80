"""The periodic duplicate sweep: find every likely pair of duplicate companies (or contacts) in the
whole archive, remember them as DuplicatePair rows, and group connected pairs for review.

Blocking (which pairs to score at all):
  * exact keys — records sharing a row key in dedup_companykey (name + country, domain, phone,
    tax id, free-mail address). Keys shared by more than MAX_BLOCK records (a call-centre number,
    a name like "Global Trading" in one country) are skipped: they say little and would cost
    n² scores.
  * the name's distinctive core (`normalize.name_core`, computed here, not stored): records with
    the same core are a block (again up to MAX_BLOCK); then the cores are sorted and each record is
    paired with its next WINDOW neighbours, which catches typos after the first letters
    ("fairfield" / "fairfeild") and spellings across scripts (宁波恒达 / "Heng Da" → "hengda").
Scoring: `scoring.score_profiles_raw`, in worker processes (fork) on both cores.
Storing: open pairs are upserted with their score and language-neutral reasons; pairs someone
marked "Not duplicates" (or merged) are never reopened; open pairs the sweep no longer finds are
deleted (the records changed).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tradecrm.core.crypto import decrypt_value

from .keys import TAX_ID_LABEL
from .models import PairStatus
from .scoring import (
    ContactProfile,
    Profile,
    company_profile,
    contact_profile,
    profile_from_names,
    reason_texts,
    score_contact_profiles_raw,
    score_profiles_raw,
    storable_reasons,
)

MAX_BLOCK = 100  # records sharing one key or core; more are skipped (a switchboard, "Global Trading")
ALL_PAIRS = 12  # blocks up to this size are scored pair by pair; bigger ones as a chain
WINDOW = 3
ENTITIES = {"companies": "company", "contacts": "contact"}
_SHIFT = 32  # a pair (a, b) with a < b is stored as one int64: a << 32 | b (ids below 2**31)


def default_threshold() -> float:
    return float(getattr(settings, "TRADECRM_DEDUP_THRESHOLD", 0.85))


# ---------------------------------------------------------------------------------------------
# blocking, on plain data (the labelled-set benchmark calls these without a database)


def _pairs_of_block(ids: list[int], out: array) -> None:
    """All pairs of a small block; in a bigger one (up to MAX_BLOCK) each record with its next
    WINDOW records only — the pairs still connect the whole block into one group, at a linear
    cost. Blocks over MAX_BLOCK are skipped."""
    ids = sorted(set(ids))
    n = len(ids)
    if n < 2 or n > MAX_BLOCK:
        return
    reach = n if n <= ALL_PAIRS else WINDOW + 1
    for i in range(n - 1):
        a = ids[i] << _SHIFT
        for j in range(i + 1, min(n, i + reach)):
            out.append(a | ids[j])


def key_block_pairs(rows: Iterable[tuple[int, int]], out: array) -> None:
    """Pairs of records sharing a key; `rows` are (key, record id) ordered by key."""
    current = None
    block: list[int] = []
    for key, rid in rows:
        if key != current:
            if len(block) > 1:
                _pairs_of_block(block, out)
            current, block = key, []
        if len(block) <= MAX_BLOCK:
            block.append(rid)
    if len(block) > 1:
        _pairs_of_block(block, out)


def core_pairs(cores: list[tuple[str, int]], out: array) -> None:
    """Pairs from the sorted cores: same-core blocks whole, then each record with its next WINDOW
    neighbours in core order. `cores` is sorted in place."""
    cores.sort()
    n = len(cores)
    start = 0
    for i in range(1, n + 1):
        if i == n or cores[i][0] != cores[start][0]:
            if i - start > 1:
                _pairs_of_block([rid for _c, rid in cores[start:i]], out)
            start = i
    for i in range(n - 1):
        a = cores[i][1]
        for j in range(i + 1, min(i + 1 + WINDOW, n)):
            b = cores[j][1]
            if a != b:
                out.append((a << _SHIFT | b) if a < b else (b << _SHIFT | a))


def unique_pairs(pairs: array) -> Iterator[tuple[int, int]]:
    last = -1
    mask = (1 << _SHIFT) - 1
    for p in sorted(pairs):
        if p != last:
            last = p
            yield p >> _SHIFT, p & mask


def profile_cores(p: Profile) -> list[str]:
    """The sort keys of a record: each name's core, and its words sorted when there are several
    ("rossi ceramiche" and "ceramiche rossi" meet)."""
    out: list[str] = []
    for c, words in zip(p.cores, p.core_words, strict=True):
        if c:
            out.append(c)
            if " " in words:
                out.append("".join(sorted(words.split())))
    return list(dict.fromkeys(out))


def find_company_pairs(
    profiles: dict[int, Profile], key_rows: Iterable[tuple[int, int]], *, threshold: float
) -> list[tuple[int, int, float, list[dict]]]:
    """Every pair scoring at least `threshold`, from in-memory profiles and (key, id) rows."""
    pairs = array("q")
    key_block_pairs(sorted(key_rows), pairs)
    core_pairs([(c, pid) for pid, p in profiles.items() for c in profile_cores(p)], pairs)
    found = []
    for a, b in unique_pairs(pairs):
        score, reasons = score_profiles_raw(profiles[a], profiles[b])
        if score >= threshold:
            found.append((a, b, score, reasons))
    return found


def groups_of(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of the pairs (union-find), each sorted, biggest first."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
        parent.setdefault(a, a)
        parent.setdefault(b, b)
    comps: dict[int, list[int]] = {}
    for x in parent:
        comps.setdefault(find(x), []).append(x)
    return sorted((sorted(c) for c in comps.values()), key=lambda c: (-len(c), c[0]))


# ---------------------------------------------------------------------------------------------
# the database sweep

COMPANY_SQL = (
    "SELECT id, name, name_local, country, email, email_domains, website, phones, tax_id "
    "FROM customers_company ORDER BY id"
)
CONTACT_SQL = (
    "SELECT c.id, c.company_id, c.first_name, c.last_name, c.name_local, c.emails, c.phones, c.whatsapp, "
    "co.country FROM customers_contact c JOIN customers_company co ON co.id = c.company_id ORDER BY c.id"
)

# Filled before the worker processes fork, read by them (copy-on-write).
_STORE: dict = {}
_SEP, _SUB = "\x1e", "\x1f"


def _json_list(v) -> list:
    if not v:
        return []
    if isinstance(v, list):
        return v
    try:
        out = orjson.loads(v)
    except orjson.JSONDecodeError:
        return []
    return out if isinstance(out, list) else []


def encode_profile(p: Profile) -> str:
    """A company profile as one compact string: at 1M companies a Profile object costs ~1 KB, the
    string ~150 bytes (the sweep holds every record in memory while it scores)."""
    return _SEP.join(
        (
            _SUB.join(p.names),
            p.country,
            _SUB.join(sorted(p.domains)),
            _SUB.join(sorted(p.hosts)),
            p.email,
            _SUB.join(sorted(p.phones)),
            p.tax,
            "1" if p.tax_valid else "",
        )
    )


def decode_profile(s: str, pid: int | None = None) -> Profile:
    names, country, domains, hosts, email, phones, tax, valid = s.split(_SEP)
    return profile_from_names(
        pid,
        tuple(names.split(_SUB)) if names else (),
        country=country,
        domains=frozenset(domains.split(_SUB)) if domains else frozenset(),
        hosts=frozenset(hosts.split(_SUB)) if hosts else frozenset(),
        email=email,
        phones=frozenset(phones.split(_SUB)) if phones else frozenset(),
        tax=tax,
        tax_valid=bool(valid),
    )


def _company_values(row) -> dict:
    cid, name, local, country, email, domains, website, phones, tax = row
    return {
        "id": cid,
        "name": name,
        "name_local": local,
        "country": country,
        "email": email,
        "email_domains": _json_list(domains),
        "website": website,
        "phones": _json_list(phones),
        "tax_id": decrypt_value(tax, TAX_ID_LABEL) if tax else tax,  # encrypted at rest
    }


def _load_company_range(bounds: tuple[int, int]) -> tuple[list[tuple[int, str]], list[str]]:
    """(id, encoded profile) and "core\x00id" sort entries for the companies with ids in [lo, hi)."""
    lo, hi = bounds
    encoded: list[tuple[int, str]] = []
    cores: list[str] = []
    with connection.cursor() as cur:
        cur.execute(COMPANY_SQL.replace("ORDER BY id", "WHERE id >= %s AND id < %s ORDER BY id"), [lo, hi])
        while rows := cur.fetchmany(5000):
            for row in rows:
                p = company_profile(_company_values(row))
                encoded.append((row[0], encode_profile(p)))
                cores += [f"{c}\x00{row[0]}" for c in profile_cores(p)]
    return encoded, cores


def _id_ranges(table: str, step: int) -> list[tuple[int, int]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        lo, hi = cur.fetchone()
    if lo is None:
        return []
    return [(a, min(a + step, hi + 1)) for a in range(lo, hi + 1, step)]


def _pool(workers: int):
    connection.close()  # never share the database connection with a forked child
    return mp.get_context("fork").Pool(workers)


def _load_companies(workers: int, progress) -> tuple[list, list[str], int]:
    """Every company as an encoded profile in a list indexed by id, and the sorted core entries."""
    ranges = _id_ranges("customers_company", 25000)
    store: list = [None] * ((ranges[-1][1]) if ranges else 0)
    cores: list[str] = []
    n = 0

    def take(part):
        nonlocal n
        encoded, part_cores = part
        for cid, enc in encoded:
            store[cid] = enc
        cores.extend(part_cores)
        n += len(encoded)
        if progress:
            progress("load", n)

    if workers > 1 and len(ranges) > 1 and "fork" in mp.get_all_start_methods():
        with _pool(workers) as pool:
            for part in pool.imap_unordered(_load_company_range, ranges):
                take(part)
    else:
        for r in ranges:
            take(_load_company_range(r))
    return store, cores, n


def core_entry_pairs(entries: list[str], out: array) -> None:
    """`core_pairs` on "core\x00id" strings (a tuple per entry would cost three objects)."""
    entries.sort()
    cores = []
    for e in entries:
        core, _sep, rid = e.rpartition("\x00")
        cores.append((core, int(rid)))
    entries.clear()
    core_pairs(cores, out)


def _load_contacts(progress) -> tuple[dict[int, ContactProfile], dict[int, list[int]]]:
    profiles: dict[int, ContactProfile] = {}
    by_company: dict[int, list[int]] = {}
    with connection.cursor() as cur:
        cur.execute(CONTACT_SQL)
        n = 0
        while rows := cur.fetchmany(5000):
            for pid, company_id, first, last, local, emails, phones, whatsapp, country in rows:
                profiles[pid] = contact_profile(
                    {
                        "id": pid,
                        "company_id": company_id,
                        "first_name": first,
                        "last_name": last,
                        "name_local": local,
                        "emails": _json_list(emails),
                        "phones": _json_list(phones),
                        "whatsapp": whatsapp,
                        "country": country,
                    }
                )
                by_company.setdefault(company_id, []).append(pid)
            n += len(rows)
            if progress:
                progress("load", n)
    return profiles, by_company


def _key_rows(table: str, column: str) -> Iterator[tuple[int, int]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT key, {column} FROM {table} ORDER BY key")  # the (key, id) index, in order
        while rows := cur.fetchmany(20000):
            yield from rows


def _score_slice(args) -> list[tuple[int, int, float, bytes]]:
    lo, hi, threshold = args
    store = _STORE["store"]
    pairs = _STORE["pairs"]
    score = _STORE["score"]
    decode = _STORE["decode"]
    mask = (1 << _SHIFT) - 1
    out = []
    last_a, pa = -1, None
    for i in range(lo, hi):
        p = pairs[i]
        a, b = p >> _SHIFT, p & mask
        if a != last_a:  # pairs are sorted by a: decode each a once
            last_a, pa = a, decode(store[a], a)
        s, reasons = score(pa, decode(store[b], b))
        if s >= threshold:
            out.append((a, b, s, orjson.dumps(storable_reasons(reasons))))
    return out


def _score_all(store, decode, pairs: array, score, threshold: float, workers: int, sink) -> None:
    """Score every pair; the pairs at or above the threshold go to `sink` slice by slice (never
    all at once: a million found pairs with their reasons would take a gigabyte)."""
    _STORE.update(store=store, pairs=pairs, score=score, decode=decode)
    n = len(pairs)
    step = 50000
    slices = [(lo, min(n, lo + step), threshold) for lo in range(0, n, step)]
    try:
        if workers <= 1 or n < 20000 or "fork" not in mp.get_all_start_methods():
            for sl in slices:
                sink(_score_slice(sl))
            return
        with _pool(workers) as pool:
            # at most a few slices in flight: when writing is slower than scoring, finished
            # slices must wait in the workers' queue, not pile up in this process's memory
            pending: deque = deque()
            for sl in slices:
                pending.append(pool.apply_async(_score_slice, (sl,)))
                if len(pending) >= workers * 2:
                    sink(pending.popleft().get())
            while pending:
                sink(pending.popleft().get())
    finally:
        _STORE.clear()


def _dedupe_sorted(pairs: array) -> array:
    pairs = array("q", sorted(pairs))
    out = array("q")
    last = -1
    for p in pairs:
        if p != last:
            out.append(p)
            last = p
    return out


def _same(profile, _pid):
    return profile


def sweep(
    entity: str = "companies",
    *,
    threshold: float | None = None,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict:
    """Run the sweep over the whole archive and store the pairs. Returns counts and timings."""
    kind = ENTITIES[entity]
    threshold = default_threshold() if threshold is None else threshold
    workers = workers or min(2, os.cpu_count() or 1)
    if connection.in_atomic_block or connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        workers = 1  # forked workers need their own connection to a database they can open
    timings: dict[str, float] = {}
    t0 = t = time.perf_counter()
    started = timezone.now()
    pairs = array("q")
    if kind == "company":
        store, cores, records = _load_companies(workers, progress)
        timings["load_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        key_block_pairs(_key_rows("dedup_companykey", "company_id"), pairs)
        core_entry_pairs(cores, pairs)
        del cores
        score, decode = score_profiles_raw, decode_profile
    else:
        profiles, by_company = _load_contacts(progress)
        store, records = profiles, len(profiles)
        timings["load_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        key_block_pairs(_key_rows("dedup_contactkey", "contact_id"), pairs)
        for ids in by_company.values():  # the same person twice within one company
            _pairs_of_block(ids, pairs)
        del by_company
        score, decode = score_contact_profiles_raw, _same
    pairs = _dedupe_sorted(pairs)
    timings["blocking_s"] = round(time.perf_counter() - t, 2)
    if progress:
        progress("pairs", len(pairs))
    t = time.perf_counter()
    writer = PairWriter(kind, started=started)
    _score_all(store, decode, pairs, score, threshold, workers, writer.add)
    del store
    timings["scoring_and_store_s"] = round(time.perf_counter() - t, 2)
    timings["store_s"] = round(writer.seconds, 2)
    t = time.perf_counter()
    stale = writer.finish()
    timings["stale_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    n_groups = rebuild_groups(kind)
    timings["groups_s"] = round(time.perf_counter() - t, 2)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    return {
        "entity": entity,
        "records": records,
        "candidate_pairs": len(pairs),
        "pairs": writer.count,
        "stale_removed": stale,
        "groups": n_groups,
        "threshold": threshold,
        "workers": workers,
        **timings,
    }


class PairWriter:
    """Upserts found pairs as they come — new ones inserted, open ones rewritten only when their
    score or reasons changed (rewriting millions of unchanged rows was most of a sweep's time),
    dismissed and merged ones left as decided — then `finish` deletes the open pairs this sweep
    did not find again (checked against the sorted codes of the pairs found)."""

    def __init__(self, kind: str, *, started):
        self.kind, self.started = kind, started
        self.now = timezone.now()
        self.count = 0
        self.seconds = 0.0
        self.codes = array("q")
        reasons = "%s" if connection.vendor == "sqlite" else "%s::jsonb"
        self.sql = (
            "INSERT INTO dedup_duplicatepair (created_at, updated_at, entity, a_id, b_id, score, reasons, status, "
            f"seen_at) VALUES (%s, %s, %s, %s, %s, %s, {reasons}, %s, %s) "
            "ON CONFLICT (entity, a_id, b_id) DO UPDATE SET score = excluded.score, reasons = excluded.reasons, "
            "seen_at = excluded.seen_at, updated_at = excluded.updated_at "
            "WHERE dedup_duplicatepair.status = 'open' AND (dedup_duplicatepair.score <> excluded.score "
            "OR dedup_duplicatepair.reasons <> excluded.reasons)"
        )
        self.raw_sql = self.sql.replace("%s", "?") if connection.vendor == "sqlite" else self.sql
        self.now_db = connection.ops.adapt_datetimefield_value(self.now)

    def add(self, found: list[tuple[int, int, float, bytes]]) -> None:
        if not found:
            return
        t = time.perf_counter()
        now, kind, status = self.now_db, self.kind, PairStatus.OPEN.value
        rows = [(now, now, kind, a, b, s, r.decode(), status, now) for a, b, s, r in found]
        self.codes.extend(a << _SHIFT | b for a, b, _s, _r in found)
        with transaction.atomic():
            connection.ensure_connection()
            # the driver's cursor: Django's wrapper adapts every datetime of every row again
            cur = connection.connection.cursor()
            try:
                cur.executemany(self.raw_sql, rows)
            finally:
                cur.close()
        self.count += len(rows)
        self.seconds += time.perf_counter() - t

    def finish(self) -> int:
        found = sorted(self.codes)
        self.codes = array("q")
        n = len(found)
        stale: list[int] = []
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, a_id, b_id FROM dedup_duplicatepair WHERE entity = %s AND status = 'open'",
                [self.kind],
            )
            while rows := cur.fetchmany(20000):
                for pid, a, b in rows:
                    code = a << _SHIFT | b
                    i = bisect_left(found, code)
                    if i == n or found[i] != code:
                        stale.append(pid)
        for i in range(0, len(stale), 500):
            with transaction.atomic():
                with connection.cursor() as cur:
                    part = stale[i : i + 500]
                    cur.execute(
                        f"DELETE FROM dedup_duplicatepair WHERE id IN ({','.join(['%s'] * len(part))})", part
                    )
        return len(stale)


def store_pairs(kind: str, found: list[tuple[int, int, float, bytes]], *, started) -> dict:
    """Store a whole list of found pairs (the in-memory path, e.g. tests)."""
    writer = PairWriter(kind, started=started)
    writer.add(found)
    return {"stale_removed": writer.finish()}


# ---------------------------------------------------------------------------------------------
# groups for review (the page, the API and the CLI)


def _union_find_groups(pairs: Iterable[tuple[int, int, float]]) -> list[tuple[list[int], float]]:
    """Connected components of scored pairs: [(sorted ids, best score)]."""
    parent: dict[int, int] = {}
    best: dict[int, float] = {}

    def find(x: int) -> int:
        while True:
            p = parent.get(x, x)
            if p == x:
                return x
            gp = parent.get(p, p)
            parent[x] = gp  # path halving
            x = gp

    scores: list[tuple[int, float]] = []
    for a, b, score in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        scores.append((a, score))
    for a, score in scores:
        r = find(a)
        if score > best.get(r, -1.0):
            best[r] = score
    comps: dict[int, list[int]] = {}
    for x in parent:
        comps.setdefault(find(x), []).append(x)
    return [(sorted(ids), best[root]) for root, ids in comps.items()]


def _write_groups(kind: str, groups: list[tuple[list[int], float]]) -> None:
    from .models import DuplicateGroup

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM dedup_duplicategroup")
        next_id = cur.fetchone()[0] + 1
    json_ph = "%s" if connection.vendor == "sqlite" else "%s::jsonb"
    g_sql = f"INSERT INTO {DuplicateGroup._meta.db_table} (id, entity, ids, size, score, created_at) VALUES (%s, %s, {json_ph}, %s, %s, %s)"
    m_sql = "INSERT INTO dedup_duplicategroupmember (group_id, entity, record_id) VALUES (%s, %s, %s)"
    if connection.vendor == "sqlite":
        g_sql, m_sql = g_sql.replace("%s", "?"), m_sql.replace("%s", "?")
    for i in range(0, len(groups), 20000):
        g_rows, m_rows = [], []
        for ids, score in groups[i : i + 20000]:
            g_rows.append((next_id, kind, orjson.dumps(ids).decode(), len(ids), score, now))
            m_rows += [(next_id, kind, r) for r in ids]
            next_id += 1
        with transaction.atomic():
            connection.ensure_connection()
            cur = connection.connection.cursor()
            try:
                cur.executemany(g_sql, g_rows)
                cur.executemany(m_sql, m_rows)
            finally:
                cur.close()


def rebuild_groups(kind: str) -> int:
    """Connect the open pairs into groups and store them (replacing the entity's groups)."""

    def open_pairs():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT a_id, b_id, score FROM dedup_duplicatepair WHERE entity = %s AND status = 'open'",
                [kind],
            )
            while rows := cur.fetchmany(20000):
                yield from rows

    groups = _union_find_groups(open_pairs())
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM dedup_duplicategroupmember WHERE entity = %s", [kind])
            cur.execute("DELETE FROM dedup_duplicategroup WHERE entity = %s", [kind])
    _write_groups(kind, groups)
    return len(groups)


def regroup(kind: str, record_ids: Iterable[int]) -> None:
    """Recompute the groups that hold these records (after "Not duplicates" or a merge)."""
    from .models import DuplicateGroup, DuplicateGroupMember, DuplicatePair

    group_ids = set(
        DuplicateGroupMember.objects.filter(entity=kind, record_id__in=list(record_ids)).values_list(
            "group_id", flat=True
        )
    )
    members = set(
        DuplicateGroupMember.objects.filter(group_id__in=group_ids).values_list("record_id", flat=True)
    )
    members.update(record_ids)
    pairs = DuplicatePair.objects.filter(
        entity=kind, status=PairStatus.OPEN, a_id__in=members, b_id__in=members
    ).values_list("a_id", "b_id", "score")
    groups = _union_find_groups(pairs)
    DuplicateGroup.objects.filter(id__in=group_ids).delete()
    _write_groups(kind, groups)


def open_groups(
    entity: str = "companies", *, threshold: float | None = None, ids: set[int] | None = None
) -> list[dict]:
    """Connected groups of open pairs at or above `threshold`, computed from the pairs:
    [{"ids", "score", "reasons", "pairs": [(a, b, score)]}], best first. For the CLI and tests; the
    review page reads the stored groups (`stored_groups`). `ids` keeps the groups touching them."""
    from .models import DuplicatePair

    kind = ENTITIES.get(entity, entity)
    threshold = default_threshold() if threshold is None else threshold
    rows = list(
        DuplicatePair.objects.filter(entity=kind, status=PairStatus.OPEN, score__gte=threshold).values_list(
            "a_id", "b_id", "score", "reasons"
        )
    )
    best: dict[int, tuple[float, list]] = {}
    by_root: dict[int, list] = {}
    comps = groups_of((a, b) for a, b, _s, _r in rows)
    member = {x: i for i, comp in enumerate(comps) for x in comp}
    for a, b, s, r in rows:
        g = member[a]
        by_root.setdefault(g, []).append((a, b, s))
        if s > best.get(g, (-1.0, []))[0]:
            best[g] = (s, r)
    out = []
    for i, comp in enumerate(comps):
        if ids is not None and not ids.intersection(comp):
            continue
        s, r = best[i]
        out.append({"ids": comp, "score": s, "reasons": reason_texts(r), "pairs": sorted(by_root[i])})
    out.sort(key=lambda g: (-g["score"], g["ids"][0]))
    return out


def group_reasons(kind: str, ids: list[int], *, masked: bool = False) -> list[str]:
    """The reasons of the best open pair among `ids` (a stored group's explanation)."""
    from .models import DuplicatePair

    # no ORDER BY score: the planner would walk the (entity, status, score) index over every pair;
    # the few pairs among a page's records come from the (entity, a_id, b_id) index
    # (status is checked here, not in SQL, for the same reason)
    pairs = DuplicatePair.objects.filter(entity=kind, a_id__in=ids, b_id__in=ids).values_list(
        "score", "reasons", "status"
    )
    best = max((p for p in pairs if p[2] == PairStatus.OPEN), default=(0, [], ""), key=lambda p: p[0])
    return reason_texts(best[1], masked=masked)


# ---------------------------------------------------------------------------------------------
# decisions on pairs (written here, next to the sweep that must respect them)


@transaction.atomic
def pairs_dismiss(*, actor, entity: str, ids: list[int]) -> int:
    """Mark every open pair among `ids` "Not duplicates": the sweep never brings them back.
    The caller has checked that the actor sees every record. Returns the number of pairs."""
    from tradecrm.audit.services import audit_record

    from .models import DuplicatePair

    kind = ENTITIES.get(entity, entity)
    ids = sorted(set(ids))
    qs = DuplicatePair.objects.filter(entity=kind, a_id__in=ids, b_id__in=ids, status=PairStatus.OPEN)
    pairs = list(qs.values_list("id", "a_id", "b_id"))
    if not pairs:
        return 0
    DuplicatePair.objects.filter(id__in=[p[0] for p in pairs]).update(
        status=PairStatus.DISMISSED, decided_by=actor, updated_at=timezone.now()
    )
    regroup(kind, ids)
    audit_record(
        actor=actor,
        action="duplicates.dismiss",
        object_type=f"customers.{kind}",
        object_id=ids[0],
        changes={"entity": kind, "ids": ids, "pairs": [[a, b] for _i, a, b in pairs]},
    )
    return len(pairs)
