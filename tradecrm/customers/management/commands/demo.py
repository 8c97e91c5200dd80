import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tradecrm.customers.demo import (
    DemoGenerator,
    Owner,
    demo_through_services,
    ensure_demo_tags,
    ensure_demo_users,
    fast_insert_django,
)

SERVICES_LIMIT = 2000


class Command(BaseCommand):
    help = (
        "Fill the customer archive with realistic demo buyers (US, EU, Middle East, Latin America, "
        "Southeast Asia), their timelines and the deal flow (products, exchange rates, inquiries, "
        "opportunities, quotations, proforma invoices, orders, payments, samples). Reruns add more."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--companies", type=int, default=200, help="how many companies to add (default 200)"
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed (default: a new one each run)"
        )
        parser.add_argument(
            "--fast",
            action="store_true",
            help=f"bulk path even for {SERVICES_LIMIT} companies or fewer (no per-row validation)",
        )

    def handle(self, *args, companies: int, seed: int | None, fast: bool, **options):
        if companies < 0:
            raise CommandError("--companies must be 0 or more.")
        if seed is None:
            seed = time.time_ns() % 1_000_000_007
        started = time.perf_counter()
        with transaction.atomic():
            users, passwords = ensure_demo_users()
            tag_ids = ensure_demo_tags()
        sales = [u for u in users if u.role == "sales"] or users
        if companies <= SERVICES_LIMIT and not fast:
            demo_through_services(companies, seed=seed, owners=sales, tag_ids=tag_ids)
            path = "services"
        else:
            gen = DemoGenerator(
                seed=seed,
                owners=[Owner(u.pk, u.team_id) for u in sales],
                tag_ids=tag_ids,
                follower_ids=[u.pk for u in users],
            )
            step = max(companies // 10, 1)
            fast_insert_django(
                gen,
                companies,
                progress=lambda done: done % step == 0 and self.stdout.write(f"  {done:,} / {companies:,}"),
            )
            path = "bulk insert"
        # a few months of correspondence on the newest customers, then the reminder scan, so the
        # timeline, "last contact", "My day" and the notifications have something to show
        from tradecrm.followups.reminders import run_reminders
        from tradecrm.interactions.demo import demo_timelines

        entries = demo_timelines(seed=seed, limit=min(companies, 2000))
        # the deal flow on the newest customers (after their timelines, which take only customers
        # with none yet): products, rates, letterhead, inquiries through to orders and payments
        from tradecrm.orders.demo import demo_deal_flow

        flow = demo_deal_flow(seed=seed, companies=companies)
        scan = run_reminders()
        took = time.perf_counter() - started
        self.stdout.write(f"Added {companies:,} demo companies ({path}, seed {seed}) in {took:.1f} s.")
        self.stdout.write(
            f"Added {entries:,} timeline entries; the reminder scan planned "
            f"{scan.get('cadence', 0) + scan.get('unanswered', 0) + scan.get('review', 0):,} follow-ups."
        )
        self.stdout.write(f"Deal flow: {flow.summary()}.")
        if passwords:
            self.stdout.write("Demo users created (password shown once):")
            for user in users:
                if user.username in passwords:
                    team = user.team.name if user.team else "-"
                    self.stdout.write(
                        f"  {user.username:<10} {user.role:<8} team {team:<6} {passwords[user.username]}"
                    )
