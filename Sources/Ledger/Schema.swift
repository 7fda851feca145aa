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
        // (issue 12) Paying the partners: bank details, the Région's own account, reimbursement batches and
        // a `settlement` account. A partner's account may now go below zero (a cancellation after its money
        // was paid out: the partner owes it, carried to the next batch) but it is still never refunded more
        // than it received: `settled_posted` is the part of its debits that went to settlement. SQLite cannot
        // alter a CHECK and cannot rebuild `accounts` here (other tables reference it and foreign keys are on
        // inside this transaction), so the two CHECKs are rewritten in place with `writable_schema`, which
        // SQLite documents for changes that leave the stored rows valid (both only accept more rows).
        """
        ALTER TABLE accounts ADD COLUMN settled_posted INTEGER NOT NULL DEFAULT 0
            CHECK (settled_posted >= 0 AND settled_posted <= debits_posted);
        PRAGMA writable_schema = ON;
        UPDATE sqlite_schema SET sql = replace(replace(sql,
                'CHECK (kind IN (''funding'', ''wallet'', ''partner''))',
                'CHECK (kind IN (''funding'', ''wallet'', ''partner'', ''settlement''))'),
                'CHECK (kind <> ''partner'' OR credits_posted - debits_posted >= 0)',
                'CHECK (kind <> ''partner'' OR credits_posted - (debits_posted - settled_posted) >= 0)')
            WHERE type = 'table' AND name = 'accounts';
        PRAGMA writable_schema = RESET;
        INSERT INTO accounts(kind, name) VALUES ('settlement', 'settlement');

        -- A partner's bank account (IBAN in electronic form, BIC), checked before it gets here.
        CREATE TABLE partner_bank_accounts (
            partner_id TEXT PRIMARY KEY REFERENCES partners(id),
            iban TEXT NOT NULL CHECK (length(iban) BETWEEN 15 AND 34),
            bic TEXT NOT NULL CHECK (length(bic) IN (8, 11)),
            updated_at_ms INTEGER NOT NULL
        );
        -- The Région's own account: the debtor of every reimbursement transfer. One row.
        CREATE TABLE region_account (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            iban TEXT NOT NULL CHECK (length(iban) BETWEEN 15 AND 34),
            bic TEXT NOT NULL CHECK (length(bic) IN (8, 11)),
            updated_at_ms INTEGER NOT NULL
        );
        -- One batch per cutoff day (Europe/Paris). The debtor is copied in so the batch's files can be
        -- written again byte for byte whatever changes later.
        CREATE TABLE reimbursement_batches (
            id TEXT PRIMARY KEY,
            cutoff TEXT NOT NULL UNIQUE,
            execution_date TEXT NOT NULL,
            created_at_ms INTEGER NOT NULL,
            covers_until_ms INTEGER NOT NULL,
            total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
            debtor_name TEXT NOT NULL,
            debtor_iban TEXT NOT NULL,
            debtor_bic TEXT NOT NULL
        );
        -- What one partner gets in one batch: never negative (a negative net is not settled at all: its
        -- operations wait for the next batch). A transfer to settlement exactly when the amount is > 0.
        CREATE TABLE reimbursement_partners (
            batch_id TEXT NOT NULL REFERENCES reimbursement_batches(id),
            partner_id TEXT NOT NULL REFERENCES partners(id),
            amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
            operation_count INTEGER NOT NULL CHECK (operation_count > 0),
            transfer_id INTEGER UNIQUE REFERENCES transfers(id),
            end_to_end_id TEXT UNIQUE,
            creditor_name TEXT NOT NULL,
            creditor_iban TEXT,
            creditor_bic TEXT,
            PRIMARY KEY (batch_id, partner_id),
            CHECK ((amount_cents > 0) = (transfer_id IS NOT NULL)),
            CHECK ((amount_cents > 0) = (end_to_end_id IS NOT NULL AND creditor_iban IS NOT NULL AND creditor_bic IS NOT NULL))
        );
        -- Every operation settled, once: `operation` is 'payment:TXN' (money received) or 'undo:TXN' (that
        -- payment reversed or cancelled), so the primary key makes paying an operation twice impossible.
        CREATE TABLE reimbursement_lines (
            operation TEXT PRIMARY KEY,
            batch_id TEXT NOT NULL,
            partner_id TEXT NOT NULL,
            txn TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('purchase', 'voucher', 'online', 'reversal', 'cancellation')),
            amount_cents INTEGER NOT NULL CHECK (amount_cents <> 0),
            occurred_at_ms INTEGER NOT NULL,
            card_masked TEXT NOT NULL,
            FOREIGN KEY (batch_id, partner_id) REFERENCES reimbursement_partners(batch_id, partner_id)
        ) WITHOUT ROWID;
        CREATE INDEX reimbursement_lines_by_batch ON reimbursement_lines(batch_id, partner_id, occurred_at_ms);
        """,
        // (issue 10) Card applications and THR requests, from "Demande envoyée" to "Carte émise" or "Refusée".
        """
        -- A card application by a beneficiary (who may have no card yet). At most one open (submitted or
        -- validated) per beneficiary. Coordinates in integer micro-degrees (WGS 84).
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
            situation TEXT NOT NULL CHECK (situation IN ('lyceen', 'apprenti', 'ecole_production', 'post_bac')),
            level TEXT NOT NULL,
            address_id TEXT NOT NULL,
            address_label TEXT NOT NULL,
            address_complement TEXT NOT NULL DEFAULT '',
            postcode TEXT NOT NULL,
            insee_code TEXT NOT NULL,
            lat_microdeg INTEGER NOT NULL,
            lon_microdeg INTEGER NOT NULL,
            establishment_uai TEXT NOT NULL,
            establishment_name TEXT NOT NULL,
            boursier INTEGER NOT NULL CHECK (boursier IN (0, 1)),
            cfa_in_hdf INTEGER CHECK (cfa_in_hdf IN (0, 1)),
            contract_signed_on TEXT,
            contract_ends_on TEXT,
            apprentice_last_year INTEGER CHECK (apprentice_last_year IN (0, 1)),
            different_diploma_last_year INTEGER CHECK (different_diploma_last_year IN (0, 1)),
            photo_upload TEXT NOT NULL,
            contract_upload TEXT,
            notification TEXT NOT NULL CHECK (notification IN ('email', 'sms', 'email_sms')),
            status TEXT NOT NULL CHECK (status IN ('submitted', 'validated', 'approved', 'rejected')),
            reason TEXT,
            card_id INTEGER REFERENCES cards(id),
            submitted_at_ms INTEGER NOT NULL,
            validated_at_ms INTEGER,
            validated_by TEXT,
            decided_at_ms INTEGER,
            decided_by TEXT,
            CHECK ((status = 'approved') = (card_id IS NOT NULL)),
            CHECK ((status = 'rejected') = (reason IS NOT NULL)),
            CHECK (situation = 'apprenti' OR contract_upload IS NULL)
        );
        CREATE UNIQUE INDEX applications_one_open ON applications(beneficiary_id) WHERE status IN ('submitted', 'validated');
        CREATE INDEX applications_by_status ON applications(status, submitted_at_ms);

        -- A THR request (transport, hébergement, restauration) by an apprenti with a card. At most one open per card.
        -- The amounts are fixed at approval, from the rights file's scale.
        CREATE TABLE thr_requests (
            id TEXT PRIMARY KEY,
            card_id INTEGER NOT NULL REFERENCES cards(id),
            beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
            home_address_id TEXT NOT NULL,
            home_lat_microdeg INTEGER NOT NULL,
            home_lon_microdeg INTEGER NOT NULL,
            establishment_uai TEXT NOT NULL,
            distance_m INTEGER NOT NULL CHECK (distance_m >= 0),
            transport INTEGER NOT NULL CHECK (transport IN (0, 1)),
            hebergement INTEGER NOT NULL CHECK (hebergement IN (0, 1)),
            restauration INTEGER NOT NULL CHECK (restauration IN (0, 1)),
            documents TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('submitted', 'validated', 'approved', 'rejected')),
            reason TEXT,
            transport_cents INTEGER CHECK (transport_cents >= 0),
            hebergement_cents INTEGER CHECK (hebergement_cents >= 0),
            restauration_cents INTEGER CHECK (restauration_cents >= 0),
            submitted_at_ms INTEGER NOT NULL,
            validated_at_ms INTEGER,
            validated_by TEXT,
            decided_at_ms INTEGER,
            decided_by TEXT,
            CHECK (transport + hebergement + restauration > 0),
            CHECK ((status = 'rejected') = (reason IS NOT NULL)),
            CHECK ((status = 'approved') = (transport_cents IS NOT NULL))
        );
        CREATE UNIQUE INDEX thr_requests_one_open ON thr_requests(card_id) WHERE status IN ('submitted', 'validated');
        CREATE INDEX thr_requests_by_status ON thr_requests(status, submitted_at_ms);
        """,
        // (issue 9) the beneficiary web space: one account per beneficiary (bcrypt hash, lock-out, "Mon compte"
        // preferences), single-use password-reset links (only their SHA-256), and what "Où utiliser ma carte"
        // shows of a partner beyond migration 1 (postcode, coordinates in microdegrees).
        """
        CREATE TABLE web_accounts (
            beneficiary_id INTEGER PRIMARY KEY REFERENCES beneficiaries(id),
            password_hash TEXT NOT NULL,
            email TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            establishment TEXT NOT NULL DEFAULT '',
            failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
            locked_until_ms INTEGER NOT NULL DEFAULT 0,
            consent_region_news INTEGER NOT NULL DEFAULT 0,
            consent_partner_offers INTEGER NOT NULL DEFAULT 0,
            notify_email INTEGER NOT NULL DEFAULT 1,
            notify_sms INTEGER NOT NULL DEFAULT 0,
            created_at_ms INTEGER NOT NULL,
            updated_at_ms INTEGER NOT NULL
        );
        CREATE INDEX web_accounts_by_email ON web_accounts(email COLLATE NOCASE);
        CREATE TABLE web_password_resets (
            token_sha256 TEXT PRIMARY KEY,
            beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
            expires_at_ms INTEGER NOT NULL,
            used_at_ms INTEGER
        );
        ALTER TABLE partners ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
        ALTER TABLE partners ADD COLUMN latitude_microdegrees INTEGER;
        ALTER TABLE partners ADD COLUMN longitude_microdegrees INTEGER;
        """,
        // (issue 10) "Créer mon compte": an account is usable once its e-mail is confirmed (the activation link)
        // and may apply for a card once its phone is confirmed (the SMS code). Accounts made before this
        // migration (the demo's) count as confirmed. Activation links and SMS codes are kept only as SHA-256.
        // The photo's crop ("Recadrer") travels with the application.
        """
        ALTER TABLE web_accounts ADD COLUMN email_confirmed_at_ms INTEGER;
        ALTER TABLE web_accounts ADD COLUMN phone_confirmed_at_ms INTEGER;
        ALTER TABLE web_accounts ADD COLUMN activation_sent_at_ms INTEGER;
        ALTER TABLE web_accounts ADD COLUMN activation_sends_today INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE web_accounts ADD COLUMN rules_accepted_at_ms INTEGER;
        UPDATE web_accounts SET email_confirmed_at_ms = created_at_ms, phone_confirmed_at_ms = created_at_ms;
        CREATE TABLE web_activations (
            token_sha256 TEXT PRIMARY KEY,
            beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
            expires_at_ms INTEGER NOT NULL,
            used_at_ms INTEGER
        );
        CREATE INDEX web_activations_by_beneficiary ON web_activations(beneficiary_id);
        CREATE TABLE web_sms_codes (
            beneficiary_id INTEGER PRIMARY KEY REFERENCES beneficiaries(id),
            code_sha256 TEXT NOT NULL,
            phone TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            wrong_tries INTEGER NOT NULL DEFAULT 0 CHECK (wrong_tries >= 0),
            sent_at_ms INTEGER NOT NULL,
            sends_today INTEGER NOT NULL DEFAULT 1 CHECK (sends_today >= 0)
        );
        ALTER TABLE applications ADD COLUMN photo_crop TEXT;
        ALTER TABLE applications ADD COLUMN training_label TEXT;
        """,
        // (issue 11) A purchase touches as few B-tree pages as the queries allow (docs/bench.md "What a purchase writes").
        // Only online payments are listed per partner (`online.list`, `totals`): a partial index, which a
        // purchase never touches. A reversal finds its payment through its stan's record; without one (a
        // payment written outside the gateway), by (terminal, business day). A card's payments are a chain
        // from the card's row (LedgerTransaction.cardPaymentsChain) instead of an index on payments(card_id):
        // existing payments are chained in the order they were written.
        """
        ALTER TABLE cards ADD COLUMN newest_payment_txn TEXT;
        ALTER TABLE payments ADD COLUMN previous_card_payment_txn TEXT;
        UPDATE payments SET previous_card_payment_txn = chain.previous
        FROM (SELECT txn, LAG(txn) OVER (PARTITION BY card_id ORDER BY rowid) AS previous FROM payments) AS chain
        WHERE chain.txn = payments.txn AND chain.previous IS NOT NULL;
        UPDATE cards SET newest_payment_txn = (SELECT txn FROM payments p WHERE p.card_id = cards.id ORDER BY p.rowid DESC LIMIT 1);
        DROP INDEX payments_by_card;
        DROP INDEX payments_by_terminal_stan;
        DROP INDEX payments_by_partner_kind;
        CREATE INDEX payments_online_by_partner ON payments(partner_id, created_at_ms) WHERE kind = 'online';
        """,
        // (issue 11) A compact stan record: the answer is re-derived from the payment it names (a purchase's
        // txn, auth code, amount, wallet) plus the wallet's balance after it, or from its type, code and message;
        // only an answer with a body of its own (`balance`, `cancel`, `online.list`) is kept whole. The digest is
        // the SHA-256's 32 bytes; records from before keep their hex digest and whole response (read back as
        // such) until the retention forgets them. Records are appended under a time-ordered rowid, and the
        // (terminal, stan) lookup is a unique index of small entries. Neither `stans` nor `audit` keeps an index
        // by age: housekeeping forgets from the lowest rowids (LedgerTransaction.purgeStans, purgeAudit).
        """
        CREATE TABLE stans_compact (
            id INTEGER PRIMARY KEY,
            terminal_id TEXT NOT NULL,
            stan TEXT NOT NULL,
            digest BLOB,
            request_id TEXT,
            code TEXT,
            request_type TEXT,
            message TEXT,
            balance_after_cents INTEGER,
            response BLOB,
            payment_txn TEXT REFERENCES payments(txn),
            reversed INTEGER NOT NULL DEFAULT 0,
            created_at_ms INTEGER NOT NULL,
            UNIQUE (terminal_id, stan)
        );
        INSERT INTO stans_compact(terminal_id, stan, digest, response, payment_txn, reversed, created_at_ms)
            SELECT terminal_id, stan, fingerprint, response, payment_txn, reversed, created_at_ms FROM stans ORDER BY created_at_ms;
        DROP TABLE stans;
        ALTER TABLE stans_compact RENAME TO stans;
        DROP INDEX audit_by_age;
        """,
    ]
}
