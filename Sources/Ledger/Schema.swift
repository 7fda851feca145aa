/// Versioned migrations. Each runs once, in order, inside one transaction; `PRAGMA user_version`
/// records how far a ledger file has come. Never edit a shipped migration: add the next one.
enum Schema {
    static let migrations: [String] = [
        // 1: the double-entry core, the domain, idempotency and the audit trail.
        """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('funding', 'wallet', 'partner')),
            name TEXT NOT NULL UNIQUE,
            debits_posted INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
            credits_posted INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
            debits_pending INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
            credits_pending INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
            -- A wallet never goes below zero, counting the money its vouchers hold (balance bounds,
            -- as TigerBeetle's debits_must_not_exceed_credits): the database itself refuses it.
            CHECK (kind <> 'wallet' OR credits_posted - debits_posted - debits_pending >= 0),
            -- A partner is only ever refunded out of what it received.
            CHECK (kind <> 'partner' OR credits_posted - debits_posted >= 0)
        );

        -- Money moves only here. A transfer debits one account and credits another by the same amount.
        -- phase: 'single' moves posted money at once; 'pending' reserves it (a voucher);
        -- 'post' and 'void' resolve one pending transfer (pending_id), once.
        CREATE TABLE transfers (
            id INTEGER PRIMARY KEY,
            debit_account_id INTEGER NOT NULL REFERENCES accounts(id),
            credit_account_id INTEGER NOT NULL REFERENCES accounts(id),
            amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
            phase TEXT NOT NULL CHECK (phase IN ('single', 'pending', 'post', 'void')),
            kind TEXT NOT NULL,
            pending_id INTEGER REFERENCES transfers(id),
            resolved_by INTEGER REFERENCES transfers(id),
            reference TEXT,
            created_at_ms INTEGER NOT NULL,
            CHECK (debit_account_id <> credit_account_id),
            CHECK ((phase IN ('post', 'void')) = (pending_id IS NOT NULL)),
            CHECK (phase = 'pending' OR resolved_by IS NULL)
        );
        CREATE UNIQUE INDEX transfers_resolve_once ON transfers(pending_id) WHERE pending_id IS NOT NULL;

        CREATE TABLE beneficiaries (
            id INTEGER PRIMARY KEY,
            dossier TEXT NOT NULL UNIQUE,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            birth_date TEXT,
            situation TEXT,
            boursier INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE cards (
            id INTEGER PRIMARY KEY,
            pan TEXT NOT NULL UNIQUE,
            beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
            status TEXT NOT NULL CHECK (status IN ('active', 'lost', 'stolen', 'damaged')),
            last_atc INTEGER NOT NULL DEFAULT 0 CHECK (last_atc BETWEEN 0 AND 65535),
            issued_at_ms INTEGER NOT NULL
        );

        CREATE TABLE wallets (
            id INTEGER PRIMARY KEY,
            card_id INTEGER NOT NULL REFERENCES cards(id),
            code TEXT NOT NULL,
            account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
            loaded_on TEXT NOT NULL,
            expires_on TEXT NOT NULL,
            UNIQUE (card_id, code)
        );

        CREATE TABLE partners (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            website TEXT NOT NULL DEFAULT '',
            accepts_prepayment INTEGER NOT NULL,
            accepts_online INTEGER NOT NULL,
            account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id)
        );
        CREATE TABLE partner_wallets (
            partner_id TEXT NOT NULL REFERENCES partners(id),
            code TEXT NOT NULL,
            PRIMARY KEY (partner_id, code)
        );

        CREATE TABLE terminals (
            id TEXT PRIMARY KEY,
            partner_id TEXT NOT NULL REFERENCES partners(id),
            cert_sha256 TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
            enrolled_at_ms INTEGER NOT NULL,
            revoked_at_ms INTEGER
        );

        CREATE TABLE loads (
            id INTEGER PRIMARY KEY,
            wallet_id INTEGER NOT NULL REFERENCES wallets(id),
            amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
            expires_on TEXT NOT NULL,
            transfer_id INTEGER NOT NULL REFERENCES transfers(id),
            created_at_ms INTEGER NOT NULL
        );

        -- A payment a partner received: a card purchase, a voucher redemption or an online payment.
        -- status: approved, reversed (undone by the terminal), cancelled (refunded by the partner).
        CREATE TABLE payments (
            txn TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('purchase', 'voucher', 'online')),
            card_id INTEGER NOT NULL REFERENCES cards(id),
            wallet_id INTEGER NOT NULL REFERENCES wallets(id),
            partner_id TEXT NOT NULL REFERENCES partners(id),
            terminal_id TEXT REFERENCES terminals(id),
            stan TEXT,
            amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
            auth_code TEXT,
            label TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('approved', 'reversed', 'cancelled')),
            voucher_code TEXT,
            transfer_id INTEGER NOT NULL REFERENCES transfers(id),
            undo_transfer_id INTEGER REFERENCES transfers(id),
            created_at_ms INTEGER NOT NULL,
            business_day TEXT NOT NULL,
            CHECK ((status = 'approved') = (undo_transfer_id IS NULL))
        );
        CREATE INDEX payments_by_terminal_day ON payments(terminal_id, business_day);
        CREATE INDEX payments_by_partner_kind ON payments(partner_id, kind, created_at_ms);
        CREATE INDEX payments_by_card ON payments(card_id, created_at_ms);

        CREATE TABLE cancellations (
            txn TEXT PRIMARY KEY,
            original_txn TEXT NOT NULL UNIQUE REFERENCES payments(txn),
            partner_id TEXT NOT NULL REFERENCES partners(id),
            terminal_id TEXT NOT NULL REFERENCES terminals(id),
            stan TEXT NOT NULL,
            amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
            transfer_id INTEGER NOT NULL REFERENCES transfers(id),
            created_at_ms INTEGER NOT NULL,
            business_day TEXT NOT NULL
        );
        CREATE INDEX cancellations_by_terminal_day ON cancellations(terminal_id, business_day);

        -- status: issued (money held), redeemed, cancelled (by the beneficiary), expired (released).
        CREATE TABLE vouchers (
            code TEXT PRIMARY KEY,
            card_id INTEGER NOT NULL REFERENCES cards(id),
            wallet_id INTEGER NOT NULL REFERENCES wallets(id),
            partner_id TEXT NOT NULL REFERENCES partners(id),
            amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
            status TEXT NOT NULL CHECK (status IN ('issued', 'redeemed', 'cancelled', 'expired')),
            expires_on TEXT NOT NULL,
            hold_transfer_id INTEGER NOT NULL REFERENCES transfers(id),
            created_at_ms INTEGER NOT NULL,
            resolved_at_ms INTEGER
        );
        CREATE INDEX vouchers_by_card ON vouchers(card_id);

        -- What each terminal's stan got, byte for byte, so a retransmission gets the same answer.
        -- state: answered, or reversed_unseen (a reversal came first: the late original is declined).
        CREATE TABLE stans (
            terminal_id TEXT NOT NULL,
            stan TEXT NOT NULL,
            fingerprint TEXT,
            response BLOB,
            reversed INTEGER NOT NULL DEFAULT 0,
            created_at_ms INTEGER NOT NULL,
            PRIMARY KEY (terminal_id, stan)
        ) WITHOUT ROWID;

        -- Every decision: who, what, when, result. PANs are masked before they get here.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            result TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        INSERT INTO accounts(kind, name) VALUES ('funding', 'region');
        """,
        // (issue 8) a stan names the payment it produced (exact reversals), the voucher-guessing budget per
        // partner (persisted), and the indexes housekeeping needs to stay bounded.
        """
        ALTER TABLE stans ADD COLUMN payment_txn TEXT REFERENCES payments(txn);
        CREATE INDEX payments_by_terminal_stan ON payments(terminal_id, stan) WHERE stan IS NOT NULL;
        -- An existing ledger moves forward: a stan answered names the newest payment its terminal made under
        -- it since the stan was recorded (older payments with the same stan belong to an earlier use of it).
        UPDATE stans SET payment_txn = (
            SELECT p.txn FROM payments p
            WHERE p.terminal_id = stans.terminal_id AND p.stan = stans.stan AND p.kind IN ('purchase', 'voucher')
              AND p.created_at_ms >= stans.created_at_ms
            ORDER BY p.created_at_ms DESC, p.rowid DESC LIMIT 1)
        WHERE fingerprint IS NOT NULL;
        CREATE INDEX stans_by_age ON stans(created_at_ms);
        CREATE INDEX vouchers_issued_by_expiry ON vouchers(expires_on) WHERE status = 'issued';
        CREATE INDEX audit_by_age ON audit(at_ms);

        -- Unknown or mistyped voucher codes, counted per partner (all its terminals share one budget) in a
        -- window that starts at the first failure. One row per partner: bounded by the partners.
        CREATE TABLE voucher_guessing (
            partner_id TEXT PRIMARY KEY REFERENCES partners(id),
            window_started_ms INTEGER NOT NULL,
            failures INTEGER NOT NULL CHECK (failures >= 0),
            locked_until_ms INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        """,
    ]
}
