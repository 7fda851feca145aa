#!/usr/bin/env python3
"""The queries that read payments by something other than their txn, timed on a ledger (issue 11,
docs/bench.md "What a purchase writes"): each one's plan (EXPLAIN QUERY PLAN) and its median time over --runs
runs, through Python's sqlite3 (an independent client). Read-only, except with --with-card-index, which builds an
index on payments(card_id) for the comparison and drops it (run it on a bench copy, never on a served ledger).
Usage: bench-queries.py LEDGER [--runs N] [--with-card-index]."""
import argparse
import sqlite3
import statistics
import time

CHAIN = """WITH RECURSIVE card_payments(txn) AS (
    SELECT newest_payment_txn FROM cards WHERE id = :card AND newest_payment_txn IS NOT NULL
    UNION ALL
    SELECT p.previous_card_payment_txn FROM card_payments c JOIN payments p ON p.txn = c.txn
    WHERE p.previous_card_payment_txn IS NOT NULL)"""

QUERIES = [
    ("totals: a terminal's purchases of a day (payments_by_terminal_day)",
     "SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments WHERE terminal_id = :terminal AND business_day = :day "
     "AND kind = 'purchase' AND status <> 'reversed'"),
    ("reverse without a stan record: the terminal's newest payment under a stan, 7 days (payments_by_terminal_day)",
     "SELECT txn FROM payments WHERE terminal_id = :terminal AND business_day >= :week_ago AND stan = :stan "
     "AND kind IN ('purchase', 'voucher') AND created_at_ms >= 0 ORDER BY created_at_ms DESC, rowid DESC LIMIT 1"),
    ("online.list: a partner's online payments of 30 days (payments_online_by_partner)",
     "SELECT txn FROM payments p WHERE p.partner_id = :partner AND p.kind = 'online' AND p.created_at_ms >= 0 "
     "ORDER BY p.created_at_ms DESC, p.rowid DESC LIMIT 500"),
    ("totals: a partner's online payments of a day (payments_online_by_partner)",
     "SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments WHERE partner_id = :partner AND kind = 'online' "
     "AND created_at_ms >= 0 AND created_at_ms < 9000000000000 AND business_day = :day"),
    ("a card's payments, newest first: its chain from the card's row (no index)",
     CHAIN + " SELECT p.txn, p.amount_cents, p.created_at_ms FROM card_payments cp JOIN payments p ON p.txn = cp.txn"),
    ("reimbursement batch: every payment before a cutoff (a scan: no index, by design)",
     "SELECT COUNT(*) FROM payments WHERE created_at_ms < 9000000000000"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--with-card-index", action="store_true",
                        help="also time a card's payments through an index on payments(card_id) (made, then dropped)")
    args = parser.parse_args()
    db = sqlite3.connect(args.ledger)
    payments = db.execute("SELECT COUNT(*) FROM payments").fetchone()[0]
    terminal, day, stan = db.execute(
        "SELECT terminal_id, business_day, stan FROM payments WHERE terminal_id IS NOT NULL ORDER BY rowid DESC LIMIT 1").fetchone()
    week_ago = db.execute("SELECT date(?, '-7 days')", (day,)).fetchone()[0]
    partner = db.execute("SELECT partner_id FROM payments ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    # The card with the most payments among a sample: the worst history a beneficiary page asks for.
    card, card_payments = db.execute(
        "SELECT card_id, COUNT(*) AS n FROM (SELECT card_id FROM payments ORDER BY rowid DESC LIMIT 200000) "
        "GROUP BY card_id ORDER BY n DESC LIMIT 1").fetchone()
    card_total = sum(1 for _ in db.execute(CHAIN + " SELECT txn FROM card_payments", {"card": card}))
    params = {"terminal": terminal, "day": day, "week_ago": week_ago, "stan": stan, "partner": partner, "card": card}
    print(f"queries: {payments} payments; terminal {terminal}, day {day}, partner {partner}, card {card} ({card_total} payments)")

    def timed(label, sql):
        plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        samples = []
        rows = 0
        for _ in range(args.runs):
            started = time.perf_counter()
            rows = len(db.execute(sql, params).fetchall())
            samples.append((time.perf_counter() - started) * 1000)
        print(f"query: {statistics.median(samples):.3f} ms median ({rows} rows) | {label} | {plan}")

    for label, sql in QUERIES:
        timed(label, sql)
    if args.with_card_index:
        started = time.perf_counter()
        db.execute("CREATE INDEX bench_payments_by_card ON payments(card_id, created_at_ms)")
        print(f"query: index on payments(card_id, created_at_ms) built in {time.perf_counter() - started:.1f} s")
        timed("a card's payments, newest first, through payments(card_id, created_at_ms)",
              "SELECT txn, amount_cents, created_at_ms FROM payments WHERE card_id = :card ORDER BY created_at_ms DESC")
        db.execute("DROP INDEX bench_payments_by_card")
    db.close()


if __name__ == "__main__":
    main()
