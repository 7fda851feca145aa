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
    ]
}
